"""Outgoing e-mail, in Frappe's shape: ``sendmail`` builds the MIME message (HTML, right
to left for Persian and Hebrew, a plain-text alternative, Message-ID and thread headers,
attachments) and puts it in the Email Queue; a background job sends it through the
account's SMTP server. A failed attempt is written in the queue row's log and retried
later with back-off (the scheduler's ``flush``), so a down server never loses a message
nor blocks the request that sent it. Each account has a rate limit per minute."""
import datetime
import email.policy
import email.utils
import re
import smtplib
import ssl
from email.message import EmailMessage
from html.parser import HTMLParser

from django.utils.translation import gettext as _

import lowcode

from ..context import local
from ..exceptions import ValidationError
from . import status as channel_status
from . import stored_secrets
from .bounces import is_invalid_email

MAX_RETRIES = 5
# Most providers refuse larger messages; refusing here tells the sender now, not the log later.
MAX_ATTACHMENTS_BYTES = 25 * 1024 * 1024
SMTP_TIMEOUT = 20
# Minutes to wait after the n-th failed attempt (then the last value again).
BACKOFF_MINUTES = (1, 5, 15, 60, 240)
ADDRESS = re.compile(r"^[^@\s<>()\[\]:;,\"]+@[^@\s<>()\[\]:;,\"]+$")
RTL_SCRIPTS = {"he": re.compile("[\u0590-\u05FF]"), "fa": re.compile("[\u0600-\u06FF\u0750-\u077F\uFB50-\uFDFF\uFE70-\uFEFF]")}


# -- the account and its secret ------------------------------------------------------------

def store_password(account, password):
    """The SMTP password lives in tabAuth (lowcode/channels/stored_secrets.py), never in the document."""
    stored_secrets.store_secret("Email Account", account, "password", password)


def get_password(account):
    return stored_secrets.get_secret("Email Account", account, "password")


def outgoing_account(name=None):
    """The named account, else the sending user's own outgoing account, else the shared default."""
    if name:
        rows = local.db.sql("SELECT `name`, `user` FROM `tabEmail Account` WHERE `name`=%s AND `enable_outgoing`=1",
                            (name,))
        if not rows:
            raise ValidationError(f"email_account: {name!r} is not an enabled outgoing account", field="email_account")
        if rows[0][1] and rows[0][1] != local.user and local.user != "Administrator":
            from ..exceptions import PermissionError
            raise PermissionError(f"email_account: {name!r} is another user's own account", doctype="Email Account")
        return rows[0][0]
    rows = local.db.sql("SELECT `name` FROM `tabEmail Account` WHERE `enable_outgoing`=1 AND `user`=%s "
                        "ORDER BY `default_outgoing` DESC, `name` LIMIT 1", (local.user,))
    rows = rows or local.db.sql("SELECT `name` FROM `tabEmail Account` WHERE `enable_outgoing`=1 "
                                "AND `default_outgoing`=1 AND (`user` IS NULL OR `user`='') LIMIT 1")
    if not rows:
        raise ValidationError("no outgoing Email Account is set up", field="email_account")
    return rows[0][0]


# -- building the message -------------------------------------------------------------------

def content_language(text):
    """'fa' or 'he' when the text is written in that script (whichever has more letters), else None."""
    counts = {lang: len(rx.findall(text or "")) for lang, rx in RTL_SCRIPTS.items()}
    lang = max(counts, key=counts.get)
    return lang if counts[lang] else None


class _Text(HTMLParser):
    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def html_to_text(markup):
    parser = _Text()
    parser.feed(markup or "")
    parser.close()
    text = "".join(parser.parts)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def html_document(body, lang):
    direction = ' dir="rtl"' if lang in ("fa", "he") else ""
    lang_attr = f' lang="{lang}"' if lang else ""
    return (f'<!DOCTYPE html>\n<html{lang_attr}{direction}><head><meta charset="utf-8"></head>'
            f'<body{direction}>{body}</body></html>\n')


def _addresses(value, field):
    if not value:
        return []
    if isinstance(value, str) and "\r" in value:  # a header line break is never part of a list
        raise ValidationError(f"{field}: line breaks are not allowed", field=field)
    items = value if isinstance(value, (list, tuple)) else re.split(r"[,;\n]", value)
    out = []
    for item in items:
        item = (item or "").strip()
        if not item:
            continue
        address = email.utils.parseaddr(item)[1]
        if not ADDRESS.match(address) or any(c in item for c in "\r\n\0"):
            raise ValidationError(f"{field}: {item!r} is not an e-mail address", field=field)
        out.append(item)
    return out


