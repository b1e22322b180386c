"""The one way a case comes into being, whatever the channel: the desk's form (through
Case's controller), the customer portal, the web form, and later e-mail, SMS and calls
all call ``create_case``, so routing, SLAs and notifications treat them alike."""
import lowcode
from lowcode.context import local

CHANNELS = ("Phone", "E-mail", "Portal", "Walk-in", "SMS", "Web Form")


def customer_of_contact(contact):
    rows = local.db.sql("SELECT `link_name` FROM `tabDynamic Link` WHERE `parenttype`='Contact' AND `parent`=%s "
                        "AND `link_doctype`='Customer' ORDER BY `idx` LIMIT 1", (contact,))
    return rows[0][0] if rows else None


def contact_by_email(email):
    if not email:
        return None
    rows = local.db.sql("SELECT `name` FROM `tabContact` WHERE `email_id`=%s ORDER BY `creation` LIMIT 1",
                        (email.strip().lower(),))
    return rows[0][0] if rows else None


def create_case(subject, channel="Phone", description=None, customer=None, contact=None, raised_by=None,
                ignore_permissions=False, **values):
    """A new case from any channel; returns the inserted document. The contact is found
    from the sender's e-mail when not given, and the customer from the contact."""
    if channel not in CHANNELS:
        raise lowcode.ValidationError(f"unknown channel {channel!r}: one of {', '.join(CHANNELS)}", field="channel")
    contact = contact or contact_by_email(raised_by)
    customer = customer or (customer_of_contact(contact) if contact else None)
    doc = lowcode.get_doc(dict(values, doctype="Case", subject=subject, channel=channel, description=description,
                               customer=customer, contact=contact, raised_by=raised_by))
    doc.insert(ignore_permissions=ignore_permissions)
    return doc


def case_from_email(parsed):
    """The e-mail-in hook ``email_append_to`` for Case: an e-mail from an unknown
    sender (or one not in any thread) opens a case, the message as its description."""
    case = create_case(parsed["subject"][:140], channel="E-mail", description=parsed["html"],
                       raised_by=parsed["sender"], ignore_permissions=True)
    return "Case", case.name, case.customer
