"""Incoming e-mail meets the CRM (engine side: lowcode/channels/email_in.py): who a
sender is (Contact, then Lead, then Customer, by e-mail address), and a new Lead for
an unknown sender when an Email Account appends to Lead."""
import lowcode
from lowcode.context import local

from crm_app.activities import linked_customer


def match_sender(address):
    """(doctype, name, customer) of the record the address belongs to, or None."""
    address = (address or "").strip().lower()
    if not address:
        return None
    for doctype in ("Contact", "Lead", "Customer"):
        rows = local.db.sql(f"SELECT `name` FROM `tab{doctype}` WHERE LOWER(`email_id`)=%s "
                            f"ORDER BY `creation` LIMIT 1", (address,))
        if rows:
            return doctype, rows[0][0], linked_customer(doctype, rows[0][0])
    return None


def lead_from_email(parsed):
    """A Lead for the sender of an e-mail nobody knows yet."""
    name = (parsed.get("sender_name") or "").strip() or parsed["sender"].split("@")[0]
    first, _, last = name.partition(" ")
    lead = lowcode.get_doc({"doctype": "Lead", "first_name": first[:140], "last_name": last[:140] or None,
                            "email_id": parsed["sender"]})
    lead.insert(ignore_permissions=True)
    return "Lead", lead.name, None
