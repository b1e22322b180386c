"""Webhooks (Frappe's shape): on a document event, send the document to another system.

The request is built when the event happens (the document as it is then), and sent by
a background job after the commit (lowcode.jobs), so a slow or dead receiver never
holds up the user's request and a rolled-back change is never announced. The job
tries ``TRIES`` times with growing pauses and writes a Webhook Request Log per attempt.

The secret that signs bodies (HMAC-SHA256, base64, in ``X-Frappe-Webhook-Signature``
as Frappe sends it) lives in ``tabAuth`` beside password hashes, never in the document:
the API, lists and exports only ever see a mask.

Targets must be http(s) on public addresses: a webhook is a request the server makes
on an admin's say-so, and must not reach the server's own network (SSRF). The site
config ``allow_private_webhook_targets`` lifts that for intranet set-ups and tests.
"""
import base64
import datetime
import hashlib
import hmac
import json
import socket
import time
from urllib.parse import urlencode, urlsplit

from django.utils.translation import gettext as _

import lowcode
from ..caches import cached_map, forget_map
from ..context import local
from ..exceptions import DoesNotExistError, LowcodeError, ValidationError
from ..urls import is_web_url
from . import status as channel_status
from . import stored_secrets

EVENTS = ("after_insert", "on_update", "on_submit", "on_cancel", "on_trash", "on_update_after_submit", "on_change")
SIGNATURE_HEADER = "X-Frappe-Webhook-Signature"
# The same value on every attempt and resend of one event's request (even when the job that
# saved the document runs again after its worker died): a receiver acts on it once.
IDEMPOTENCY_HEADER = "Idempotency-Key"
SECRET_FIELD = "webhook_secret"
MASK = "*****"
TRIES = 3
# After the job's TRIES, the scheduler tries again after these minutes (a round each).
RETRY_MINUTES = (1, 5, 15, 60, 240)
ROUNDS = len(RETRY_MINUTES) + 1
TIMEOUT = (5, 15)          # connect, read (seconds)
KEEP_RESPONSE = 2000       # characters of the receiver's answer kept in the log
_CACHE_KEY = "webhooks:enabled"
# Never announced: the log itself (a webhook on it would feed on its own deliveries).
_SKIP = {"Webhook Request Log", "Failed Job"}
# Header names whose values the log hides.
_SECRET_HEADER_WORDS = ("authorization", "token", "secret", "key", "signature", "cookie", "password")


# -- the secret -----------------------------------------------------------------------------

def store_secret(name, secret):
    stored_secrets.store_secret("Webhook", name, SECRET_FIELD, secret)


def get_secret(name):
    return stored_secrets.get_secret("Webhook", name, SECRET_FIELD)


