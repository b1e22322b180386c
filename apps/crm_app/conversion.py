"""Lead conversion: a qualified lead becomes a customer (with a contact) and an
opportunity; every activity, note and file of the lead stays linked to it and is
also tied to the customer, so the customer's 360° view shows the history. A lead of
an organisation or person that already is a customer is never made a second customer
silently: convert_lead (the dialog of convert_page.py) refuses it until the user chooses
that customer or "create new"; a won opportunity of a lead (make_customer) joins it."""
from django.utils.translation import gettext as _

import lowcode
from lowcode.context import local
from lowcode.exceptions import BadRequest, DuplicateEntryError, PermissionError, ValidationError
from lowcode.permissions import has_permission
from lowcode.utils import now
from lowcode.workflow import apply_workflow

ACTIVITY_DOCTYPES = ("Call Log", "Event", "Task", "Note", "Communication")


def make_customer(lead):
    """The lead's customer: an existing one it already is (see find_customer), else a
    new one; the lead's person becomes a contact of it unless already one."""
    return customer_and_contact(lead)[0]


def customer_and_contact(lead, customer=None, contact=None, create_new=False):
    """(customer, contact) of the lead: ``customer`` when given, else a new customer when
    ``create_new``, else the one it already is (find_customer) or a new one; the contact
    is ``contact`` (linked to the customer if it is not yet), else the customer's contact
    with the lead's e-mail, else a new one from the lead's person."""
    customer = customer or lead.customer or (None if create_new else find_customer(lead))
    if customer is None:
        customer = lowcode.get_doc({
            "doctype": "Customer", "customer_name": lead.company_name or lead.lead_name,
            "customer_type": "Company" if lead.company_name else "Individual", "territory": lead.territory,
            "industry": lead.industry, "email_id": lead.email_id, "mobile_no": lead.mobile_no,
            "website": lead.website, "tax_id": lead.tax_id, "account_manager": lead.lead_owner, "lead": lead.name,
            "city": lead.city}).insert().name
    if contact:
        link_contact(contact, customer)
    else:
        contact = _contact_of(customer, lead) or lowcode.get_doc({
            "doctype": "Contact", "first_name": lead.first_name, "last_name": lead.last_name,
            "designation": lead.job_title, "email_id": lead.email_id, "mobile_no": lead.mobile_no,
            "phone": lead.phone, "party_type": "Customer", "consent_email": lead.consent_email,
            "consent_sms": lead.consent_sms, "consent_call": lead.consent_call,
            "links": [{"link_doctype": "Customer", "link_name": customer}]}).insert().name
    tie_history_to_customer(lead.name, customer)
    return customer, contact


def link_contact(contact, customer):
    """Make the existing ``contact`` one of the customer's, unless it is (a save: the
    user needs write permission on the contact)."""
    doc = lowcode.get_doc("Contact", contact)
    if any(l.link_doctype == "Customer" and l.link_name == customer for l in doc.get("links") or []):
        return
    doc.append("links", {"link_doctype": "Customer", "link_name": customer})
    doc.save()


def find_customer(lead):
    """The customer the lead already is: same tax id, e-mail (any case), mobile (however
    it was typed) or name (any case), checked in that order, the oldest match first."""
    from crm_app.doctype.lead.lead import normalised_phone
    keys = (("tax_id", (lead.tax_id or "").strip()), ("email_id", (lead.email_id or "").strip().lower()),
            ("mobile_e164", normalised_phone(lead.mobile_no)),
            ("customer_name", (lead.company_name or lead.lead_name or "").strip().lower()))
    for field, value in keys:
        if not value:
            continue
        found = local.db.sql(f"SELECT `name` FROM `tabCustomer` WHERE LOWER(`{field}`)=%s "
                             "ORDER BY `creation` LIMIT 1", (value.lower(),), pluck=True)
        if found:
            return found[0]
    return None


def _contact_of(customer, lead):
    """The contact of the customer with the lead's e-mail, or its name when it has none."""
    sql = ("SELECT c.`name` FROM `tabContact` c JOIN `tabDynamic Link` l ON l.`parent`=c.`name` "
           "AND l.`parenttype`='Contact' AND l.`link_doctype`='Customer' AND l.`link_name`=%s WHERE ")
    if lead.email_id:
        sql, value = sql + "LOWER(c.`email_id`)=%s", lead.email_id.strip().lower()
    else:
        sql, value = sql + "c.`email_id` IS NULL AND c.`full_name`=%s", lead.lead_name
    found = local.db.sql(sql + " LIMIT 1", (customer, value), pluck=True)
    return found[0] if found else None


