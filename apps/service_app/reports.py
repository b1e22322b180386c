"""Service figures for the service dashboard: aggregates over cases, never rows (the open
crisis cases excepted, which are listed until they are closed).

Whose cases a figure covers: the cases the viewer may read, through Case's row rules
(service_app.permissions, applied by get_list), so the dashboard, lists and counts agree.
Support Managers, CRM Admins and System Managers read every case; a Support Agent reads
their own and their teams' queues, and their figures cover those cases only.

Definitions (the dashboard's help repeats them):
- Open: status Open, In Progress or Waiting on Customer. Open-case counts, the backlog
  and its age and the crisis list are "now", whatever the period.
- The period selects cases by ``opened_on`` (the day the case was opened, the last day
  included) for response and resolution times, SLA compliance, reopen rate, cases per
  customer and peaks; satisfaction (CSAT, NPS) counts by the day the survey was answered
  (``survey_answered_on``), month by month.
- Response and resolution times are ``first_response_time`` / ``resolution_time``, in
  working seconds (the SLA's clock), shown in hours. Median: the middle value (the mean
  of the two middle ones for an even count); p90: the smallest value with at least 90 %
  of the values at or below it (nearest rank).
- SLA compliance: among cases with a due time (``response_by`` or ``resolution_by``)
  whose outcome is known, i.e. resolved/closed or breached (``response_breached`` or
  ``resolution_breached``), the share resolved/closed without any breach. Open cases
  not yet breached are not counted either way.
- Reopen rate: among the cases resolved at least once (resolved/closed now, or reopened
  before), the share reopened at least once (``reopen_count`` > 0).
- CSAT: mean of ``satisfaction_score`` (1-5). NPS: % of ``nps_score`` 9-10 minus % of 0-6.
- Revenue per customer: net revenue (won amounts of won opportunities, net of taxes, as
  crm_app.reports counts it) closed in the period. Every customer's for those who read
  every case; for others only over the opportunities they may read (none for a Support
  Agent without a sales role: the column stays empty).

How they are read (a million cases, under 200 ms computed afresh): from covering
indexes (Case's "indexes" in case.json), never whole rows. Open cases are counted in
SQL (GROUP BY) and only their opening times fetched, for the ages; the period's cases
are read once for the few columns its figures need (opening hour, customer, the two
times and the SLA/reopen bits) and counted here; satisfaction is summed in SQL by month.
A viewer's row rule of several parts (an agent: owned, assigned, their teams' queues)
is answered part by part over disjoint parts (lowcode.query.disjoint_parts), each on
its own index, and the parts' figures added up.
"""
import bisect
import collections
import contextlib
import datetime
import gc
import heapq
import math

import lowcode
from lowcode.caches import cache
from lowcode.context import local
from lowcode.desk.formatting import month_of
from lowcode.desk.render import prefs
from lowcode.permissions import row_condition
from lowcode.query import Query, disjoint_parts

from crm_app.reports import _dates, _period, _rate
from service_app.permissions import SEE_ALL_ROLES

OPEN_STATES = ("Open", "In Progress", "Waiting on Customer")
DONE_STATES = ("Resolved", "Closed")
#: backlog age buckets: (label, at least this many days old)
AGE_BUCKETS = (("< 1 day", 0), ("1-3 days", 1), ("3-7 days", 3), ("7-30 days", 7), ("> 30 days", 30))
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
#: dashboard figures are kept this long per viewer scope and period (see cached_figures)
CACHE_SECONDS = 60
TOP_CUSTOMERS = 20


def stamp_opened_on(doc, method=None):
    """Case before_insert: a case is opened when it is registered, unless a channel or an
    import gives the time (as ERPNext's Issue sets its opening date)."""
    if not doc.get("opened_on"):
        doc.opened_on = datetime.datetime.now().replace(microsecond=0)


def viewer_scope():
    """The viewer's cases as disjoint SQL conditions on `tabCase` ([(sql, values)]): one
    "1=1" for those who read every case, none for a rule that leaves no case. Refused
    (PermissionError) to those who may not read cases."""
    lowcode.has_permission("Case", "read", raise_exception=True)
    rule = row_condition("Case", local.user, "read")
    if rule is None:
        return [("1=1", [])]
    return [(sql, values) for _, sql, values in disjoint_parts("tabCase", rule.parts)]


