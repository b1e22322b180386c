"""Bounced addresses: the one place that knows whether an address still takes mail.

A delivery status notification (``multipart/report; report-type=delivery-status``, or
a mailer-daemon's message naming its failed recipients) is read for each failed
recipient's status code. A permanent failure (5.x.x) marks the address invalid in
Email Bounce, and ``sendmail`` skips it from then on, and the recipient's row of the
queued message that bounced (found by the Message-ID the report returns) shows the
error; a temporary one (4.x.x) is only counted. Clearing ``is_invalid`` on the Email
Bounce sends to it again."""
import datetime
import email
import email.utils
import re

import lowcode
from ..context import local
from ..fields import registry

STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
MESSAGE_ID = re.compile(r"<[^<>\s]+>")
DAEMONS = ("mailer-daemon", "postmaster", "mail-daemon")


def normalise(address):
    return email.utils.parseaddr(address or "")[1].strip().lower()


def is_invalid_email(address):
    """True when mail to the address failed permanently (and no one cleared the mark)."""
    address = normalise(address)
    if not address or not local.db.table_exists("Email Bounce"):
        return False
    return bool(local.db.sql("SELECT 1 FROM `tabEmail Bounce` WHERE `name`=%s AND `is_invalid`=1", (address,)))


def invalid_emails(addresses):
    """The addresses among ``addresses`` (lower-case) marked invalid, in one query (bulk sends)."""
    addresses = sorted({normalise(a) for a in addresses if a})
    if not addresses or not local.db.table_exists("Email Bounce"):
        return set()
    marks = ", ".join(["%s"] * len(addresses))
    return set(local.db.sql(f"SELECT `name` FROM `tabEmail Bounce` WHERE `name` IN ({marks}) AND `is_invalid`=1",
                            tuple(addresses), pluck=True))


def failed_recipients(msg):
    """[(address, status, reason)] of a delivery status notification, [] for any other message."""
    if msg.get_content_type() == "multipart/report" and \
            (msg.get_param("report-type") or "").lower() == "delivery-status":
        return _from_report(msg)
    sender = normalise(str(msg.get("From") or ""))
    failed = str(msg.get("X-Failed-Recipients") or "")
    if sender.split("@")[0] in DAEMONS and failed:
        body = msg.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        code = STATUS.search(text)
        status = ".".join(code.groups()) if code else "5.0.0"
        return [(normalise(a), status, " ".join(text.split())[:500])
                for a in failed.split(",") if normalise(a)]
    return []


def _from_report(msg):
    out = []
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        # Per-message fields first, then one block of fields per recipient.
        for block in part.get_payload() or ():
            recipient = block.get("Final-Recipient") or block.get("Original-Recipient")
            if not recipient:
                continue
            address = normalise(str(recipient).split(";", 1)[-1])
            action = str(block.get("Action") or "").strip().lower()
            code = STATUS.search(str(block.get("Status") or ""))
            if not address or not code or code.group(1) == "2" or action in ("delivered", "relayed", "expanded"):
                continue
            reason = " ".join(str(block.get("Diagnostic-Code") or action or "").split())[:500]
            out.append((address, ".".join(code.groups()), reason))
    return out


def original_message_id(msg):
    """The Message-ID of the message that bounced, from the copy or headers a report returns."""
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/rfc822" and isinstance(part.get_payload(), list) and part.get_payload():
            original = part.get_payload()[0]
        elif ctype == "text/rfc822-headers":
            original = email.message_from_string(part.get_content())
        else:
            continue
        found = MESSAGE_ID.search(str(original.get("Message-ID") or ""))
        if found:
            return found.group(0)
    return None


def record_all(failures, message_id=None):
    """Record each (address, status, reason) of a delivery status notification; a
    permanent failure also marks the recipient's row of the queued message that bounced."""
    for address, status, reason in failures:
        record(address, status, reason)
        if message_id and status.startswith("5") and local.db.table_exists("Email Queue"):
            local.db.sql("UPDATE `tabEmail Queue Recipient` SET `status`='Error', `error`=%s WHERE "
                         "`parenttype`='Email Queue' AND LOWER(`recipient`)=%s AND `parent` IN "
                         "(SELECT `name` FROM `tabEmail Queue` WHERE `message_id`=%s)",
                         (f"bounced {status}: {reason}"[:1000], address, message_id))


def record(address, status, reason=""):
    """One bounce of ``address``: 5.x.x marks it invalid, 4.x.x is counted only."""
    hard = status.startswith("5")
    now = datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    if local.db.exists("Email Bounce", address):
        doc = lowcode.get_doc("Email Bounce", address)
    else:
        doc = lowcode.get_doc({"doctype": "Email Bounce", "email_address": address, "hard_bounces": 0,
                               "soft_bounces": 0})
    if hard:
        doc.is_invalid = 1
        doc.hard_bounces = int(doc.hard_bounces or 0) + 1
    else:
        doc.soft_bounces = int(doc.soft_bounces or 0) + 1
    doc.last_status, doc.last_reason, doc.last_bounced_on = status, reason, now
    if doc.is_new():
        doc.insert(ignore_permissions=True)
    else:
        doc.save(ignore_permissions=True)
    return doc


def timeline(doctype, name):
    """``additional_timeline_content`` for any record with an e-mail field whose address bounced."""
    from ..meta import get_meta
    # Called by the form of a record the user reads.
    if doctype == "Email Bounce" or not local.db.table_exists("Email Bounce"):
        return []
    meta = get_meta(doctype)
    fields = [f.get("fieldname") for f in meta.fields if f.get("fieldname") == "email_id" or
              registry[f.get("fieldtype")].kind(f) == "Email"]
    if not fields:
        return []
    values = local.db.sql(f"SELECT {', '.join(f'`{f}`' for f in fields)} FROM `tab{doctype}` WHERE `name`=%s",
                          (name,))
    addresses = sorted({normalise(v) for v in (values[0] if values else ()) if v})
    if not addresses:
        return []
    marks = ", ".join(["%s"] * len(addresses))
    rows = local.db.sql(f"SELECT `name`, `last_bounced_on`, `last_status`, `last_reason` FROM `tabEmail Bounce` "
                        f"WHERE `is_invalid`=1 AND `name` IN ({marks})", addresses, as_dict=True)
    return [{"when": r["last_bounced_on"], "who": "Administrator", "kind": "Email Bounce",
             "content": lowcode._("E-mail to {0} bounced ({1}); sending to it is stopped.", r["name"],
                                  r["last_status"]),
             "url": None} for r in rows]