HEADER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,76}$")
# Headers sendmail itself writes: a caller's extra headers may not replace them.
OWN_HEADERS = {"from", "to", "cc", "bcc", "subject", "date", "message-id", "in-reply-to", "references",
               "content-type", "content-transfer-encoding", "content-language", "mime-version"}


def _extra_headers(headers):
    """A caller's extra headers, checked: plain names, one-line values."""
    out = {}
    for name, value in (headers or {}).items():
        value = str(value)
        if not HEADER_NAME.match(str(name)) or str(name).lower() in OWN_HEADERS:
            raise ValidationError(f"headers: {name!r} cannot be set", field="headers")
        if any(c in value for c in "\r\n\0"):
            raise ValidationError(f"headers: {name}: line breaks are not allowed", field="headers")
        out[str(name)] = value
    return out


def _thread_headers(in_reply_to):
    """References for a reply: the earlier message's own References plus its Message-ID."""
    if not in_reply_to:
        return None, None
    parent = in_reply_to.strip()
    if not parent.startswith("<"):
        parent = f"<{parent}>"
    rows = local.db.sql("SELECT `message` FROM `tabEmail Queue` WHERE `message_id`=%s LIMIT 1", (parent,))
    earlier = ""
    if rows and rows[0][0]:
        import email as email_pkg
        earlier = email_pkg.message_from_string(rows[0][0]).get("References", "") or ""
    return parent, " ".join(x for x in (earlier.strip(), parent) if x)


def build_message(sender, recipients, subject, body_html, cc=(), attachments=(), message_id=None,
                  in_reply_to=None, references=None, signature=None, headers=None):
    """An EmailMessage: text/plain and text/html alternatives, then the attachments.

    ``attachments``: [{"fname": name, "fcontent": bytes or str, "content_type": optional}].
    ``headers``: extra headers {name: value} (bulk mail's List-Unsubscribe, RFC 2369/8058)."""
    lang = content_language(f"{subject} {html_to_text(body_html)}")
    if signature:
        body_html = f"{body_html}<br>{signature}"
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Subject"] = " ".join((subject or "").split())
    msg["Date"] = email.utils.formatdate(localtime=True)
    msg["Message-ID"] = message_id or email.utils.make_msgid(domain=sender.rsplit("@", 1)[-1].strip(">"))
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = references or in_reply_to
    for name, value in (headers or {}).items():
        msg[name] = value
    # Non-ASCII parts are encoded here (base64, as the stored string needs 7-bit text):
    # left as 8bit, as_string() would deep-copy the whole message to re-encode them.
    text, html = html_to_text(body_html), html_document(body_html, lang)
    msg.set_content(text, cte=None if text.isascii() else "base64")
    msg.add_alternative(html, subtype="html", cte=None if html.isascii() else "base64")
    for item in attachments or ():
        content = item.get("fcontent") or b""
        if isinstance(content, str):
            content = content.encode()
        maintype, _, subtype = (item.get("content_type") or _guess_type(item["fname"])).partition("/")
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=item["fname"])
    if lang:  # last: building the parts moves Content-* headers into the first part
        msg["Content-Language"] = lang
    return msg


def _guess_type(fname):
    import mimetypes
    return mimetypes.guess_type(fname)[0] or "application/octet-stream"


# -- queueing -----------------------------------------------------------------------------------

