"""SMS out through any HTTP gateway (SMS Settings, Frappe's shape), one SMS Log per
message and receiver, and delivery reports back from the gateway.

``send_sms`` only writes SMS Logs and enqueues their sending: the job runs after the
request's commit (RQ, or in-process without Redis), so a slow or failing gateway never
blocks the request. A gateway answering 5xx, or not answering in time, leaves the log
Queued with a later ``next_attempt`` (back-off); the scheduler retries due logs every
minute until ``MAX_ATTEMPTS``. A 4xx is final (the gateway refused the message).
"""
import datetime
import hmac
import json
import logging

import phonenumbers
import requests

import lowcode

from ..context import local
from ..exceptions import PermissionError, ValidationError
from ..jobs import enqueue
from . import status as channel_status

log = logging.getLogger("lowcode.sms")

MAX_ATTEMPTS = 5
BACKOFF_SECONDS = 60          # 1, 2, 4, 8 minutes between attempts
TIMEOUT_SECONDS = 10
DEFAULT_REGION = "IR"

# GSM 03.38: the default alphabet (1 septet each) and its extension table (2 septets:
# escape + character). Anything else needs UCS-2 (Persian, Hebrew, emoji).
GSM7_BASIC = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
                 "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXTENSION = set("^{}\\[~]|€\f")


