"""Lead conversion: a qualified lead becomes a customer (with a contact) and an
opportunity; every activity, note and file of the lead stays linked to it and is
also tied to the customer, so the customer's 360° view shows the history. A lead of
an organisation or person that already is a customer joins that customer instead of
making a second one."""
import lowcode
from lowcode.context import local
from lowcode.exceptions import ValidationError
from lowcode.utils import now
from lowcode.workflow import apply_workflow

ACTIVITY_DOCTYPES = ("Call Log", "Event", "Task", "Note", "Communication")


def make_customer(lead):
    """The lead's customer: an existing one it already is (see find_customer), else a
    new one; the lead's person becomes a contact of it unless already one."""
    if lead.customer:
        return lead.customer
    customer = find_customer(lead)
    if customer is None:
        customer = lowcode.get_doc({
            "doctype": "Customer", "customer_name": lead.company_name or lead.lead_name,
            "customer_type": "Company" if lead.company_name else "Individual", "territory": lead.territory,
            "industry": lead.industry, "email_id": lead.email_id, "mobile_no": lead.mobile_no,
            "website": lead.website, "tax_id": lead.tax_id, "account_manager": lead.lead_owner, "lead": lead.name,
            "city": lead.city}).insert().name
    if not _is_contact_of(customer, lead):
        lowcode.get_doc({"doctype": "Contact", "first_name": lead.first_name, "last_name": lead.last_name,
                         "designation": lead.job_title, "email_id": lead.email_id, "mobile_no": lead.mobile_no,
                         "phone": lead.phone, "party_type": "Customer", "consent_email": lead.consent_email,
                         "consent_sms": lead.consent_sms, "consent_call": lead.consent_call,
                         "links": [{"link_doctype": "Customer", "link_name": customer}]}).insert()
    tie_history_to_customer(lead.name, customer)
    return customer


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


def _is_contact_of(customer, lead):
    """A contact of the customer with the lead's e-mail, or its name when it has none."""
    sql = ("SELECT c.`name` FROM `tabContact` c JOIN `tabDynamic Link` l ON l.`parent`=c.`name` "
           "AND l.`parenttype`='Contact' AND l.`link_doctype`='Customer' AND l.`link_name`=%s WHERE ")
    if lead.email_id:
        sql, value = sql + "LOWER(c.`email_id`)=%s", lead.email_id.strip().lower()
    else:
        sql, value = sql + "c.`email_id` IS NULL AND c.`full_name`=%s", lead.lead_name
    return bool(local.db.sql(sql + " LIMIT 1", (customer, value)))


def tie_history_to_customer(lead_name, customer):
    for doctype in ACTIVITY_DOCTYPES:
        local.db.sql(f"UPDATE `tab{doctype}` SET `customer`=%s WHERE `reference_doctype`='Lead' "
                     "AND `reference_name`=%s", (customer, lead_name))


@lowcode.whitelist(methods=["POST"])
def convert_lead(lead: str, opportunity_title: str = None, opportunity_amount=None,
                 expected_closing: str = None):
    """Convert a qualified lead: customer + contact + opportunity; the lead moves to
    Converted through its workflow. Returns the new names."""
    doc = lowcode.get_doc("Lead", lead)
    doc.check_permission("write")
    if doc.status != "Qualified":
        raise ValidationError(f"Lead {doc.name} is {doc.status}: qualify it before converting", field="status")
    customer = make_customer(doc)
    opportunity = lowcode.get_doc({
        "doctype": "Opportunity", "title": opportunity_title or f"{doc.company_name or doc.lead_name}",
        "opportunity_from": "Customer", "party_name": customer, "lead": doc.name, "territory": doc.territory,
        "source": doc.source, "campaign": doc.campaign, "opportunity_owner": doc.lead_owner,
        "opportunity_amount": opportunity_amount, "expected_closing": expected_closing}).insert()
    doc.reload()
    doc.customer, doc.opportunity, doc.converted_on = customer, opportunity.name, now()[:19]
    doc.save()
    apply_workflow(doc, "Convert")
    return {"customer": customer, "opportunity": opportunity.name}
