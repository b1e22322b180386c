"""Service level timing: the one module that decides when a case is due.

Two halves:

- ``WorkingCalendar``: pure working-time arithmetic over weekly working hours and holidays
  (add N working seconds to a moment; the working seconds between two moments). Datetimes
  are naive and in the site's time zone, as every Datetime field is stored: working hours
  are local wall-clock hours, so converting to UTC would only move the weekends around.
- The case's clocks, run from Case's ``doc_events`` (see hooks.py): the agreement is picked
  by customer group and priority (else the default agreement), the due times are
  ``opened_on + target + paused working time`` (so a priority change or a pause simply
  recomputes them), the first response, the pause while waiting on the customer, the
  resolution and the breaches.

Every duration stored on a case (first_response_time, resolution_time, total_hold_time,
breach_duration) is in working seconds, like the agreement's targets.

The scheduler's side (warnings, breaches found while overdue, escalation, crisis) lives
in service_app/escalation.py and asks this module for the times.
"""
import datetime

import lowcode
from lowcode import _
from lowcode.context import local
from lowcode.document import Document
from lowcode.exceptions import ValidationError
from lowcode.utils import now_datetime

from .doctype.case.case import DONE

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")  # date.weekday() order
PAUSED = ("Waiting on Customer",)  # ERPNext's "pause SLA on": the customer holds the ball
DAY = 86400
# A calendar whose every day is a holiday would never reach a due time: give up after
# this many calendar days rather than loop forever.
MAX_DAYS = 3 * 366

# The case fields this module owns. Nobody else writes them: a client's values for them are
# replaced by the stored ones before the clocks run (see protect_fields).
SLA_FIELDS = ("service_level_agreement", "opened_on", "response_by", "first_responded_on", "first_response_time",
              "resolution_by", "resolution_date", "resolution_time", "agreement_status", "on_hold_since",
              "total_hold_time", "response_breached", "resolution_breached", "breach_duration")