def sign(secret, body):
    """Frappe's signature: base64 of the HMAC-SHA256 of the body bytes."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


# -- where requests may go ------------------------------------------------------------------

def check_target(url, field="request_url"):
    """ValidationError unless ``url`` is http(s) and every address its host resolves to
    is public (or the site allows private targets)."""
    if not is_web_url(url):
        raise ValidationError(_("Request URL: must be an http:// or https:// address"), field=field)
    if local.conf.get("allow_private_webhook_targets"):
        return
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise ValidationError(_("Request URL: the host %(host)s cannot be found") % {"host": host}, field=field)
    from .public_http import is_public
    for info in infos:
        if not is_public(info[4][0]):
            raise ValidationError(_("Request URL: %(host)s is a private or local address; webhooks go to public "
                                    "addresses only") % {"host": host}, field=field)


# -- on a document event ---------------------------------------------------------------------

def _enabled_webhooks():
    """{"doctype|event": [webhook names]}, cached until a Webhook changes."""
    return cached_map(_CACHE_KEY, _load_webhooks)


def _load_webhooks():
    found = {}
    if local.db.table_exists("Webhook"):
        for name, doctype, event in local.db.sql(
                "SELECT `name`, `webhook_doctype`, `webhook_docevent` FROM `tabWebhook` WHERE `enabled`=1"):
            found.setdefault(f"{doctype}|{event}", []).append(name)
    return found


def clear_cache():
    """A Webhook changed."""
    forget_map(_CACHE_KEY)


def run_webhooks(doc, method, *args):
    """doc_events handler for every DocType: queue the webhooks set for this event."""
    if doc.doctype in _SKIP or getattr(doc.meta, "istable", False):
        return
    names = _enabled_webhooks().get(f"{doc.doctype}|{method}")
    for name in names or []:
        try:
            webhook = lowcode.get_doc("Webhook", name)
        except DoesNotExistError:  # removed by another process whose cache drop we have not seen
            continue
        try:
            if webhook.condition and not _condition_holds(webhook, doc):
                continue
            request = build_request(webhook, doc)
        except LowcodeError as e:  # a broken template or condition must not stop the user's save
            _log(webhook.name, doc.doctype, doc.name, 0, webhook.request_url, {}, "", error=str(e))
            continue
        from ..jobs import idempotency_key
        lowcode.enqueue("lowcode.channels.webhooks.deliver", queue="short", job_name=f"Webhook {name}",
                        webhook=name, reference_doctype=doc.doctype, reference_document=doc.name,
                        idempotency_key=idempotency_key("webhook", name, doc.doctype, doc.name, method), **request)


def _condition_holds(webhook, doc):
    from ..expressions import evaluate
    return evaluate("eval:" + webhook.condition, doc)


def build_request(webhook, doc):
    """{url, method, headers, body} for ``doc``: the chosen fields, or the Jinja body."""
    headers = _headers(webhook)
    if webhook.request_structure == "Form URL-Encoded":
        data = {row.key: _plain(doc.get(row.fieldname)) for row in webhook.get("webhook_data") or []}
        body = urlencode(data)
    else:
        if webhook.webhook_json:
            from ..printing import Record, render
            text = render(webhook.webhook_json, {"doc": Record(doc.as_dict())}, autoescape=False)
            try:
                data = json.loads(text)
            except ValueError as e:
                raise ValidationError(_("JSON Request Body: the rendered body is not JSON: %(error)s")
                                      % {"error": e}, field="webhook_json")
        else:
            data = {row.key: doc.get(row.fieldname) for row in webhook.get("webhook_data") or []}
        body = json.dumps(data, default=str)
    return {"url": webhook.request_url, "http_method": webhook.request_method or "POST", "headers": headers,
            "body": body}


def _headers(webhook):
    headers = {row.key: row.value or "" for row in webhook.get("webhook_headers") or [] if row.key}
    headers.setdefault("Content-Type", "application/x-www-form-urlencoded"
                       if webhook.request_structure == "Form URL-Encoded" else "application/json")
    return headers


def _plain(value):
    return "" if value is None else str(value)


# -- delivery (a background job) --------------------------------------------------------------

def deliver(webhook, url, http_method, headers, body, reference_doctype=None, reference_document=None, tries=TRIES,
            first_attempt=1, idempotency_key=None):
    """Send the request, up to ``tries`` times with growing pauses; a log row per attempt.
    When the receiver still fails in a way worth retrying (no answer, 5xx, 408, 429), the
    last log gets a ``retry_after`` time and the scheduler sends it again then
    (``retry_due``), ``ROUNDS`` times at most: nothing is lost to an outage of a few hours.
    Returns the last log's name.

    A request whose ``idempotency_key`` was already answered 2xx is not sent again (the
    job that queued it ran twice); it is sent with the key in ``Idempotency-Key``."""
    if idempotency_key:
        done = local.db.sql("SELECT `name` FROM `tabWebhook Request Log` WHERE `idempotency_key`=%s "
                            "AND `status_code` BETWEEN 200 AND 299 LIMIT 1", (idempotency_key,), pluck=True)
        if done:
            return done[0]
        headers = {**headers, IDEMPOTENCY_HEADER: idempotency_key}
    pause = float(local.conf.get("webhook_retry_seconds", 2))
    log = None
    for attempt in range(first_attempt, first_attempt + tries):
        log, ok, retry = _attempt(webhook, url, http_method, headers, body, reference_doctype,
                                  reference_document, attempt)
        local.db.commit()  # each attempt's log stays, whatever happens to the next
        if ok or not retry:
            break
        if attempt < first_attempt + tries - 1:
            time.sleep(pause * 2 ** (attempt - first_attempt))
    rounds = -(-attempt // TRIES)
    if not ok and retry and tries == TRIES and rounds < ROUNDS:
        wait = RETRY_MINUTES[min(rounds, len(RETRY_MINUTES)) - 1]
        when = datetime.datetime.now() + datetime.timedelta(minutes=wait)
        local.db.sql("UPDATE `tabWebhook Request Log` SET `retry_after`=%s WHERE `name`=%s",
                     (when.strftime("%Y-%m-%d %H:%M:%S"), log))
    _show_status(webhook, ok, log)
    return log


def retry_due(now=None):
    """The scheduler's minute job: send again the requests whose ``retry_after`` has come,
    each claimed by one conditional UPDATE (a second scheduler finds it taken). Only for
    enabled webhooks; the headers are the webhook's own now (the log keeps them masked)."""
    stamp = (now or datetime.datetime.now()).strftime("%Y-%m-%d %H:%M:%S")
    due = local.db.sql("SELECT l.`name`, l.`webhook`, l.`url`, l.`data`, l.`attempt`, l.`reference_doctype`, "
                       "l.`reference_document`, l.`idempotency_key` FROM `tabWebhook Request Log` l "
                       "JOIN `tabWebhook` w ON w.`name`=l.`webhook` WHERE w.`enabled`=1 AND l.`retry_after` IS NOT NULL "
                       "AND l.`retry_after`<=%s ORDER BY l.`creation` LIMIT 500", (stamp,), as_dict=True)
    for row in due:
        if not local.db.sql_cursor("UPDATE `tabWebhook Request Log` SET `retry_after`=NULL WHERE `name`=%s "
                                   "AND `retry_after` IS NOT NULL", (row["name"],)).rowcount:
            continue
        hook = lowcode.get_doc("Webhook", row["webhook"])
        lowcode.enqueue("lowcode.channels.webhooks.deliver", queue="short", job_name=f"Webhook {hook.name}",
                        webhook=hook.name, url=row["url"], http_method=hook.request_method or "POST",
                        headers=_headers(hook), body=row["data"] or "", reference_doctype=row["reference_doctype"],
                        reference_document=row["reference_document"], first_attempt=int(row["attempt"] or 0) + 1,
                        idempotency_key=row["idempotency_key"])
    return len(due)


