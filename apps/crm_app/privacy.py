"""Personal data on request (GDPR-era): export everything held about a contact, or
erase it.

Erasure replaces the person's identifying fields on the contact and removes their
e-mail and phones wherever copies were made: the customers the contact belongs to and
the leads they came from (only values equal to the contact's), call logs, messages
(sender, recipients, cc, subject, text; incoming mail kept as Unhandled Email), the
address's bounce record and the version history of those records; the
contact's own history goes. The records stay, so figures and history keep their shape.

Who may erase: erasure must reach every copy, including records the operator could
not open in the desk (another user's private call, a lead of another territory), so
it is not an ordinary edit filtered by row rules. It is a data-protection operation
reserved to System Managers and CRM Admins (checked explicitly), who must also be
allowed to delete the contact. Export stays with whoever may export contacts, and
lists only what they may read."""
import lowcode
from lowcode.context import local

from crm_app.doctype.lead.lead import normalised_phone

ERASED = "(erased)"
ERASERS = ("System Manager", "CRM Admin")


def _mentions(contact):
    values = [v for v in (contact.email_id, contact.mobile_no, contact.phone) if v]
    return values


@lowcode.whitelist()
def export_contact_data(contact: str):
    doc = lowcode.get_doc("Contact", contact)
    doc.check_permission("export")
    out = {"contact": doc.as_dict(), "activities": {}}
    values = _mentions(doc)
    for doctype, fields in (("Call Log", ["name", "phone", "started_at", "outcome", "notes"]),
                            ("Communication", ["name", "subject", "sender", "recipients", "communication_date"])):
        or_filters = [["reference_name", "=", doc.name]]
        if doctype == "Call Log":
            or_filters += [["phone", "=", v] for v in values]
        else:
            or_filters += [[field, "like", f"%{v}%"] for field in ("sender", "recipients", "cc") for v in values]
        out["activities"][doctype] = lowcode.get_list(doctype, fields=fields, or_filters=or_filters, limit_page_length=0)
    # The same leads erasure reaches (e-mail in any case, mobile however typed), as far as the user may read them.
    leads = _matching("Lead", (doc.email_id or "").strip(), _numbers(doc))
    out["leads"] = lowcode.get_list("Lead", fields=["name", "lead_name", "email_id", "mobile_no", "status"],
                                    filters=[["name", "in", leads or [""]]], limit_page_length=0)
    return out


@lowcode.whitelist(methods=["POST"])
def erase_contact_data(contact: str):
    """Erase a contact's personal data and its copies (System Manager or CRM Admin, with
    delete permission on the contact; see the module's note)."""
    lowcode.only_for(ERASERS)
    doc = lowcode.get_doc("Contact", contact)
    doc.check_permission("delete")
    email = (doc.email_id or "").strip()
    phones = sorted({v for v in (doc.mobile_no, doc.phone) if v})
    e164 = _numbers(doc)
    db = local.db
    for phone in phones:
        db.sql("UPDATE `tabCall Log` SET `phone`=%s WHERE `phone`=%s", (ERASED, phone))
    for number in e164:  # calls from the PBX keep the caller's number normalised
        for field in ("phone", "from", "to"):
            db.sql(f"UPDATE `tabCall Log` SET `{field}`=%s WHERE `{field}`=%s", (ERASED, number))
    _scrub_messages(([email] if email else []) + phones)
    if email and db.table_exists("Email Bounce"):  # the engine's record of the address bouncing
        db.sql("DELETE FROM `tabEmail Bounce` WHERE `name`=%s", (email.lower(),))
    leads = _matching("Lead", email, e164)
    # The customers the contact belongs to, and those its leads became, hold copies made
    # at conversion: only values equal to the contact's go (the organisation's own stay).
    customers = {link.link_name for link in doc.get("links") or [] if link.link_doctype == "Customer"}
    if leads:
        customers |= set(db.sql(f"SELECT `customer` FROM `tabLead` WHERE `customer` IS NOT NULL AND `name` IN "
                                f"({_marks(leads)})", leads, pluck=True))
        db.sql("UPDATE `tabLead` SET `first_name`=%s, `last_name`=NULL, `lead_name`=%s, `email_id`=NULL, "
               f"`mobile_no`=NULL, `mobile_e164`=NULL, `phone`=NULL, `phone_e164`=NULL WHERE `name` IN ({_marks(leads)})",
               [ERASED, ERASED] + list(leads))
    customers = sorted(customers)
    if customers and email:
        db.sql(f"UPDATE `tabCustomer` SET `email_id`=NULL WHERE `name` IN ({_marks(customers)}) "
               "AND LOWER(`email_id`)=%s", customers + [email.lower()])
    if customers and e164:
        db.sql(f"UPDATE `tabCustomer` SET `mobile_no`=NULL, `mobile_e164`=NULL WHERE `name` IN ({_marks(customers)}) "
               f"AND `mobile_e164` IN ({_marks(e164)})", customers + e164)
    for doctype, names in (("Lead", leads), ("Customer", customers)):
        _scrub_versions(doctype, names, email, e164)
    doc.first_name, doc.last_name = ERASED, None
    doc.email_id = doc.mobile_no = doc.phone = doc.designation = None
    doc.consent_email = doc.consent_sms = doc.consent_call = 0
    doc.is_erased = 1
    doc.save(ignore_version=True)
    # The contact's own history held the old values: it goes.
    db.sql("DELETE FROM `tabVersion` WHERE `ref_doctype`='Contact' AND `docname`=%s", (doc.name,))
    return doc.name