def count_parts(message):
    """(encoding, parts) as a phone counts them: GSM-7 160 characters in one part, 153 per
    part when split; UCS-2 70, split 67 (in UTF-16 units, so an emoji takes two)."""
    message = message or ""
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in message):
        length = sum(2 if c in GSM7_EXTENSION else 1 for c in message)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        length = len(message.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    if length <= single:
        return encoding, 1
    return encoding, -(-length // multi)


def normalise_number(raw, region=None):
    """The number in E.164 (+989121234567), or None when it is not a valid phone number.
    Numbers without a country code are read in the site's ``sms_default_region`` (IR)."""
    region = region or local.conf.get("sms_default_region") or DEFAULT_REGION
    try:
        number = phonenumbers.parse(str(raw or "").strip(), region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def send_sms(receivers, message, reference=None):
    """Queue ``message`` to each receiver (a list or a comma-separated string) and return
    the SMS Log names. ``reference``: (doctype, name) of the record it is sent from.
    Invalid numbers are a 417 naming ``receivers``; numbers whose record refused SMS
    (the ``sms_opt_out`` hooks) get a Skipped log and are not sent."""
    from ..apps import get_attr, get_hooks
    from ..document import get_doc
    if isinstance(receivers, str):
        receivers = [r for r in receivers.replace(";", ",").split(",") if r.strip()]
    if not (message or "").strip():
        raise ValidationError("message: the message is empty", field="message")
    numbers, invalid = [], []
    for raw in receivers or []:
        number = normalise_number(raw)
        (numbers.append(number) if number else invalid.append(str(raw)))
    if invalid:
        raise ValidationError(f"receivers: not a phone number: {', '.join(invalid)}", field="receivers")
    if not numbers:
        raise ValidationError("receivers: no receiver given", field="receivers")
    numbers = list(dict.fromkeys(numbers))
    refused = set()
    for path in get_hooks("sms_opt_out", []):
        refused |= set(get_attr(path)(numbers) or ())
    encoding, parts = count_parts(message)
    ref_doctype, ref_name = reference if reference else (None, None)
    names = []
    for number in numbers:
        skipped = number in refused
        entry = get_doc({"doctype": "SMS Log", "receiver": number, "message": message, "parts": parts,
                         "encoding": encoding, "status": "Skipped" if skipped else "Queued", "attempts": 0,
                         "reference_doctype": ref_doctype, "reference_name": ref_name, "sent_by": local.user,
                         "error": "The receiver refused SMS (opt-out)" if skipped else None})
        entry.insert(ignore_permissions=True)
        names.append(entry.name)
        if not skipped:
            enqueue("lowcode.channels.sms.deliver", queue="short", log_name=entry.name)
    return names


def deliver(log_name):
    """Send one queued SMS Log to the gateway (the job). Row-locked, so two workers never
    send the same message twice."""
    lock = " FOR UPDATE" if local.db.db_type == "mariadb" else ""
    rows = local.db.sql("SELECT `name`, `status`, `receiver`, `message`, `attempts` FROM `tabSMS Log` "
                        f"WHERE `name`=%s{lock}", (log_name,), as_dict=True)
    if not rows or rows[0]["status"] != "Queued":
        return
    row = rows[0]
    attempts = int(row["attempts"] or 0) + 1
    now = datetime.datetime.now()
    changes = {"attempts": attempts, "next_attempt": None}
    settings = lowcode.get_doc("SMS Settings")
    try:
        changes["gateway_message_id"] = _call_gateway(settings, row["receiver"], row["message"])
        changes.update(status="Sent", error=None)
    except GatewayError as e:
        if e.retry and attempts < MAX_ATTEMPTS:
            wait = BACKOFF_SECONDS * 2 ** (attempts - 1)
            changes.update(status="Queued", error=str(e),
                           next_attempt=(now + datetime.timedelta(seconds=wait)).strftime("%Y-%m-%d %H:%M:%S"))
        else:
            changes.update(status="Failed", error=str(e))
        log.warning("SMS %s: attempt %s failed: %s", log_name, attempts, e)
        _update_log(log_name, changes)
        if e.account_failure:
            channel_status.mark_failing(settings, str(e), waiting=waiting_count())
        return
    _update_log(log_name, changes)
    channel_status.mark_ok(settings)


def waiting_count():
    return local.db.sql("SELECT COUNT(*) FROM `tabSMS Log` WHERE `status`='Queued'")[0][0]


def retry_due(now=None):
    """The scheduler's minute job: send again the queued messages whose back-off ended."""
    stamp = (now or datetime.datetime.now()).strftime("%Y-%m-%d %H:%M:%S")
    for (name,) in local.db.sql("SELECT `name` FROM `tabSMS Log` WHERE `status`='Queued' "
                                "AND `next_attempt` IS NOT NULL AND `next_attempt`<=%s ORDER BY `creation` LIMIT 500",
                                (stamp,)):
        enqueue("lowcode.channels.sms.deliver", queue="short", log_name=name)


def _update_log(name, changes):
    # Bookkeeping of the job, not an edit: a plain UPDATE, so an admin viewing the log
    # never meets a stale-write error and no version is written per attempt.
    changes = dict(changes, modified=datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S.%f"))
    assignments = ", ".join(f"`{field}`=%s" for field in changes)
    local.db.sql(f"UPDATE `tabSMS Log` SET {assignments} WHERE `name`=%s", (*changes.values(), name))


class GatewayError(Exception):
    """``retry``: worth sending again later. ``account_failure``: the gateway itself (or our
    access to it) fails, not this one message, so SMS Settings show Failing."""
    def __init__(self, message, retry, account_failure=None):
        super().__init__(message)
        self.retry = retry
        self.account_failure = retry if account_failure is None else account_failure


def _call_gateway(settings, number, message):
    """One HTTP request as SMS Settings describe it; the gateway's message id (or None)."""
    from .doctype.sms_settings.sms_settings import api_key
    if not settings.sms_gateway_url:
        raise GatewayError("SMS Settings: no gateway URL", retry=False, account_failure=True)
    key = api_key() or ""
    receiver = _format_number(number, settings.number_format)
    headers, params = {}, {}
    for row in settings.get("parameters") or []:
        value = (row.value or "").replace("{api_key}", key)
        if int(row.header or 0):
            headers[row.parameter] = value
        else:
            params[row.parameter] = value
    params[settings.message_parameter or "message"] = message
    params[settings.receiver_parameter or "receiver"] = [receiver] if int(settings.receiver_as_list or 0) else receiver
    url = settings.sms_gateway_url.strip().replace("{api_key}", key)
    try:
        if not int(settings.use_post or 0):
            response = requests.get(url, params=params, headers=headers, timeout=TIMEOUT_SECONDS)
        elif int(settings.use_json or 0):
            response = requests.post(url, json=_nested(params), headers=headers, timeout=TIMEOUT_SECONDS)
        else:
            response = requests.post(url, data=params, headers=headers, timeout=TIMEOUT_SECONDS)
    except requests.RequestException as e:
        # The URL may hold the API key: name only the kind of failure.
        raise GatewayError(f"gateway unreachable: {type(e).__name__}", retry=True) from None
    if response.status_code >= 500:
        raise GatewayError(f"gateway answered {response.status_code}", retry=True)
    if response.status_code >= 400:
        # 401/403: the key or the account is refused, every message will be: the settings fail.
        raise GatewayError(f"gateway refused the message: {response.status_code} {response.text[:200]}", retry=False,
                           account_failure=response.status_code in (401, 403))
    return _message_id(response, settings.message_id_path)


def _format_number(e164, number_format):
    if number_format == "International without plus":
        return e164.lstrip("+")
    if number_format == "National":
        number = phonenumbers.parse(e164)
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL).replace(" ", "").replace("-", "")
    return e164


def _nested(params):
    """JSON body from parameters: a dotted name ("sms.destinations.phone") is a path."""
    body = {}
    for name, value in params.items():
        *parents, leaf = name.split(".")
        node = body
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return body


def _message_id(response, path):
    if not path:
        return None
    try:
        node = response.json()
        for part in path.split("."):
            node = node[int(part)] if isinstance(node, list) else node[part]
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return None if node is None else str(node)


# Gateways' delivery states: Kavenegar's numeric codes (10 delivered; 6, 11, 14, 100
# failed), SMPP-style words and plain words, compared lower-case.
DELIVERED = {"10", "delivered", "delivrd", "1"}
FAILED = {"6", "11", "14", "100", "failed", "undeliv", "undelivered", "rejectd", "rejected", "expired", "2"}


@lowcode.whitelist(allow_guest=True, methods=["POST"])
def delivery_report(token=None, **values):
    """The gateway's callback (guest, POST): ``?token=<SMS Settings delivery_report_token>``
    with the message id (``messageid``, ``message_id`` or ``id``) and ``status``. A wrong
    token is 403; an unknown id changes nothing."""
    from ..document import get_doc
    expected = get_doc("SMS Settings").delivery_report_token or ""
    if not expected or not hmac.compare_digest(str(token or ""), expected):
        raise PermissionError("invalid delivery report token")
    message_id = values.get("messageid") or values.get("message_id") or values.get("id")
    if not message_id:
        raise ValidationError("messageid: missing", field="messageid")
    state = str(values.get("status") or "").strip().lower()
    status = "Delivered" if state in DELIVERED else "Failed" if state in FAILED else None
    if status is None:
        return {"updated": 0}
    changed = local.db.sql("SELECT `name` FROM `tabSMS Log` WHERE `gateway_message_id`=%s AND `status` IN ('Sent', 'Delivered', 'Failed')",
                           (str(message_id),))
    for (name,) in changed:
        _update_log(name, {"status": status})
    return {"updated": len(changed)}


@lowcode.whitelist(methods=["POST"])
def send_from_record(doctype, name, message=None):
    """The "Send SMS" form action: to the record's mobile, as the user who may read it."""
    from ..document import get_doc
    doc = get_doc(doctype, name)
    doc.check_permission("read")
    number = doc.get("mobile_no") or doc.get("mobile_e164")
    if not number:
        raise ValidationError(f"mobile_no: {doctype} {name} has no mobile number", field="mobile_no")
    return send_sms([number], message, reference=(doctype, name))