def tie_history_to_customer(lead_name, customer):
    for doctype in ACTIVITY_DOCTYPES:
        local.db.sql(f"UPDATE `tab{doctype}` SET `customer`=%s WHERE `reference_doctype`='Lead' "
                     "AND `reference_name`=%s", (customer, lead_name))


@lowcode.whitelist(methods=["POST"])
def convert_lead(lead: str, customer: str = None, contact: str = None, create_new=None, opportunity_title: str = None,
                 opportunity_amount=None, expected_closing: str = None, opportunity_owner: str = None):
    """Convert a qualified lead: customer + contact + opportunity (linked to the contact,
    owned by ``opportunity_owner``, the lead owner by default); the lead moves to
    Converted through its workflow. ``customer``/``contact``: existing records to use;
    ``create_new``: a new customer although one matches. Without either, a lead that
    matches an existing customer is refused (409) naming it: a second customer is never
    made silently. Everything is decided on the stored lead; returns the names."""
    doc = lowcode.get_doc("Lead", lead)
    doc.check_permission("write")
    if doc.status != "Qualified":
        raise ValidationError(f"Lead {doc.name} is {doc.status}: qualify it before converting", field="status")
    create_new = _flag(create_new, "create_new")
    amount = _amount(opportunity_amount)
    for doctype, name, field in (("Customer", customer, "customer"), ("Contact", contact, "contact")):
        if name:
            _readable(doctype, name, field)
    if customer and create_new:
        raise ValidationError(_("Choose an existing customer or create a new one, not both"), field="customer")
    if not has_permission("Opportunity", "create"):
        raise PermissionError(_("Not permitted: create %(doctype)s") % {"doctype": "Opportunity"},
                              doctype="Opportunity")
    if not customer and not doc.customer:
        match = find_customer(doc)
        if match and not create_new:
            if not has_permission("Customer", "read", doc=lowcode.get_doc("Customer", match)):
                raise DuplicateEntryError(_("Lead %(lead)s matches a customer you may not see: ask its account "
                                            "manager") % {"lead": doc.name}, field="customer")
            shown = f"{lowcode.db.get_value('Customer', match, 'customer_name')} ({match})"
            raise DuplicateEntryError(_("Lead %(lead)s matches the existing customer %(customer)s: choose it, or "
                                        "choose to create a new customer") % {"lead": doc.name, "customer": shown},
                                      field="customer")
        if (create_new or not match) and not has_permission("Customer", "create"):
            raise PermissionError(_("Not permitted: create %(doctype)s") % {"doctype": "Customer"},
                                  doctype="Customer")
    customer, contact = customer_and_contact(doc, customer, contact, create_new)
    opportunity = lowcode.get_doc({
        "doctype": "Opportunity", "title": opportunity_title or f"{doc.company_name or doc.lead_name}",
        "opportunity_from": "Customer", "party_name": customer, "contact": contact, "lead": doc.name,
        "territory": doc.territory, "source": doc.source, "campaign": doc.campaign,
        "opportunity_owner": opportunity_owner or doc.lead_owner, "opportunity_amount": amount,
        "expected_closing": expected_closing or None}).insert()
    doc.reload()
    doc.customer, doc.opportunity, doc.converted_on = customer, opportunity.name, now()[:19]
    doc.save()
    apply_workflow(doc, "Convert")
    return {"customer": customer, "contact": contact, "opportunity": opportunity.name}


def _flag(value, field):
    if value in (None, "", 0, "0", False, "false"):
        return False
    if value in (1, "1", True, "true"):
        return True
    raise BadRequest(_("%(field)s: 1 or 0") % {"field": field}, field=field)


def _amount(value):
    """The deal amount as a number (None when empty); text that is no number is refused
    before anything is written."""
    if value in (None, ""):
        return None
    try:
        amount = float(value)
    except (TypeError, ValueError):
        raise ValidationError(_("Opportunity Amount: %(value)s is not a number") % {"value": str(value)[:40]},
                              field="opportunity_amount") from None
    if amount != amount or amount in (float("inf"), float("-inf")) or amount < 0:
        raise ValidationError(_("Opportunity Amount: a number of 0 or more"), field="opportunity_amount")
    return amount


def _readable(doctype, name, field):
    if not lowcode.db.exists(doctype, name):
        raise ValidationError(_("%(doctype)s %(name)s does not exist") % {"doctype": doctype, "name": name},
                              field=field)
    lowcode.get_doc(doctype, name).check_permission("read")