def _select(scope, columns, filters, fields, group_by="", column_values=()):
    """``SELECT columns FROM tabCase`` over the viewer's cases matching ``filters``
    (compiled by the engine's query layer), once per part of ``scope``: the rows of
    every part, one after the other. ``fields`` are the fields ``columns`` reads, checked
    readable by the viewer (field levels) as get_list would; ``column_values`` are bound
    to the placeholders in ``columns``."""
    q = Query("Case", local.user, "read", ignore_permissions=False)
    for fieldname in fields:
        q.resolve(None, fieldname)
    where = q.where(filters, None)
    rows = []
    for sql, values in scope:
        rows += local.db.sql(f"SELECT {columns} FROM `tabCase` WHERE {' AND '.join(where + [f'({sql})'])}"
                             + (f" GROUP BY {group_by}" if group_by else ""), list(column_values) + q.values + values)
    return rows


def _add_up(rows):
    """Grouped rows (key columns..., count) of several parts -> {key: summed count}."""
    out = {}
    for *key, n in rows:
        key = tuple(key) if len(key) > 1 else key[0]
        out[key] = out.get(key, 0) + int(n or 0)
    return out


def median(values):
    if not values:
        return None
    s = sorted(values)
    mid = len(s) // 2
    return float(s[mid]) if len(s) % 2 else (float(s[mid - 1]) + float(s[mid])) / 2.0


def p90(values):
    if not values:
        return None
    s = sorted(values)
    return float(s[math.ceil(0.9 * len(s)) - 1])


def _hours(seconds):
    return None if seconds is None else round(seconds / 3600.0, 2)


def _times(values):
    values = sorted([v for v in values if v is not None])  # floats (or decimals) as read
    return {"count": len(values), "median_hours": _hours(median(values)), "p90_hours": _hours(p90(values))}


def _dt(value):
    if value is None or isinstance(value, datetime.datetime):
        return value
    return datetime.datetime.fromisoformat(str(value)[:19])