def sendmail(recipients, subject=None, message=None, reference_doctype=None, reference_name=None, cc=None,
             bcc=None, attachments=None, template=None, email_account=None, in_reply_to=None, now=False,
             delayed=False, headers=None, idempotency_key=None):
    """Queue one e-mail and send it after the commit; returns the Email Queue document.
    ``delayed`` (as Frappe's): leave it to the scheduler's ``flush`` instead of a job per
    message, for bulk sends (a campaign, the benchmark), which flush sends in batches.

    ``template`` names an Email Template rendered (in the sandbox) for the reference
    document, giving subject and message when they are not given. A Communication is
    recorded on the reference's timeline when the Communication DocType is installed.

    Nothing is queued (None) under Frappe's ``mute_emails`` flag: a Data Import told not to
    send e-mails.

    Queued from a background job, the message gets an ``idempotency_key`` (the job's id and
    what is sent, jobs.idempotency_key), kept unique in the queue and making its Message-ID:
    the job run again after its worker died returns the message already queued instead of
    queueing it twice."""
    from ..document import get_doc
    from ..jobs import enqueue
    if local.flags.get("mute_emails"):
        return None
    to = _addresses(recipients, "recipients")
    cc, bcc = _addresses(cc, "cc"), _addresses(bcc, "bcc")
    if not to:
        raise ValidationError("recipients: at least one address is needed", field="recipients")
    if template:
        from ..printing import render_email_template
        reference = (reference_doctype, reference_name) if reference_doctype and reference_name else None
        t_subject, t_message = render_email_template(template, reference)
        subject, message = subject or t_subject, message or t_message
    if not subject:
        raise ValidationError("subject: a subject is needed", field="subject")
    size = sum(len(a.get("fcontent") or b"") for a in attachments or ())
    if size > MAX_ATTACHMENTS_BYTES:
        raise ValidationError(f"attachments: {size} bytes, more than the {MAX_ATTACHMENTS_BYTES} allowed",
                              field="attachments")
    headers = _extra_headers(headers)
    if idempotency_key is None and local.flags.get("job_id"):
        from ..jobs import idempotency_key as job_key
        idempotency_key = job_key("email", reference_doctype, reference_name, to, cc, bcc, subject)
    if idempotency_key:
        queued = local.db.sql("SELECT `name` FROM `tabEmail Queue` WHERE `idempotency_key`=%s",
                              (idempotency_key,), pluck=True)
        if queued:
            return get_doc("Email Queue", queued[0])
    account = get_doc("Email Account", outgoing_account(email_account))
    parent, references = _thread_headers(in_reply_to)
    msg = build_message(account.email_id, to, subject, message or "", cc=cc, attachments=attachments,
                        in_reply_to=parent, references=references, signature=account.signature,
                        headers=headers, message_id=_message_id(idempotency_key, account.email_id))
    communication = _record_communication(account.email_id, to, cc, subject, message, reference_doctype,
                                          reference_name, message_id=msg["Message-ID"], email_account=account.name)
    # Addresses that bounced for good are skipped (bounces.py), recorded on their row.
    recipients = []
    for a in to + cc + bcc:
        address = email.utils.parseaddr(a)[1]
        invalid = is_invalid_email(address)
        recipients.append({"recipient": address, "status": "Skipped" if invalid else "Not Sent",
                           "error": "the address bounced: marked invalid in Email Bounce" if invalid else None})
    skipped_all = all(r["status"] == "Skipped" for r in recipients)
    queue = get_doc({"doctype": "Email Queue", "email_account": account.name, "sender": account.email_id,
                     "subject": msg["Subject"], "message_id": msg["Message-ID"], "message": msg.as_string(),
                     "reference_doctype": reference_doctype, "reference_name": reference_name,
                     "communication": communication, "status": "Cancelled" if skipped_all else "Not Sent",
                     "recipients": recipients, "idempotency_key": idempotency_key})
    if skipped_all:
        _log(queue, "not sent: every recipient is marked invalid (bounced)")
    queue.insert(ignore_permissions=True)
    if skipped_all:
        return queue
    if now:
        send_queued(queue.name)
    elif not delayed:
        enqueue("lowcode.channels.email.send_queued", queue="short", name=queue.name)
    return queue


def _message_id(idempotency_key, sender):
    """The same Message-ID for the same key (None: build_message makes a new one)."""
    if not idempotency_key:
        return None
    return f"<{idempotency_key}@{email.utils.parseaddr(sender)[1].rsplit('@', 1)[-1]}>"


def _record_communication(sender, to, cc, subject, content, reference_doctype, reference_name, message_id=None,
                          email_account=None):
    from ..meta import doctype_exists
    if not doctype_exists("Communication"):
        return None
    from ..document import get_doc
    # The Message-ID is what a reply names in In-Reply-To: it threads the answer (email_in.py).
    comm = get_doc({"doctype": "Communication", "communication_medium": "Email", "sent_or_received": "Sent",
                    "subject": subject, "sender": sender, "recipients": ", ".join(to), "cc": ", ".join(cc),
                    "content": content, "reference_doctype": reference_doctype, "reference_name": reference_name,
                    "message_id": message_id, "email_account": email_account})
    comm.insert(ignore_permissions=True)
    return comm.name


# -- sending ------------------------------------------------------------------------------------

def _now():
    return datetime.datetime.now()


def _fmt(moment):
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def over_rate_limit(account):
    limit = int(account.send_limit_per_minute or 0)
    if limit <= 0:
        return False
    since = _fmt(_now() - datetime.timedelta(minutes=1))
    sent = local.db.sql("SELECT COUNT(*) FROM `tabEmail Queue` WHERE `email_account`=%s AND `status`='Sent' "
                        "AND `modified`>=%s", (account.name, since))[0][0]
    return sent >= limit


