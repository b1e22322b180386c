"""The one path of a call event, whichever PBX reports it (the AMI listener, a cloud
PBX's webhook): ``handle_call_event`` keeps the call's Call Log and pops the call up on
the agent's desk.

- ringing: the Call Log is created (Incoming, Ringing, linked to the caller's record)
  and the agent gets a ``screen_pop`` with the records *they* may read; a ring group's
  other agents ringing for the same call get their pop too.
- answered: In Progress, with the time and the agent who took it.
- ended: Completed (answered) or Missed, with the duration and the recording URL.

An Outgoing call (an agent's phone dialled out, click-to-call among them) is logged the
same way, linked to the dialled number's record, without a pop; unanswered it ends as
No Answer.

Each step happens once per call: a replayed or late event finds the log past that
step and changes nothing. The caller runs it inside a site context and commits; the
pop is sent after that commit."""
import datetime
from urllib.parse import quote

import lowcode
from lowcode.context import local
from lowcode.exceptions import ValidationError
from lowcode.realtime import publish_realtime
from lowcode.urls import is_web_url
from lowcode.utils import route_for

from . import numbers

EVENTS = ("ringing", "answered", "ended")
FINISHED = ("Completed", "Missed", "No Answer")
DIRECTIONS = ("Incoming", "Outgoing")
BUSY_CAUSES = {"17"}  # Asterisk's hang-up cause 17: user busy


def settings():
    return lowcode.get_doc("Telephony Settings")


def agent_user(config, extension=None, agent=None):
    """The user answering on ``extension`` (Telephony Settings' agents); ``agent`` may
    name the user or the extension."""
    rows = config.get("agents") or []
    if agent and any(row.user == agent for row in rows):
        return agent
    wanted = str(extension or agent or "").strip()
    for row in rows:
        if wanted and str(row.extension or "").strip() == wanted:
            return row.user
    return None


def handle_call_event(event, call_id, number=None, to=None, extension=None, agent=None, duration=None,
                      recording_url=None, cause=None, at=None, direction="Incoming"):
    """Apply one call event; returns the Call Log's name. ``number``: the other party
    (the caller of an incoming call, the dialled number of an outgoing one); ``to``: the
    number dialled in (an incoming call's DID); ``extension``/``agent``: the agent's
    side. ``at``: when it happened (datetime), now when not given."""
    if event not in EVENTS:
        raise ValidationError(f"event: must be one of {', '.join(EVENTS)}", field="event")
    direction = str(direction or "Incoming").strip().capitalize()
    if direction not in DIRECTIONS:
        raise ValidationError("direction: must be incoming or outgoing", field="direction")
    call_id = str(call_id or "").strip()
    if not call_id or len(call_id) > 140:
        raise ValidationError("call_id: missing or too long", field="call_id")
    if recording_url and not is_web_url(str(recording_url)):
        raise ValidationError("recording_url: not an http(s) address", field="recording_url")
    config = settings()
    at = (at or datetime.datetime.now()).strftime("%Y-%m-%d %H:%M:%S")
    user = agent_user(config, extension, agent)
    log = _stored(call_id)
    created = log is None
    if created:
        log = _new_log(config, call_id, number, to, user, at, direction, extension,
                       status="Ringing" if event == "ringing" else "In Progress" if event == "answered" else None)
    if event == "ringing":
        ring_group = log.status == "Ringing" and user and user != log.call_received_by
        if log.direction == "Incoming" and (created or ring_group):
            _pop(config, log, user)
    elif event == "answered":
        if log.status == "Ringing":
            log.status = "In Progress"
            log.answered_at = at
            log.call_received_by = user or log.call_received_by
            _save(log)
    elif log.status not in FINISHED:
        _finish(log, at, duration, recording_url, cause)
    return log.name


def _stored(call_id):
    # Locked on MariaDB, so two events of one call (two workers, a replay) take turns.
    lock = " FOR UPDATE" if local.db.db_type == "mariadb" else ""
    rows = local.db.sql(f"SELECT `name` FROM `tabCall Log` WHERE `call_id`=%s{lock}", (call_id,))
    return lowcode.get_doc("Call Log", rows[0][0]) if rows else None


def _new_log(config, call_id, number, to, user, at, direction, extension, status):
    region = config.default_region or numbers.DEFAULT_REGION
    e164 = numbers.normalise(number, region)
    party = e164 or str(number or "").strip()[:140] or None
    links = numbers.find_records(e164, ignore_permissions=True, limit=1)
    if direction == "Outgoing":
        ends = {"from": str(extension or "").strip()[:140] or None, "to": party}
    else:
        ends = {"from": party, "to": (str(to).strip()[:140] or None) if to else None}
    log = lowcode.get_doc({
        "doctype": "Call Log", "call_id": call_id, "direction": direction, "status": status,
        "phone": party, **ends,
        "started_at": at, "call_received_by": user, "answered_at": at if status == "In Progress" else None,
        "reference_doctype": links[0]["doctype"] if links else None,
        "reference_name": links[0]["name"] if links else None,
    })
    # The agent's own call (activity row rules count the owner); written by the system.
    saved_user = local.user
    local.user = user or saved_user
    try:
        log.insert(ignore_permissions=True)
    finally:
        local.user = saved_user
    return log


def _save(log):
    log.save(ignore_permissions=True)


def _finish(log, at, duration, recording_url, cause):
    answered = log.answered_at or log.status == "In Progress"
    try:
        seconds = max(0, int(float(duration))) if duration not in (None, "") else None
    except (TypeError, ValueError):
        raise ValidationError("duration: not a number of seconds", field="duration") from None
    if seconds is None:
        seconds = max(0, int((_when(at) - _when(log.answered_at)).total_seconds())) if log.answered_at else 0
    # A cloud PBX may report only ringing and the end: talk time means it was answered.
    answered = answered or seconds > 0
    log.status = "Completed" if answered else "Missed" if log.direction == "Incoming" else "No Answer"
    log.outcome = "Connected" if answered else "Busy" if str(cause or "") in BUSY_CAUSES else "No Answer"
    log.duration = seconds if answered else 0
    log.ended_at = at
    if recording_url:
        log.recording_url = recording_url
    _save(log)


def _when(value):
    return value if isinstance(value, datetime.datetime) else datetime.datetime.fromisoformat(str(value)[:19])


def _pop(config, log, user):
    """Tell the agent's desk: the caller's records the agent may read, or a new lead."""
    if not user:
        return None
    region = config.default_region or numbers.DEFAULT_REGION
    e164 = numbers.normalise(log.get("from"), region)
    matches = numbers.find_records(e164, user=user)
    number = e164 or log.get("from") or ""
    message = {
        "call_id": log.call_id, "number": number, "display_number": numbers.display(number, region),
        "status": log.status, "agent": user, "matches": matches,
        "new_lead_url": f"/app/lead/new?mobile_no={quote(number, safe='')}",
        "call_log_url": f"/app/{route_for('Call Log')}/{quote(log.name, safe='')}",
    }
    return publish_realtime("screen_pop", message, user=user)