def open_cases(now=None, scope=None):
    """Open cases by state, priority and agent, and the backlog's age (now)."""
    now = now or datetime.datetime.now()
    scope = viewer_scope() if scope is None else scope
    filters = [["status", "in", list(OPEN_STATES)]]
    groups = _add_up(_select(scope, "`status`, `priority`, `assigned_to`, COUNT(*)", filters,
                             ("status", "priority", "assigned_to"), group_by="`status`, `priority`, `assigned_to`"))
    by_status, by_priority, by_agent = {}, {}, {}
    for (status, priority, agent), n in groups.items():
        by_status[status] = by_status.get(status, 0) + n
        by_priority[priority] = by_priority.get(priority, 0) + n
        by_agent[agent] = by_agent.get(agent, 0) + n
    # The age of a case is (now - opened_on) in days: the oldest first, so a bucket "at
    # least d days old" is the cases opened at or before now - d days. The times are
    # sorted as read (ISO text on SQLite sorts as the time it writes) and only those
    # looked at are parsed.
    opened = sorted(v for (v,) in _select(scope, "`opened_on`", filters + [["opened_on", "is", "set"]],
                                          ("opened_on",)))

    def age(o):
        return (now - _dt(o)).total_seconds() / 86400

    def at_least(days):
        return bisect.bisect_right(opened, now - datetime.timedelta(days=days), key=_dt)

    starts = [days for _, days in AGE_BUCKETS]
    older = [at_least(d) if i else len(opened) for i, d in enumerate(starts)] + [0]  # a future case: < 1 day
    ages = len(opened)
    middle = [age(o) for o in opened[(ages - 1) // 2:ages // 2 + 1]] if ages else []
    rank = _priority_rank()
    return {
        "total": sum(groups.values()),
        "by_status": [{"status": s, "count": by_status.get(s, 0)} for s in OPEN_STATES],
        "by_priority": sorted(({"priority": k, "count": n} for k, n in by_priority.items()),
                              key=lambda p: (rank.get(p["priority"], 999), p["priority"] or "")),
        "by_agent": sorted(({"agent": k, "count": n} for k, n in by_agent.items()),
                           key=lambda a: (-a["count"], a["agent"] or "")),
        "age": [{"bucket": label, "count": older[i] - older[i + 1]} for i, (label, _) in enumerate(AGE_BUCKETS)],
        "median_age_days": round(sum(middle) / len(middle), 1) if middle else None,
        "oldest_age_days": round(age(opened[0]), 1) if ages else None,
    }


def _priority_rank():
    return {p["name"]: p["rank"] or 0 for p in lowcode.get_all("Issue Priority", fields=["name", "rank"])}


def crisis_cases():
    """Open crisis cases, oldest first: on the dashboard until they are closed."""
    return lowcode.get_list("Case", fields=["name", "subject", "customer", "priority", "status", "assigned_to",
                                            "opened_on"],
                            filters=[["is_crisis", "=", 1], ["status", "in", list(OPEN_STATES)]],
                            order_by="opened_on asc", limit_page_length=0)


#: what the SLA compliance and the reopen rate need of a case, as bits of one number
#: (module docstring); never NULL: a NULL status is not done
_DUE, _BREACHED, _DONE, _REOPENED = 1, 2, 4, 8
_FLAGS = ("(`response_by` IS NOT NULL OR `resolution_by` IS NOT NULL)"
          " + 2 * (COALESCE(`response_breached`, 0) OR COALESCE(`resolution_breached`, 0))"
          f" + 4 * COALESCE(`status` IN ({', '.join(['%s'] * len(DONE_STATES))}), 0)"
          " + 8 * (COALESCE(`reopen_count`, 0) > 0)")


def period_figures(from_date, to_date, scope=None):
    """Response and resolution times, SLA compliance, reopen rate, cases per customer and
    peaks over the cases opened in the period (module docstring)."""
    scope = viewer_scope() if scope is None else scope
    # One pass over the period's cases, reading from the covering index only the columns
    # a figure needs: the opening day and hour, the customer, the two times, and the SLA
    # and reopen bits. Counted here, quicker than a GROUP BY per figure.
    rows = _select(scope, f"SUBSTR(`opened_on`, 1, 13), `customer`, `first_response_time`, `resolution_time`, "
                          f"{_FLAGS}", _period(from_date, to_date, "opened_on") + [["opened_on", "is", "set"]],
                   ("opened_on", "customer", "first_response_time", "resolution_time", "response_by",
                    "resolution_by", "response_breached", "resolution_breached", "status", "reopen_count"),
                   column_values=DONE_STATES)
    day_hours, customers, first_response, resolution, flag_bits = zip(*rows) if rows else ([],) * 5
    hours, weekdays = [0] * 24, [0] * 7
    for day_hour, n in collections.Counter(day_hours).items():
        hours[int(day_hour[11:13])] += n
        weekdays[datetime.date.fromisoformat(day_hour[:10]).weekday()] += n
    with_due = breached = kept = resolved_once = reopened = 0
    for flags, n in collections.Counter(flag_bits).items():
        flags = int(flags)
        if flags & _DUE:
            with_due += n
            if flags & _BREACHED:
                breached += n
            elif flags & _DONE:
                kept += n
        if flags & (_DONE | _REOPENED):
            resolved_once += n
        if flags & _REOPENED:
            reopened += n
    counts = collections.Counter(customers)
    for empty in (None, ""):
        counts.pop(empty, None)
    return {
        "cases": len(rows),
        "first_response": _times(first_response),
        "resolution": _times(resolution),
        "sla": {"with_due_time": with_due, "measured": kept + breached, "kept": kept,
                "breached": breached, "compliance_percent": _rate(kept, kept + breached)},
        "reopen": {"resolved": resolved_once, "reopened": reopened,
                   "rate_percent": _rate(reopened, resolved_once)},
        "customers": _customers(counts, from_date, to_date),
        "by_hour": [{"hour": h, "count": n} for h, n in enumerate(hours)],
        "by_weekday": [{"weekday": WEEKDAYS[d], "count": n} for d, n in enumerate(weekdays)],
    }


def _customers(counts, from_date, to_date):
    """The customers with most cases in the period ({customer: cases}), with their net
    revenue (module docstring: whose revenue a viewer sees)."""
    # Those with at least the TOP_CUSTOMERS-th most cases, then ties by name.
    least = min(heapq.nlargest(TOP_CUSTOMERS, counts.values()), default=0)
    top = sorted(((c, n) for c, n in counts.items() if n >= least), key=lambda c: (-c[1], c[0]))[:TOP_CUSTOMERS]
    revenue = None
    names = [c for c, _ in top]
    if names:
        filters = _period(from_date, to_date, "closed_on") + [
            ["opportunity_from", "=", "Customer"], ["party_name", "in", names], ["sales_stage", "=", "Won"]]
        fields = ["party_name", "sum(won_amount) as revenue"]
        if lowcode.get_roles() & SEE_ALL_ROLES:
            found = lowcode.get_all("Opportunity", fields=fields, filters=filters, group_by="party_name")
        elif lowcode.has_permission("Opportunity", "read"):
            found = lowcode.get_list("Opportunity", fields=fields, filters=filters, group_by="party_name",
                                     limit_page_length=0)
        else:
            found = None
        if found is not None:
            revenue = {r["party_name"]: round(float(r["revenue"] or 0), 2) for r in found}
    return [{"customer": c, "cases": n, "revenue": None if revenue is None else revenue.get(c, 0.0)}
            for c, n in top]


def satisfaction(from_date, to_date, scope=None):
    """CSAT and NPS month by month (in the user's calendar: "1404-11" for a Jalali user),
    by the day the survey was answered, and overall. SQL sums by day; the days are put in
    their months here (a Jalali month is not a prefix of the date)."""
    scope = viewer_scope() if scope is None else scope
    months = {}
    user_prefs = prefs()
    answered = _period(from_date, to_date, "survey_answered_on") + [["survey_answered_on", "is", "set"]]
    for day, *sums in _select(scope, "SUBSTR(`survey_answered_on`, 1, 10), COUNT(`satisfaction_score`), "
                              "SUM(`satisfaction_score`), COUNT(`nps_score`), SUM(`nps_score` >= 9), "
                              "SUM(`nps_score` <= 6)", answered,
                              ("survey_answered_on", "satisfaction_score", "nps_score"),
                              group_by="SUBSTR(`survey_answered_on`, 1, 10)"):
        m = months.setdefault(month_of(day, user_prefs), [0, 0.0, 0, 0, 0])
        for i, v in enumerate(sums):
            m[i] += float(v or 0) if i == 1 else int(v or 0)
    out = [dict(month=month, **_scores(*months[month])) for month in sorted(months)]
    overall = [sum(m[i] for m in months.values()) for i in range(5)]
    return {"by_month": out, "overall": _scores(*overall)}


def _scores(csat_answers, csat_sum, nps_answers, promoters, detractors):
    return {"csat": round(csat_sum / csat_answers, 2) if csat_answers else None, "csat_answers": csat_answers,
            "nps": round(100.0 * (promoters - detractors) / nps_answers, 1) if nps_answers else None,
            "nps_answers": nps_answers}


@contextlib.contextmanager
def _collector_paused():
    """At a million cases the figures read some 100,000 small objects (rows and their
    values) at once, which sets off the cyclic garbage collector's full passes over the
    whole heap: a fifth of the time, more at random. They hold no reference cycles
    (reference counting frees them), so the collector waits until the figures are done."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@lowcode.whitelist()
def service_figures(from_date: str = None, to_date: str = None):
    """Every figure of the service dashboard, over the viewer's cases (module docstring)."""
    _dates(from_date, to_date)  # a bad date is a clear error naming it
    with _collector_paused():
        scope = viewer_scope()
        return {"open": open_cases(scope=scope), "crisis": crisis_cases(),
                "period": period_figures(from_date, to_date, scope=scope),
                "satisfaction": satisfaction(from_date, to_date, scope=scope)}


def cached_figures(from_date=None, to_date=None):
    """service_figures kept CACHE_SECONDS per viewer scope and period: the dashboard at a
    million cases reads its figures once a minute, not on every load. Those who read every
    case share one entry; an agent's is their own (their cases and teams)."""
    from_date, to_date = _dates(from_date, to_date)
    scope = "all" if lowcode.get_roles() & SEE_ALL_ROLES or local.user == "Administrator" else local.user
    key = f"service-dashboard|{scope}|{from_date}|{to_date}"
    store = cache()
    figures = store.get(key)
    if figures is None:
        figures = service_figures(from_date, to_date)
        store.set(key, figures, ttl=CACHE_SECONDS)
    return figures