# Ready-made weeks for the desk's "Set working week" action (09:00-17:00 unless said).
# Iran: Saturday to Wednesday, Friday off, Thursday optional as a half day. Israel: Sunday
# to Thursday, Friday and Saturday off.
WEEKS = {
    "Iran": [(d, "08:00:00", "16:00:00") for d in ("Saturday", "Sunday", "Monday", "Tuesday", "Wednesday")],
    "Iran (Thursday half-day)": [(d, "08:00:00", "16:00:00")
                                 for d in ("Saturday", "Sunday", "Monday", "Tuesday", "Wednesday")]
                                + [("Thursday", "08:00:00", "13:00:00")],
    "Israel": [(d, "09:00:00", "17:00:00") for d in ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday")],
    "Monday to Friday": [(d, "09:00:00", "17:00:00") for d in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")],
}


# -- working-time arithmetic ----------------------------------------------------------------

def _seconds_of_day(value):
    if isinstance(value, datetime.timedelta):  # some drivers hand TIME columns back as timedelta
        return int(value.total_seconds())
    if isinstance(value, str):
        value = datetime.time.fromisoformat(value)
    return value.hour * 3600 + value.minute * 60 + value.second


def _as_datetime(value):
    if value is None or value == "" or isinstance(value, datetime.datetime):
        return value or None
    return datetime.datetime.fromisoformat(str(value)).replace(microsecond=0)


class WorkingCalendar:
    """Weekly working hours and holidays. ``hours``: (weekday name or 0-6, start, end)
    triples; an end of 00:00 means midnight at the end of the day. ``holidays``: dates."""

    def __init__(self, hours, holidays=()):
        self.week = {i: [] for i in range(7)}
        for day, start, end in hours:
            index = WEEKDAYS.index(day) if isinstance(day, str) else int(day)
            start, end = _seconds_of_day(start), _seconds_of_day(end) or DAY
            if end <= start:
                raise ValidationError(_("{0}: the working hours end before they start", _(WEEKDAYS[index])),
                                      field="end_time")
            self.week[index].append((start, end))
        for index, spans in self.week.items():
            self.week[index] = _merged(spans)
        if not any(self.week.values()):
            raise ValidationError(_("No working hours: add at least one working day"), field="support_and_resolution")
        self.holidays = frozenset(d if isinstance(d, datetime.date) else datetime.date.fromisoformat(str(d))
                                  for d in holidays)

    def spans(self, day):
        """The working periods of one date as (start, end) datetimes."""
        if day in self.holidays:
            return []
        midnight = datetime.datetime.combine(day, datetime.time())
        return [(midnight + datetime.timedelta(seconds=s), midnight + datetime.timedelta(seconds=e))
                for s, e in self.week[day.weekday()]]

    def add(self, start, seconds):
        """The moment ``seconds`` of working time after ``start`` (with 0: the first working
        moment at or after it)."""
        start = _as_datetime(start)
        remaining = max(float(seconds or 0), 0.0)
        day = start.date()
        for _day in range(MAX_DAYS):
            for begin, end in self.spans(day):
                begin = max(begin, start)
                if end <= begin:
                    continue
                available = (end - begin).total_seconds()
                if remaining <= available:
                    return begin + datetime.timedelta(seconds=remaining)
                remaining -= available
            day += datetime.timedelta(days=1)
        raise ValidationError(_("No working time in the {0} days after {1}: check the holiday list", MAX_DAYS, start),
                              field="holiday_list")

    def between(self, start, end):
        """Working seconds from ``start`` to ``end`` (0 if end is not after start)."""
        start, end = _as_datetime(start), _as_datetime(end)
        if start is None or end is None or end <= start:
            return 0.0
        total = 0.0
        day = start.date()
        while day <= end.date():
            for begin, finish in self.spans(day):
                overlap = (min(finish, end) - max(begin, start)).total_seconds()
                if overlap > 0:
                    total += overlap
            day += datetime.timedelta(days=1)
        return total


def _merged(spans):
    out = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def holidays_of(holiday_list):
    if not holiday_list:
        return []
    return local.db.sql("SELECT `holiday_date` FROM `tabHoliday` WHERE `parent`=%s AND `parenttype`='Holiday List'",
                        (holiday_list,), pluck=True)


def _working_hours(parenttype, parent, parentfield):
    return [(r["workday"], r["start_time"], r["end_time"]) for r in local.db.sql(
        "SELECT `workday`, `start_time`, `end_time` FROM `tabService Day` WHERE `parenttype`=%s AND `parent`=%s "
        "AND `parentfield`=%s ORDER BY `idx`", (parenttype, parent, parentfield), as_dict=True)]


def calendar_for(agreement, team=None):
    """The case's calendar: the team's own working hours and holiday list where it has
    them, the agreement's otherwise (each independently)."""
    hours = _working_hours("Service Team", team, "working_hours") if team else []
    hours = hours or _working_hours("Service Level Agreement", agreement, "support_and_resolution")
    team_holidays = local.db.get_value("Service Team", team, "holiday_list") if team else None
    holiday_list = team_holidays or local.db.get_value("Service Level Agreement", agreement, "holiday_list")
    return WorkingCalendar(hours, holidays_of(holiday_list))


# -- which agreement, which targets ---------------------------------------------------------------

def targets(agreement, priority):
    """(response seconds, resolution seconds) of ``priority`` under ``agreement``, or None."""
    rows = local.db.sql("SELECT `response_time`, `resolution_time` FROM `tabService Level Priority` "
                        "WHERE `parent`=%s AND `parenttype`='Service Level Agreement' AND `priority`=%s LIMIT 1",
                        (agreement, priority))
    return (float(rows[0][0] or 0), float(rows[0][1] or 0)) if rows else None


def group_and_ancestors(group):
    """The customer group and the groups above it, nearest first (a cycle is cut short)."""
    out = []
    while group and group not in out and len(out) < 20:
        out.append(group)
        group = local.db.get_value("Customer Group", group, "parent_customer_group")
    return out


def find_agreement(customer, priority):
    """(agreement, priority) for a case: an enabled agreement for the customer's group (or
    the nearest group above it) that has targets for the priority (the agreement's default
    priority when the case has none), else the default agreement; None when no agreement
    covers it."""
    groups = group_and_ancestors(local.db.get_value("Customer", customer, "customer_group") if customer else None)
    marks = ", ".join(["%s"] * len(groups)) or "''"
    candidates = local.db.sql(
        "SELECT `name`, `customer_group`, `default_priority` FROM `tabService Level Agreement` WHERE `enabled`=1 AND "
        f"(`customer_group` IN ({marks}) OR `default_service_level_agreement`=1) ORDER BY `name`",
        tuple(groups), as_dict=True)
    nearest = {g: i for i, g in enumerate(groups)}
    for row in sorted(candidates, key=lambda r: nearest.get(r["customer_group"], len(groups))):
        wanted = priority or row["default_priority"]
        if wanted and targets(row["name"], wanted):
            return row["name"], wanted
    return None


# -- the case's clocks (Case doc_events) ------------------------------------------------------

def protect_fields(doc, method=None):
    """before_validate: the stored SLA values win over a client's (the engine lets a
    client's payload reach read-only fields, as Frappe does). Server code that saves with
    ignore_permissions (an import, demo data, this module) keeps what it set."""
    if doc.flags.ignore_permissions:
        return
    previous = doc._doc_before_save
    for field in SLA_FIELDS:
        doc.set(field, previous.get(field) if previous is not None else None)


def update_clocks(doc, method=None):
    """validate: set the agreement, due times, pauses, response, resolution and breaches
    from the change of status (and of priority) this save makes. ``doc.flags.sla_now``: the
    moment the change happened, when server code knows it better than the clock (the
    scheduler saving an escalation it decided on at its own ``now``)."""
    now = doc.flags.sla_now or now_datetime()
    previous = doc._doc_before_save
    old_status = previous.status if previous is not None else None
    doc.opened_on = doc.opened_on or now
    changed = previous is None or any(previous.get(f) != doc.get(f) for f in ("priority", "customer"))
    if changed or not doc.service_level_agreement:
        found = find_agreement(doc.customer, doc.priority)
        doc.service_level_agreement, doc.priority = found if found else (None, doc.priority)
    if not doc.service_level_agreement:  # no agreement covers it (any more): nothing is due
        doc.agreement_status = None
        if doc.status not in DONE:
            doc.response_by = doc.resolution_by = None
        return
    calendar = calendar_for(doc.service_level_agreement, doc.service_team)
    hold = float(doc.total_hold_time or 0)
    if old_status != doc.status:
        if old_status in PAUSED and doc.on_hold_since:  # the customer answered: the paused time pushes the due times
            hold += calendar.between(doc.on_hold_since, now)
            doc.on_hold_since = None
        if old_status in DONE and doc.status not in DONE:  # reopened: the time it lay resolved is not the team's
            hold += calendar.between(doc.resolution_date, now)
            doc.resolution_date = doc.resolution_time = None
        if doc.status in PAUSED:
            doc.on_hold_since = now
    doc.total_hold_time = hold
    if doc.status != "Open" and not doc.first_responded_on:
        doc.first_responded_on = now  # leaving Open (or resolving at once) is the first response
    if doc.status not in DONE and not doc.on_hold_since:
        set_due_times(doc, calendar)
    if doc.first_responded_on and doc.first_response_time is None:
        doc.first_response_time = calendar.between(doc.opened_on, doc.first_responded_on)
    if doc.status in DONE and old_status not in DONE:
        doc.resolution_date = now
        doc.resolution_time = max(calendar.between(doc.opened_on, now) - hold, 0.0)
    set_breaches(doc, calendar, now)


def set_due_times(doc, calendar):
    goal = targets(doc.service_level_agreement, doc.priority)
    if goal is None:
        return
    hold = float(doc.total_hold_time or 0)
    doc.response_by = calendar.add(doc.opened_on, goal[0] + hold)
    doc.resolution_by = calendar.add(doc.opened_on, goal[1] + hold)


def overrun(calendar, due, met, now):
    """Working seconds a target was (or is) missed by: from the due time to when it was
    met, or to now while it is not."""
    due = _as_datetime(due)
    met = _as_datetime(met) or now
    return calendar.between(due, met) if due and met > due else 0.0


def set_breaches(doc, calendar, now):
    """Breach flags, breach_duration (the larger overrun) and the agreement status. A
    paused clock stands still at the moment the pause began."""
    clock = _as_datetime(doc.on_hold_since) or now
    response_late = overrun(calendar, doc.response_by, doc.first_responded_on, clock)
    resolution_late = overrun(calendar, doc.resolution_by, doc.resolution_date, clock)
    doc.response_breached = 1 if response_late else 0
    doc.resolution_breached = 1 if resolution_late else 0
    doc.breach_duration = max(response_late, resolution_late)
    doc.agreement_status = status_of(doc)


def status_of(doc):
    if doc.status in DONE:
        return "Failed" if doc.response_breached or doc.resolution_breached else "Fulfilled"
    if doc.on_hold_since:
        return "Paused"
    if doc.response_breached or doc.resolution_breached:
        return "Failed"
    return "Resolution Due" if doc.first_responded_on else "First Response Due"


def mark_first_response(case, when=None):
    """An agent answered the customer (a reply, an e-mail, a call logged): the first
    response, if the case had none. Channels call this; returns the case."""
    doc = case if isinstance(case, Document) else lowcode.get_doc("Case", case)
    if doc.first_responded_on:
        return doc
    doc.first_responded_on = _as_datetime(when) or now_datetime()
    return doc.save(ignore_permissions=True)


def communication_sent(doc, method=None):
    """Communication after_insert: a message sent on a case is the agent's response."""
    if doc.reference_doctype == "Case" and doc.reference_name and doc.sent_or_received == "Sent":
        mark_first_response(doc.reference_name, doc.communication_date)


def fill_working_week(doc, method=None):
    """Service Level Agreement / Service Team validate: a week chosen in
    ``working_week`` replaces the working hours (one of WEEKS, e.g. Iran's or Israel's)."""
    field = {"Service Level Agreement": "support_and_resolution", "Service Team": "working_hours"}[doc.doctype]
    previous = doc._doc_before_save
    if doc.working_week and (previous is None or previous.working_week != doc.working_week):
        doc.set(field, [{"workday": d, "start_time": s, "end_time": e} for d, s, e in WEEKS[doc.working_week]])
    rows = doc.get(field) or []
    if rows:
        WorkingCalendar([(r.workday, r.start_time, r.end_time) for r in rows])