def waiting_count(webhook):
    """Requests of the webhook waiting for a later retry."""
    return local.db.sql("SELECT COUNT(*) FROM `tabWebhook Request Log` WHERE `webhook`=%s "
                        "AND `retry_after` IS NOT NULL", (webhook,))[0][0]


def _show_status(webhook, ok, log):
    """The Webhook shows Failing while its deliveries fail (channels/status.py)."""
    doc = lowcode.get_doc("Webhook", webhook) if lowcode.db.exists("Webhook", webhook) else None
    if doc is None:
        return
    if ok:
        channel_status.mark_ok(doc)
    else:
        channel_status.mark_failing(doc, lowcode.db.get_value("Webhook Request Log", log, "error") or "",
                                    waiting=waiting_count(webhook))
    local.db.commit()


def _attempt(webhook, url, method, headers, body, reference_doctype, reference_document, attempt):
    import requests
    from .public_http import public_session, refused_as_private
    payload = body.encode()
    sent = dict(headers)
    secret = get_secret(webhook) if lowcode.db.get_value("Webhook", webhook, "enable_security") else None
    if secret:
        sent[SIGNATURE_HEADER] = sign(secret, payload)
    try:
        check_target(url)  # again at send time: the name may resolve elsewhere now
    except ValidationError as e:
        return _log(webhook, reference_doctype, reference_document, attempt, url, sent, body, error=str(e)), False, False
    # The address is checked again on the socket itself (DNS rebinding), see public_http.
    http = requests if local.conf.get("allow_private_webhook_targets") else public_session()
    try:
        response = http.request(method, url, data=payload, headers=sent, timeout=TIMEOUT, allow_redirects=False)
    except requests.RequestException as e:
        private = refused_as_private(e)
        error = _("Request URL: %(reason)s; webhooks go to public addresses only") % {"reason": private} \
            if private else f"{type(e).__name__}: {e}"
        return _log(webhook, reference_doctype, reference_document, attempt, url, sent, body, error=error), \
            False, not private
    ok = 200 <= response.status_code < 300
    error = None if ok else _("The receiver answered %(status)s") % {"status": response.status_code}
    name = _log(webhook, reference_doctype, reference_document, attempt, url, sent, body,
                status_code=response.status_code, response=response.text[:KEEP_RESPONSE], error=error)
    # 4xx means the receiver refuses this request: sending it again will not help (but 408/429 may).
    retry = not ok and (response.status_code >= 500 or response.status_code in (408, 429))
    return name, ok, retry


def _log(webhook, reference_doctype, reference_document, attempt, url, headers, body, status_code=None,
         response=None, error=None):
    shown = {k: (MASK if any(w in k.lower() for w in _SECRET_HEADER_WORDS) else v) for k, v in headers.items()}
    doc = lowcode.get_doc({"doctype": "Webhook Request Log", "webhook": webhook, "reference_doctype": reference_doctype,
                           "reference_document": reference_document, "attempt": attempt, "url": url,
                           "idempotency_key": headers.get(IDEMPOTENCY_HEADER),
                           "headers": json.dumps(shown, indent=1), "data": body, "status_code": status_code,
                           "response": response, "error": error})
    doc.insert(ignore_permissions=True, ignore_links=True)
    return doc.name


def prune_request_logs(days=30):
    """Daily: drop request logs older than ``days`` (Frappe keeps them 30 days too)."""
    import datetime
    cutoff = (datetime.datetime.now() - datetime.timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S")
    local.db.sql("DELETE FROM `tabWebhook Request Log` WHERE `creation` < %s", (cutoff,))


@lowcode.whitelist(methods=["POST"])
def send_test(webhook):
    """The form's "Send test": one attempt now with the latest document of the DocType
    (or an empty one); returns the log to open."""
    lowcode.only_for("System Manager")
    hook = lowcode.get_doc("Webhook", webhook)
    hook.check_permission("write")
    latest = local.db.sql(f"SELECT `name` FROM `tab{hook.webhook_doctype}` ORDER BY `modified` DESC LIMIT 1",
                          pluck=True) if local.db.table_exists(hook.webhook_doctype) else []
    doc = lowcode.get_doc(hook.webhook_doctype, latest[0]) if latest else lowcode.new_doc(hook.webhook_doctype)
    request = build_request(hook, doc)
    log = deliver(hook.name, reference_doctype=doc.doctype, reference_document=doc.name, tries=1, **request)
    return {"log": log}
