"""Personal data on request (GDPR-era): export everything held about a contact, or
erase it. Erasure replaces the person's identifying fields and removes their
e-mail and phone from activities that mention them; the records stay, so figures
and history keep their shape."""
import lowcode
from lowcode.context import local

ERASED = "(erased)"


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
            or_filters += [["sender", "like", f"%{v}%"] for v in values] + [["recipients", "like", f"%{v}%"] for v in values]
        out["activities"][doctype] = lowcode.get_list(doctype, fields=fields, or_filters=or_filters, limit_page_length=0)
    out["leads"] = lowcode.get_list("Lead", fields=["name", "lead_name", "email_id", "mobile_no", "status"],
                                    or_filters=[["email_id", "=", v] for v in values] +
                                    [["mobile_no", "=", v] for v in values] or [["name", "=", ""]],
                                    limit_page_length=0)
    return out


@lowcode.whitelist(methods=["POST"])
def erase_contact_data(contact: str):
    """Erase a contact's personal data (needs delete permission on the contact)."""
    doc = lowcode.get_doc("Contact", contact)
    doc.check_permission("delete")
    values = _mentions(doc)
    for v in values:
        local.db.sql("UPDATE `tabCall Log` SET `phone`=%s WHERE `phone`=%s", (ERASED, v))
        local.db.sql("UPDATE `tabCommunication` SET `sender`=%s WHERE `sender`=%s", (ERASED, v))
        local.db.sql("UPDATE `tabCommunication` SET `recipients`=REPLACE(`recipients`, %s, %s) "
                     "WHERE `recipients` LIKE %s", (v, ERASED, f"%{v}%"))
        leads = local.db.sql("SELECT `name` FROM `tabLead` WHERE `email_id`=%s OR `mobile_no`=%s", (v, v), pluck=True)
        for lead in leads:
            local.db.sql("UPDATE `tabLead` SET `first_name`=%s, `last_name`=NULL, `lead_name`=%s, `email_id`=NULL, "
                         "`mobile_no`=NULL, `mobile_e164`=NULL, `phone`=NULL WHERE `name`=%s", (ERASED, ERASED, lead))
            # The lead's history held the same values.
            local.db.sql("DELETE FROM `tabVersion` WHERE `ref_doctype`='Lead' AND `docname`=%s", (lead,))
    doc.first_name, doc.last_name = ERASED, None
    doc.email_id = doc.mobile_no = doc.phone = doc.designation = None
    doc.consent_email = doc.consent_sms = doc.consent_call = 0
    doc.is_erased = 1
    doc.flags.ignore_version = True
    doc.save(ignore_version=True)
    # The version history held the old values: it goes too.
    local.db.sql("DELETE FROM `tabVersion` WHERE `ref_doctype`='Contact' AND `docname`=%s", (doc.name,))
    return doc.name