def smtp_connection(account):
    host, port = account.smtp_server, int(account.smtp_port or (465 if account.use_ssl else 587))
    if int(account.use_ssl or 0):
        server = smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT, context=ssl.create_default_context())
    else:
        server = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT)
        if int(account.use_tls or 0):
            server.starttls(context=ssl.create_default_context())
    password = get_password(account.name)
    if password:
        server.login(account.login_id or account.email_id, password)
    return server


class Batch:
    """What one ``flush`` shares between its messages: each account loaded once, one SMTP
    connection per account (a connection per message cost more than the sending), and
    the accounts whose server could not be reached, whose other messages then wait for
    the next flush instead of each waiting for the same timeout."""

    def __init__(self):
        self.accounts, self.servers, self.down, self.ok = {}, {}, {}, set()

    def account(self, name):
        from ..document import get_doc
        if name not in self.accounts:
            self.accounts[name] = get_doc("Email Account", name)
        return self.accounts[name]

    def send(self, account, sender, recipients, data):
        server = self.servers.get(account.name)
        if server is not None:
            try:
                return server.sendmail(sender, recipients, data)
            except smtplib.SMTPServerDisconnected:  # closed while idle: once more on a fresh one
                self.servers.pop(account.name, None)
        try:
            server = self.servers[account.name] = smtp_connection(account)
        except Exception as e:
            self.down[account.name] = e
            raise
        return server.sendmail(sender, recipients, data)

    def drop(self, account):
        _quit(self.servers.pop(account, None))

    def close(self):
        for name in list(self.servers):
            self.drop(name)


def _quit(server):
    if server is not None:
        try:
            server.quit()
        except (smtplib.SMTPException, OSError):
            pass


def send_queued(name, batch=None):
    """Send one queued message, once. Never raises: a failure is logged on the row and
    the message waits for the next attempt (``flush``), at most MAX_RETRIES times."""
    from ..document import get_doc
    own = batch is None
    batch = batch or Batch()
    # Claimed by one conditional UPDATE: its row lock (held to the commit) makes a second
    # worker on the same message wait, then find it no longer "Not Sent".
    claimed = local.db.sql_cursor("UPDATE `tabEmail Queue` SET `status`='Sending' WHERE `name`=%s "
                                  "AND `status`='Not Sent'", (name,)).rowcount
    if not claimed:
        rows = local.db.sql("SELECT `status` FROM `tabEmail Queue` WHERE `name`=%s", (name,))
        return rows[0][0] if rows else None
    queue = get_doc("Email Queue", name)
    queue.status = "Not Sent"  # until the server has taken it
    account = batch.account(queue.email_account)
    if over_rate_limit(account):
        queue.send_after = _fmt(_now() + datetime.timedelta(minutes=1))
        _log(queue, "rate limit reached: waits for the next minute")
        _store(queue, [])
        return queue.status
    pending = [r for r in queue.recipients if r.status not in ("Sent", "Skipped")]
    try:
        refused = batch.send(account, email.utils.parseaddr(account.email_id)[1], [r.recipient for r in pending],
                             queue.message.encode("utf-8") if isinstance(queue.message, str) else queue.message)
    except Exception as e:  # noqa: BLE001 - any failure is an attempt logged and retried, never a crash loop
        batch.drop(account.name)  # in an unknown state now
        queue.retry = int(queue.retry or 0) + 1
        error = f"{type(e).__name__}: {e}"
        queue.error = error
        if queue.retry >= MAX_RETRIES:
            queue.status = "Error"
            _log(queue, f"attempt {queue.retry} failed, giving up: {error}")
        else:
            wait = BACKOFF_MINUTES[min(queue.retry, len(BACKOFF_MINUTES)) - 1]
            queue.send_after = _fmt(_now() + datetime.timedelta(minutes=wait))
            _log(queue, f"attempt {queue.retry} failed, next in {wait} min: {error}")
        _store(queue, [])
        channel_status.mark_failing(account, error, waiting=waiting_count(account.name), source="SMTP")
        batch.ok.discard(account.name)
        return queue.status
    finally:
        if own:
            batch.close()
    for r in pending:
        r.status = "Error" if r.recipient in refused else "Sent"
        r.error = str(refused.get(r.recipient)) if r.recipient in refused else None
    queue.status = "Partially Sent" if refused else "Sent"
    queue.error = None
    _log(queue, "sent" if not refused else f"sent; refused: {', '.join(refused)}")
    _store(queue, pending)
    if account.name not in batch.ok:
        channel_status.mark_ok(account, source="SMTP")
        batch.ok.add(account.name)
    return queue.status