# Where messages keep addresses and text: sent and received mail, and incoming mail that
# could not be imported (the engine's Unhandled Email keeps the raw message).
MESSAGE_FIELDS = (("Communication", ("sender", "recipients", "cc", "subject", "content")),
                  ("Unhandled Email", ("raw", "reason")))


def _scrub_messages(values):
    """Every occurrence of the values in a message's sender, recipients, subject or text
    becomes ERASED, in any case (an address is often retyped in capitals; SQL's REPLACE
    and, on SQLite, its = are case-sensitive, so the rows are found in SQL and the text
    rewritten here)."""
    import re
    if not values:
        return
    pattern = re.compile("|".join(re.escape(v) for v in sorted(values, key=len, reverse=True)), re.I)
    likes = [f"%{v.lower()}%" for v in values]
    for doctype, fields in MESSAGE_FIELDS:
        if not local.db.table_exists(doctype):
            continue
        for field in fields:
            condition = " OR ".join([f"LOWER(`{field}`) LIKE %s"] * len(likes))
            for name, text in local.db.sql(f"SELECT `name`, `{field}` FROM `tab{doctype}` WHERE {condition}", likes):
                clean = pattern.sub(ERASED, text)
                if clean != text:
                    local.db.sql(f"UPDATE `tab{doctype}` SET `{field}`=%s WHERE `name`=%s", (clean, name))


def _scrub_versions(doctype, names, email, e164):
    """Their history recorded the same values, maybe typed differently: every value in
    a Version's data holding the e-mail (any case) or one of the numbers (however typed)
    becomes ERASED."""
    import json
    import re
    pattern = re.compile(re.escape(email), re.I) if email else None

    def scrub(value):
        if isinstance(value, list):
            return [scrub(v) for v in value]
        if isinstance(value, dict):
            return {k: scrub(v) for k, v in value.items()}
        if isinstance(value, str):
            if pattern is not None:
                value = pattern.sub(ERASED, value)
            if e164 and any(ch.isdigit() for ch in value) and normalised_phone(value) in e164:
                return ERASED
        return value

    if not names:
        return
    for version, data in local.db.sql(f"SELECT `name`, `data` FROM `tabVersion` WHERE `ref_doctype`=%s "
                                      f"AND `docname` IN ({_marks(names)})", [doctype] + list(names)):
        clean = json.dumps(scrub(json.loads(data or "{}")), ensure_ascii=False)
        if clean != data:
            local.db.sql("UPDATE `tabVersion` SET `data`=%s WHERE `name`=%s", (clean, version))


def _marks(values):
    return ", ".join(["%s"] * len(values))


def _numbers(contact):
    """The contact's mobile and phone, normalised (E.164)."""
    return sorted({normalised_phone(p) for p in (contact.mobile_no, contact.phone) if p} - {None})


def _matching(doctype, email, e164):
    """Names of records with the e-mail (any case) or one of the mobiles (normalised)."""
    conditions, values = [], []
    if email:
        conditions.append("LOWER(`email_id`)=%s")
        values.append(email.lower())
    for number in e164:
        conditions.append("`mobile_e164`=%s")
        values.append(number)
    if not conditions:
        return []
    return local.db.sql(f"SELECT `name` FROM `tab{doctype}` WHERE {' OR '.join(conditions)} ORDER BY `name`",
                        values, pluck=True)
