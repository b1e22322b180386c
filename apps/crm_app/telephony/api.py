"""The telephony endpoints: the webhook of cloud PBXs, and click-to-call (the "Call"
form action and its ``/app/call/<name>?doctype=`` page, ``click_to_call`` for API
clients)."""
import hmac

import lowcode
from lowcode.context import local
from lowcode.desk.views.common import desk_view
from lowcode.exceptions import LowcodeError, PermissionError, ValidationError

from . import numbers
from .calls import agent_user, handle_call_event, settings

WEBHOOK_EVENTS = {"ringing": "ringing", "ring": "ringing", "answered": "answered", "answer": "answered",
                  "ended": "ended", "hangup": "ended", "end": "ended"}


@lowcode.whitelist(allow_guest=True, methods=["POST"])
def webhook(token=None, **values):
    """A cloud PBX's call event: POST JSON ``{event: ringing|answered|ended, call_id, from,
    to, extension or agent, duration, recording_url}`` (and ``direction: outgoing`` for
    a call an agent makes: ``from`` is then their extension, ``to`` the number dialled) to
    ``/api/method/crm_app.telephony.api.webhook?token=<Telephony Settings' webhook token>``.
    The same path as AMI's events; a replayed event changes nothing."""
    from crm_app.doctype.telephony_settings.telephony_settings import secret
    expected = secret("webhook_token") or ""
    if not expected or not hmac.compare_digest(str(token or "").encode(), expected.encode()):
        raise PermissionError("invalid telephony webhook token")
    event = WEBHOOK_EVENTS.get(str(values.get("event") or "").strip().lower())
    if event is None:
        raise ValidationError("event: must be ringing, answered or ended", field="event")
    outgoing = str(values.get("direction") or "").strip().lower() == "outgoing"
    party, to = (values.get("to"), None) if outgoing else (values.get("from"), values.get("to"))
    extension = values.get("extension") or (values.get("from") if outgoing else None)
    name = handle_call_event(event, values.get("call_id"), number=party, to=to, extension=extension,
                             agent=values.get("agent"), duration=values.get("duration"),
                             recording_url=values.get("recording_url"), cause=values.get("cause"),
                             direction=values.get("direction") or "Incoming")
    return {"call_log": name}


def phone_numbers(doc):
    """[(label, number)] of the document's Phone fields that hold a value."""
    return [(df.label or df.fieldname, doc.get(df.fieldname)) for df in doc.meta.fields
            if df.fieldtype == "Data" and df.options == "Phone" and doc.get(df.fieldname)]


def can_call(doc):
    """The "Call" form action shows on records with a phone number while AMI is on."""
    return bool(phone_numbers(doc)) and bool(int(settings().ami_enabled or 0))


@lowcode.whitelist(methods=["POST"])
def click_to_call(doctype: str, name: str, number: str = None):
    """Ring the user's phone, then dial the record's ``number`` (one of its phone
    fields; the first when not given). The user must be able to read the record."""
    from crm_app.doctype.telephony_settings.telephony_settings import secret

    from .ami import OriginateError, originate
    doc = lowcode.get_doc(doctype, name)
    doc.check_permission("read")
    numbers_of = [n for _, n in phone_numbers(doc)]
    if not numbers_of:
        raise ValidationError(f"number: {doctype} {name} has no phone number", field="number")
    if number and number not in numbers_of:
        raise ValidationError("number: not a phone number of this record", field="number")
    number = number or numbers_of[0]
    config = settings()
    if not int(config.ami_enabled or 0) or not config.ami_host:
        raise ValidationError("Click-to-call needs AMI: enable it in Telephony Settings", field="ami_enabled")
    extension = next((row.extension for row in config.get("agents") or [] if row.user == local.user), None)
    if not extension or agent_user(config, extension) != local.user:
        raise ValidationError(f"{local.user} has no extension in Telephony Settings", field="agents")
    region = config.default_region or numbers.DEFAULT_REGION
    dial = dial_string(number, region)
    if not dial:
        raise ValidationError(f"number: {number!r} is not a phone number", field="number")
    try:
        originate({"host": config.ami_host, "port": int(config.ami_port or 5038), "username": config.ami_username or "",
                   "secret": secret("ami_secret") or "", "originate_context": config.originate_context or "from-internal",
                   "originate_channel": config.originate_channel or "PJSIP/{extension}"}, extension, dial)
    except OriginateError as e:
        raise ValidationError(f"Call not placed: {e}", field="number") from None
    return {"extension": extension, "number": dial}


def dial_string(number, region):
    """Digits the PBX dials: the national form at home (09121234567), 00 and the
    international number abroad."""
    import phonenumbers
    parsed = numbers.parse(number, region)
    if parsed is None:
        return None
    if phonenumbers.region_code_for_number(parsed) == region:
        return phonenumbers.normalize_digits_only(
            phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL))
    return "00" + phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)[1:]


@desk_view
def page(request, name):
    """/app/call/<name>?doctype=: the record's numbers, each with a Call button."""
    from django.http import HttpResponseRedirect

    from lowcode.desk.render import render
    from lowcode.utils import route_for
    doctype = request.GET.get("doctype") or ""
    if not name or not doctype:
        return HttpResponseRedirect("/app")
    doc = lowcode.get_doc(doctype, name)
    doc.check_permission("read")
    error = placed = None
    status = 200
    if request.method == "POST":
        try:
            placed = click_to_call(doctype, name, request.POST.get("number") or None)
        except LowcodeError as e:
            if e.http_status == 403:
                raise
            local.db.rollback()
            local.db.begin()
            error, status = e.message, e.http_status
    return render("crm_app/call.html", status=status, doc=doc, doc_url=f"/app/{route_for(doctype)}/{name}",
                  phones=phone_numbers(doc), error=error, placed=placed)