def _store(queue, recipients):
    """The attempt's outcome, as plain UPDATEs: bookkeeping of the sender, not an edit (no
    version, no link checks: the record the message is about may have gone since, and
    failing here after the server took the message would send it again)."""
    db = local.db
    db.sql("UPDATE `tabEmail Queue` SET `status`=%s, `error`=%s, `retry`=%s, `send_after`=%s, `attempt_log`=%s, "
           "`modified`=%s WHERE `name`=%s", (queue.status, queue.error, int(queue.retry or 0), queue.send_after,
                                            queue.attempt_log, _fmt(_now()), queue.name))
    for r in recipients:
        db.sql("UPDATE `tabEmail Queue Recipient` SET `status`=%s, `error`=%s WHERE `name`=%s",
               (r.status, r.error, r.name))


def waiting_count(account):
    """Messages of the account still to be sent (shown on the account while it fails)."""
    return local.db.sql("SELECT COUNT(*) FROM `tabEmail Queue` WHERE `email_account`=%s AND `status`='Not Sent'",
                        (account,))[0][0]


def _log(queue, line):
    queue.attempt_log = f"{queue.attempt_log or ''}{_fmt(_now())} {line}\n"[-20000:]


def flush():
    """Scheduler: send what is due (queued and not waiting for a back-off or the rate limit),
    at most 500 messages, one connection per account. Messages of an account whose server
    could not be reached in this run stay queued, not counted as attempts."""
    due = local.db.sql("SELECT `name`, `email_account` FROM `tabEmail Queue` WHERE `status`='Not Sent' AND "
                       "(`send_after` IS NULL OR `send_after`<=%s) ORDER BY `creation` LIMIT 500", (_fmt(_now()),))
    batch, done = Batch(), {}
    try:
        for name, account in due:
            if account not in batch.down:
                done[name] = send_queued(name, batch)
    finally:
        batch.close()
    return done


# -- the admin's actions on a queued message (form actions of Email Queue) ----------------------

@lowcode.whitelist(methods=["POST"])
def retry_now(name):
    """"Retry now": a message not sent yet (or given up on) is due again, with its retries
    counted afresh, and a job sends it after this request's commit."""
    return _admin_action(name, "retry", "UPDATE `tabEmail Queue` SET `status`='Not Sent', `send_after`=NULL, "
                         "`retry`=0 WHERE `name`=%s AND `status` IN ('Not Sent', 'Error')")


@lowcode.whitelist(methods=["POST"])
def cancel(name):
    """"Cancel": a message not sent yet is never sent."""
    return _admin_action(name, "cancel", "UPDATE `tabEmail Queue` SET `status`='Cancelled' WHERE `name`=%s "
                         "AND `status` IN ('Not Sent', 'Error')")


def _admin_action(name, action, update):
    from ..document import get_doc
    from ..jobs import enqueue
    lowcode.only_for("System Manager")
    if not isinstance(name, str) or not local.db.exists("Email Queue", name):
        raise ValidationError(f"name: no Email Queue {name!r}", field="name")
    # One conditional UPDATE decides on the stored row: a worker sending it meanwhile
    # ("Sending") or a message already sent is left alone.
    if not local.db.sql_cursor(update, (name,)).rowcount:
        stored = local.db.get_value("Email Queue", name, "status")
        raise ValidationError(_("Only a message not sent yet can be changed; this one is %(status)s")
                              % {"status": _(stored)}, field="status")
    queue = get_doc("Email Queue", name)
    _log(queue, f"{action} by {local.user}")
    _store(queue, [])
    account = get_doc("Email Account", queue.email_account)
    channel_status.set_waiting(account, waiting_count(account.name))
    if action == "retry":
        enqueue("lowcode.channels.email.send_queued", queue="short", name=name)
    return {"name": name, "status": queue.status}


def timeline(doctype, name):
    """``additional_timeline_content`` items: the Communications about a record the user may read."""
    from ..meta import doctype_exists
    from ..query import get_list
    from ..utils import route_for
    from ..permissions import has_permission
    # Every form calls this: a user who may not read Communications just sees none.
    if doctype == "Communication" or not doctype_exists("Communication") or not has_permission("Communication"):
        return []
    rows = get_list("Communication", fields=["name", "owner", "communication_date", "subject", "sender"],
                    filters={"reference_doctype": doctype, "reference_name": name},
                    order_by="communication_date desc", limit_page_length=200)
    return [{"when": r["communication_date"], "who": r["owner"], "kind": "Communication",
             "content": " · ".join(x for x in (r["subject"], r["sender"]) if x),
             "url": f"/app/{route_for('Communication')}/{r['name']}"} for r in rows]
