"""Secrets of channel settings (SMS gateway API keys, SMTP passwords, webhook signing
secrets): the one place they are kept, in ``tabAuth`` beside user passwords, never in
the document, whose field only holds ``MASK`` (as Frappe's Password fields hold
asterisks), so no API read or form returns them.

Unlike login passwords these must be read back to call the gateway, so they cannot be
hashed: they are encrypted with Fernet under the site's ``encryption_key`` (kept in
``site_config.json`` as Frappe keeps it, made at new-site or on first use), so a
database dump or backup alone does not give them away."""
import fcntl
import os

from cryptography.fernet import Fernet, InvalidToken

from ..context import local
from ..exceptions import ValidationError
from ..sites import read_json, write_json

MASK = "*" * 8
# Every Fernet token starts with its version byte 0x80, base64 "gAAAAA".
_TOKEN_PREFIX = "gAAAAA"


def store_secret(doctype, name, fieldname, value):
    """Keep ``value`` as the secret; an empty value removes it."""
    db = local.db
    db.sql("DELETE FROM `tabAuth` WHERE `doctype`=%s AND `name`=%s AND `fieldname`=%s", (doctype, name, fieldname))
    if value:
        token = _fernet().encrypt(str(value).encode()).decode()
        db.sql("INSERT INTO `tabAuth` (`doctype`, `name`, `fieldname`, `password`) VALUES (%s, %s, %s, %s)",
               (doctype, name, fieldname, token))


def get_secret(doctype, name, fieldname):
    rows = local.db.sql("SELECT `password` FROM `tabAuth` WHERE `doctype`=%s AND `name`=%s AND `fieldname`=%s",
                        (doctype, name, fieldname))
    if not rows or not rows[0][0]:
        return None
    stored = rows[0][0]
    if not stored.startswith(_TOKEN_PREFIX):
        # Kept before secrets were encrypted: readable as is, encrypted on the next save.
        return stored
    try:
        return _fernet().decrypt(stored.encode()).decode()
    except InvalidToken:
        raise ValidationError(f"The stored {fieldname} of {doctype} {name} cannot be decrypted: the site's "
                              "encryption_key in site_config.json is not the one it was saved with; "
                              "restore that key or enter the secret again", field=fieldname) from None


def encryption_key():
    """The site's key, made and written to its site_config.json the first time it is needed."""
    key = local.conf.get("encryption_key")
    if key:
        return key
    path = os.path.join(local.site_path, "site_config.json")
    # Locked, so two processes never each make a key and one of them encrypts with the loser.
    with open(path + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        conf = read_json(path)
        if not conf.get("encryption_key"):
            conf["encryption_key"] = Fernet.generate_key().decode()
            write_json(path, conf)
    local.conf["encryption_key"] = conf["encryption_key"]
    return conf["encryption_key"]


def _fernet():
    return Fernet(encryption_key().encode())
