"""Incoming e-mail, in Frappe's shape: an Email Account with ``enable_incoming`` is polled
over IMAP by the scheduler (``poll``), and providers that push raw MIME post it to
``receive_pushed`` with the account's secret token. Either way ``receive`` turns one
raw message into a received Communication on the right record:

- a reply joins its thread (In-Reply-To / References against the Message-IDs of sent
  and received Communications);
- else the apps' ``email_sender_match`` hooks find the sender (crm_app: Contact, Lead,
  Customer);
- else the account's ``append_to`` DocType gets a new record through the apps'
  ``email_append_to`` hooks (crm_app: Lead, service_app: Case).

A delivery status notification is not a conversation: it marks the failed address in
Email Bounce (``bounces.py``) instead. A message that cannot be read is kept as an
Unhandled Email with the reason.

Exactly once: each message is imported in its own transaction, which also advances the
account's ``last_uid`` (a conditional UPDATE whose row lock makes a second poller of
the same account wait and then skip the message). A crash anywhere in between rolls
both back and the next poll imports the message again; the (account, Message-ID) check
keeps a message that comes back under a new UIDVALIDITY, or pushed twice, single."""
import contextlib
import email
import email.policy
import email.utils
import hashlib
import hmac
import html
import imaplib
import logging
import re
import ssl

import lowcode
from ..apps import get_attr, get_hooks
from ..context import local
from ..exceptions import PermissionError, RequestEntityTooLarge, ValidationError
from . import stored_secrets

log = logging.getLogger(__name__)

