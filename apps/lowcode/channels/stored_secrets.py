"""Secrets of channel settings (SMS gateway API keys, SMTP passwords, webhook signing
secrets): the one place they are kept, in ``tabAuth`` beside
user passwords, never in the document, whose field only holds ``MASK`` (as Frappe's
Password fields hold asterisks), so no API read or form returns them. Unlike login
passwords these must be read back to call the gateway, so they are stored as given."""
from ..context import local

MASK = "*" * 8


def store_secret(doctype, name, fieldname, value):
    """Keep ``value`` as the secret; an empty value removes it."""
    db = local.db
    db.sql("DELETE FROM `tabAuth` WHERE `doctype`=%s AND `name`=%s AND `fieldname`=%s", (doctype, name, fieldname))
    if value:
        db.sql("INSERT INTO `tabAuth` (`doctype`, `name`, `fieldname`, `password`) VALUES (%s, %s, %s, %s)",
               (doctype, name, fieldname, value))


def get_secret(doctype, name, fieldname):
    rows = local.db.sql("SELECT `password` FROM `tabAuth` WHERE `doctype`=%s AND `name`=%s AND `fieldname`=%s",
                        (doctype, name, fieldname))
    return rows[0][0] if rows else None