IMAP_TIMEOUT = 20
# Messages taken per account and poll: the rest wait for the next poll.
BATCH = 200
# Larger messages are not fetched nor accepted when pushed (most providers refuse them anyway).
MAX_MESSAGE_BYTES = 30 * 1024 * 1024
RAW_KEPT = 1024 * 1024
# Labels that are often wrong: a message "in iso-8859-1" may well be Persian or Hebrew.
LATIN_LABELS = {"us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "windows-1252", "cp1252", "unknown-8bit"}
MESSAGE_IDS = re.compile(r"<[^<>\s]+>")
FALLBACKS = (("windows-1256", re.compile("[\u0600-\u06FF]")), ("iso-8859-8", re.compile("[\u0590-\u05FF]")))


class Unreadable(Exception):
    """A message that cannot be imported; the text is the reason kept on the Unhandled Email."""


# -- the account's secrets --------------------------------------------------------------------

def get_inbound_token(account):
    return stored_secrets.get_secret("Email Account", account, "inbound_token")


# -- parsing ------------------------------------------------------------------------------------

def decode_text(payload, declared=None):
    """Text from bytes whatever the label says: UTF-8 when it is valid UTF-8, else the
    declared charset unless it is a (often wrong) Latin one, else whichever of
    windows-1256 (Persian/Arabic) and iso-8859-8 (Hebrew) reads as more letters of its
    own script, else the Latin reading with replacement characters."""
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = (declared or "").lower()
    if declared and declared not in LATIN_LABELS:
        try:
            return payload.decode(declared)
        except (LookupError, UnicodeDecodeError):
            pass
    readings = []
    for charset, script in FALLBACKS:
        try:
            text = payload.decode(charset)
        except UnicodeDecodeError:
            continue
        readings.append((len(script.findall(text)), text))
    if readings and max(readings)[0]:
        return max(readings)[1]
    return payload.decode("windows-1252", errors="replace")


def _part_text(part):
    payload = part.get_payload(decode=True)
    if payload is None:  # a multipart or message/* where a leaf was expected
        return ""
    return decode_text(payload, part.get_content_charset())


def _header(msg, name):
    try:
        value = msg.get(name)
    except Exception:  # noqa: BLE001 - a header the parser cannot model is as good as absent
        return ""
    return " ".join(str(value or "").split())


def parse(raw):
    """{"message_id", "in_reply_to", "references", "subject", "sender", "sender_name",
    "to", "cc", "html", "attachments": [(filename, bytes, content_type)], "msg"}.
    Raises Unreadable when there is nothing to import."""
    if not raw or not raw.strip():
        raise Unreadable("empty message")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    sender_name, sender = email.utils.parseaddr(_header(msg, "From"))
    if "@" not in sender:
        raise Unreadable(f"no sender address in From: {_header(msg, 'From')[:200]!r}")
    body_html = body_text = None
    attachments = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        filename = part.get_filename()
        disposition = part.get_content_disposition()
        if ctype in ("text/plain", "text/html") and not filename and disposition != "attachment":
            if ctype == "text/html" and body_html is None:
                body_html = _part_text(part)
            elif ctype == "text/plain" and body_text is None:
                body_text = _part_text(part)
            continue
        content = part.get_payload(decode=True)
        if content is None or (not filename and ctype.startswith("multipart/")):
            continue
        attachments.append((filename or f"attachment{len(attachments) + 1}", content, ctype))
    if body_html is None:
        # Plain text shown as text: escaped, line breaks kept.
        body_html = html.escape(body_text or "").replace("\n", "<br>\n")
    # Message-IDs only: In-Reply-To may carry comments or several ids.
    in_reply_to = MESSAGE_IDS.findall(_header(msg, "In-Reply-To"))
    return {"message_id": _header(msg, "Message-ID") or None, "in_reply_to": in_reply_to[0] if in_reply_to else None,
            "references": MESSAGE_IDS.findall(_header(msg, "References")),
            "subject": _header(msg, "Subject") or "(no subject)", "sender": sender.lower(),
            "sender_name": sender_name, "to": _header(msg, "To"),
            "cc": _header(msg, "Cc"), "html": body_html, "attachments": attachments, "msg": msg}


# -- importing one message ----------------------------------------------------------------------

def receive(account, raw, uid=None):
    """Import one raw message for ``account`` (a name or document) in the current
    transaction, advancing the account's ``last_uid`` to ``uid`` when given. Returns the
    Communication's name, or None (a bounce, a message kept as Unhandled Email, or one
    already imported). The caller commits."""
    account = account if not isinstance(account, str) else lowcode.get_doc("Email Account", account)
    local.db.begin()
    if uid is not None:
        # Claimed first: the row lock serialises pollers of this account, and a message
        # another poller took in the meantime is left alone.
        claimed = local.db.sql_cursor("UPDATE `tabEmail Account` SET `last_uid`=%s WHERE `name`=%s AND "
                                      "COALESCE(`last_uid`, 0)<%s", (uid, account.name, uid)).rowcount
        if not claimed:
            return None
        account.last_uid = uid
    from . import bounces
    try:
        parsed = parse(raw)
        failures = bounces.failed_recipients(parsed["msg"])
    except Unreadable as e:
        return _unhandled(account, uid, raw, str(e))
    except Exception as e:  # noqa: BLE001 - mail the parser cannot model fails the same way every time
        return _unhandled(account, uid, raw, f"cannot be parsed: {type(e).__name__}: {e}")
    if failures:
        bounces.record_all(failures, bounces.original_message_id(parsed["msg"]))
        return None
    # Without a Message-ID the message's own digest stands in, so it is still one message.
    message_id = parsed["message_id"] or f"<{hashlib.sha256(raw).hexdigest()}@{account.name}>"
    if local.db.sql("SELECT 1 FROM `tabCommunication` WHERE `email_account`=%s AND `message_id`=%s LIMIT 1",
                    (account.name, message_id[:255])):
        return None
    local.db.savepoint("email_in")
    try:
        name = _import(account, parsed, message_id, uid)
    except ValidationError as e:
        # An app refused the record it was asked for (a Lead's own rules, say): the
        # message is kept with the reason rather than retried at every poll.
        local.db.rollback_to_savepoint("email_in")
        where = f" (field {e.field})" if e.field else ""
        return _unhandled(account, uid, raw, f"{type(e).__name__}{where}: {e}")
    local.db.release_savepoint("email_in")
    return name


def _import(account, parsed, message_id, uid):
    reference = thread_reference(parsed) or sender_reference(parsed["sender"]) or append_to(account, parsed)
    attachments, dropped = _sort_attachments(account, parsed["attachments"])
    comm = lowcode.get_doc({
        "doctype": "Communication", "communication_medium": "Email", "sent_or_received": "Received",
        "status": "Open", "subject": parsed["subject"][:140], "sender": parsed["sender"],
        "recipients": parsed["to"], "cc": parsed["cc"], "content": parsed["html"] + dropped,  # sanitised by Text Editor
        "email_account": account.name, "message_id": message_id[:255],
        "in_reply_to": (parsed["in_reply_to"] or "")[:255] or None, "uid": uid,
        "reference_doctype": reference[0] if reference else None,
        "reference_name": reference[1] if reference else None,
        "customer": reference[2] if reference and len(reference) > 2 else None})
    comm.flags.ignore_links = True  # a thread's record may have been deleted since
    comm.insert(ignore_permissions=True)
    _save_attachments(comm, attachments)
    # Last, so nothing can fail after it: open desks of the record (or of the unassigned
    # mail) hear of it once the message is committed; names only, each reads it with
    # their own permissions.
    from ..realtime import publish_realtime
    publish_realtime("new_communication", {"communication": comm.name, "reference_doctype": comm.reference_doctype,
                                           "reference_name": comm.reference_name},
                     doctype=comm.reference_doctype or "Communication", docname=comm.reference_name)
    return comm.name


def _unhandled(account, uid, raw, reason):
    text = raw[:RAW_KEPT].decode("utf-8", errors="replace") if raw else ""
    match = re.search(r"^Message-ID:\s*(\S+)", text, re.I | re.M)
    lowcode.get_doc({"doctype": "Unhandled Email", "email_account": account.name, "uid": uid,
                     "message_id": match.group(1)[:255] if match else None, "reason": reason[:1000],
                     "raw": text}).insert(ignore_permissions=True)
    log.warning("e-mail %s uid %s not imported: %s", account.name, uid, reason)
    return None


def _sort_attachments(account, attachments):
    """(kept, notes): attachments over the account's limit or of a type the site refuses
    are dropped, each with the reason written under the message (imported all the same)."""
    from ..api.files import check_upload, safe_name
    limit = int(account.attachment_limit or 10) * 1024 * 1024
    kept, dropped = [], []
    for filename, content, ctype in attachments:
        if len(content) > limit:
            dropped.append(f"{filename}: {len(content)} bytes, over the {limit} allowed")
            continue
        try:
            check_upload(safe_name(filename), len(content))
        except ValidationError as e:
            dropped.append(f"{filename}: {e}")
            continue
        kept.append((filename, content, ctype))
    if not dropped:
        return kept, ""
    items = "".join(f"<li>{html.escape(d)}</li>" for d in dropped)
    return kept, f"<hr><p>{html.escape(lowcode._('Attachments dropped'))}:</p><ul>{items}</ul>"


def _save_attachments(comm, attachments):
    """Private Files linked to the Communication, never shown inline (api/files.py)."""
    from ..api.files import save_file
    for filename, content, _ctype in attachments:
        with _as_system():
            save_file(filename, content, private=True, attached_to_doctype="Communication",
                      attached_to_name=comm.name)


@contextlib.contextmanager
def _as_system():
    """The import is the system's act, also when a guest's push started it."""
    user = local.user
    lowcode.set_user("Administrator")
    try:
        yield
    finally:
        lowcode.set_user(user)


# -- where a message belongs ----------------------------------------------------------------------

def thread_reference(parsed):
    """(doctype, name, customer) of the Communication this one replies to, if any."""
    ids = [i for i in [parsed["in_reply_to"], *reversed(parsed["references"])] if i][:20]
    if not ids:
        return None
    marks = ", ".join(["%s"] * len(ids))
    rows = local.db.sql(f"SELECT `reference_doctype`, `reference_name`, `customer` FROM `tabCommunication` "
                        f"WHERE `message_id` IN ({marks}) AND `reference_name` IS NOT NULL "
                        f"ORDER BY `creation` DESC LIMIT 1", ids)
    return tuple(rows[0]) if rows else None


def sender_reference(address):
    """The first answer of the apps' ``email_sender_match`` hooks: fn(address) ->
    (doctype, name, customer) or None."""
    for path in get_hooks("email_sender_match", []):
        found = get_attr(path)(address)
        if found:
            return found
    return None


def append_to(account, parsed):
    """A new record of the account's ``append_to`` DocType for an unknown sender, made by
    the app that knows it (``email_append_to = {doctype: fn(parsed) -> (doctype, name, customer)}``)."""
    from ..meta import doctype_exists
    doctype = account.append_to
    makers = get_hooks("email_append_to", {}).get(doctype) if doctype else None
    if not makers or not doctype_exists(doctype):
        return None
    maker = makers[-1] if isinstance(makers, list) else makers
    return get_attr(maker)(parsed)


# -- polling ----------------------------------------------------------------------------------------

def imap_connection(account):
    host = account.email_server
    ssl_on = int(account.use_ssl_for_incoming or 0)
    port = int(account.incoming_port or (993 if ssl_on else 143))
    if ssl_on:
        conn = imaplib.IMAP4_SSL(host, port, ssl_context=ssl.create_default_context(), timeout=IMAP_TIMEOUT)
    else:
        conn = imaplib.IMAP4(host, port, timeout=IMAP_TIMEOUT)
        if int(account.use_starttls or 0):
            conn.starttls(ssl_context=ssl.create_default_context())
    from .email import get_password
    conn.login(account.login_id or account.email_id, get_password(account.name) or "")
    return conn


def _new_uids(conn, account):
    """UIDs above the last imported one; a new UIDVALIDITY starts the folder over."""
    folder = account.imap_folder or "INBOX"
    typ, data = conn.select(_quote(folder), readonly=True)
    if typ != "OK":
        raise imaplib.IMAP4.error(f"cannot open folder {folder!r}: {data}")
    validity = (conn.untagged_responses.get("UIDVALIDITY") or [b""])[-1]
    validity = validity.decode() if isinstance(validity, bytes) else str(validity)
    if validity != (account.uidvalidity or ""):
        local.db.sql("UPDATE `tabEmail Account` SET `uidvalidity`=%s, `last_uid`=0 WHERE `name`=%s",
                     (validity, account.name))
        account.uidvalidity, account.last_uid = validity, 0
    last = int(account.last_uid or 0)
    typ, data = conn.uid("SEARCH", None, f"UID {last + 1}:*")
    # "n:*" also matches the highest UID when it is below n.
    return sorted(u for u in (int(x) for x in (data[0] or b"").split()) if u > last)[:BATCH]


def _quote(folder):
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _fetch(conn, uid):
    typ, data = conn.uid("FETCH", str(uid), "(RFC822.SIZE)")
    size = re.search(rb"RFC822\.SIZE (\d+)", data[0] if data and isinstance(data[0], bytes) else b"")
    if size and int(size.group(1)) > MAX_MESSAGE_BYTES:
        return None
    typ, data = conn.uid("FETCH", str(uid), "(BODY.PEEK[])")
    for item in data or ():
        if isinstance(item, tuple):
            return item[1]
    raise imaplib.IMAP4.error(f"message uid {uid} came back empty: {typ}")


def poll_account(name):
    """Import what is new in one account's folder. Never raises: a failure is written
    on the account's status and the next poll tries again from the same message."""
    from . import status as channel_status
    account = lowcode.get_doc("Email Account", name)
    imported, conn = 0, None
    try:
        conn = imap_connection(account)
        uids = _new_uids(conn, account)
        local.db.commit()
        for uid in uids:
            raw = _fetch(conn, uid)
            if raw is None:
                receive_failed = f"message over {MAX_MESSAGE_BYTES} bytes"
                local.db.sql("UPDATE `tabEmail Account` SET `last_uid`=%s WHERE `name`=%s AND "
                             "COALESCE(`last_uid`, 0)<%s", (uid, account.name, uid))
                _unhandled(account, uid, b"", receive_failed)
            elif receive(account, raw, uid=uid):
                imported += 1
            local.db.commit()
    except Exception as e:  # noqa: BLE001 - one account's failure must not stop the others
        local.db.rollback()
        error = f"{type(e).__name__}: {e}"
        log.warning("polling e-mail account %s failed: %s", name, error)
        channel_status.mark_failing(account, error, source="IMAP")
        local.db.commit()
        return {"imported": imported, "error": error}
    finally:
        if conn is not None:
            try:
                conn.logout()
            except (imaplib.IMAP4.error, OSError):
                pass
    channel_status.mark_ok(account, source="IMAP")
    local.db.commit()
    return {"imported": imported}


def poll():
    """Scheduler: every enabled incoming account, each on its own."""
    names = local.db.sql("SELECT `name` FROM `tabEmail Account` WHERE `enable_incoming`=1 ORDER BY `name`",
                         pluck=True)
    return {name: poll_account(name) for name in names}


# -- pushed messages ------------------------------------------------------------------------------

@lowcode.whitelist(allow_guest=True, methods=["POST"])
def receive_pushed(account=None, token=None, **_):
    """A provider's push (guest, POST): the raw MIME message as the request body,
    ``?account=<Email Account>&token=<its inbound token>``. A wrong token or account is
    403 (the same answer for both), a body over MAX_MESSAGE_BYTES is 413."""
    from ..exceptions import BadRequest
    rows = local.db.sql("SELECT `name` FROM `tabEmail Account` WHERE `name`=%s AND `enable_incoming`=1",
                        (account or "",))
    expected = get_inbound_token(rows[0][0]) if rows else None
    if not expected or not hmac.compare_digest(str(token or "").encode(), expected.encode()):
        raise PermissionError("invalid account or inbound token")
    request = local.request
    if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_MESSAGE_BYTES:
        raise RequestEntityTooLarge(f"body: the message is larger than {MAX_MESSAGE_BYTES} bytes", field="body")
    raw = request.body
    if not raw.strip():
        raise BadRequest("the request body must be the raw message", field="body")
    name = receive(rows[0][0], raw)
    return {"communication": name}

