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
"""
import bisect
import datetime
import math

import lowcode
from lowcode.caches import cache
from lowcode.context import local

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


def _cases(fields, filters):
    return lowcode.get_list("Case", fields=fields, filters=filters, limit_page_length=0, as_list=True,
                            order_by=None)


def median(values):
    if not values:
        return None
    s = sorted(values)
    mid = len(s) // 2
    return float(s[mid]) if len(s) % 2 else (s[mid - 1] + s[mid]) / 2.0


def p90(values):
    if not values:
        return None
    s = sorted(values)
    return float(s[math.ceil(0.9 * len(s)) - 1])


def _hours(seconds):
    return None if seconds is None else round(seconds / 3600.0, 2)


def _times(values):
    values = [float(v) for v in values if v is not None]
    return {"count": len(values), "median_hours": _hours(median(values)), "p90_hours": _hours(p90(values))}


def _dt(value):
    if value is None or isinstance(value, datetime.datetime):
        return value
    return datetime.datetime.fromisoformat(str(value)[:19])


def _counts(values):
    out = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


def open_cases(now=None):
    """Open cases by state, priority and agent, and the backlog's age (now)."""
    now = now or datetime.datetime.now()
    rows = _cases(["status", "priority", "assigned_to", "opened_on"], [["status", "in", list(OPEN_STATES)]])
    by_status = _counts(r[0] for r in rows)
    ages = sorted((now - _dt(r[3])).total_seconds() / 86400 for r in rows if r[3] is not None)
    starts = [days for _, days in AGE_BUCKETS]
    buckets = [0] * len(AGE_BUCKETS)
    for age in ages:
        buckets[bisect.bisect_right(starts, age) - 1 if age >= 0 else 0] += 1
    return {
        "total": len(rows),
        "by_status": [{"status": s, "count": by_status.get(s, 0)} for s in OPEN_STATES],
        "by_priority": sorted(({"priority": k, "count": n} for k, n in _counts(r[1] for r in rows).items()),
                              key=lambda p: (_priority_rank().get(p["priority"], 999), p["priority"] or "")),
        "by_agent": sorted(({"agent": k, "count": n} for k, n in _counts(r[2] for r in rows).items()),
                           key=lambda a: (-a["count"], a["agent"] or "")),
        "age": [{"bucket": label, "count": n} for (label, _), n in zip(AGE_BUCKETS, buckets)],
        "median_age_days": round(median(ages), 1) if ages else None,
        "oldest_age_days": round(ages[-1], 1) if ages else None,
    }


def _priority_rank():
    return {p["name"]: p["rank"] or 0 for p in lowcode.get_all("Issue Priority", fields=["name", "rank"])}


def crisis_cases():
    """Open crisis cases, oldest first: on the dashboard until they are closed."""
    return lowcode.get_list("Case", fields=["name", "subject", "customer", "priority", "status", "assigned_to",
                                            "opened_on"],
                            filters=[["is_crisis", "=", 1], ["status", "in", list(OPEN_STATES)]],
                            order_by="opened_on asc", limit_page_length=0)


def period_figures(from_date, to_date):
    """Response and resolution times, SLA compliance, reopen rate, cases per customer and
    peaks over the cases opened in the period (module docstring)."""
    rows = _cases(["opened_on", "customer", "status", "first_response_time", "resolution_time", "response_by",
                   "resolution_by", "response_breached", "resolution_breached", "reopen_count"],
                  _period(from_date, to_date, "opened_on"))
    with_due = [r for r in rows if r[5] is not None or r[6] is not None]
    breached = [r for r in with_due if r[7] or r[8]]
    kept = [r for r in with_due if r[2] in DONE_STATES and not (r[7] or r[8])]
    resolved_once = [r for r in rows if r[2] in DONE_STATES or (r[9] or 0) > 0]
    reopened = [r for r in resolved_once if (r[9] or 0) > 0]
    hours, weekdays = [0] * 24, [0] * 7
    for (day, hour), n in _counts((str(r[0])[:10], int(str(r[0])[11:13])) for r in rows).items():
        hours[hour] += n
        weekdays[datetime.date.fromisoformat(day).weekday()] += n
    return {
        "cases": len(rows),
        "first_response": _times(r[3] for r in rows),
        "resolution": _times(r[4] for r in rows),
        "sla": {"with_due_time": len(with_due), "measured": len(kept) + len(breached), "kept": len(kept),
                "breached": len(breached), "compliance_percent": _rate(len(kept), len(kept) + len(breached))},
        "reopen": {"resolved": len(resolved_once), "reopened": len(reopened),
                   "rate_percent": _rate(len(reopened), len(resolved_once))},
        "customers": _customers(rows, from_date, to_date),
        "by_hour": [{"hour": h, "count": n} for h, n in enumerate(hours)],
        "by_weekday": [{"weekday": WEEKDAYS[d], "count": n} for d, n in enumerate(weekdays)],
    }


def _customers(rows, from_date, to_date):
    """The customers with most cases in the period, with their net revenue (module
    docstring: whose revenue a viewer sees)."""
    counts = _counts(r[1] for r in rows if r[1])
    top = sorted(counts.items(), key=lambda c: (-c[1], c[0]))[:TOP_CUSTOMERS]
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


def satisfaction(from_date, to_date):
    """CSAT and NPS month by month, by the day the survey was answered, and overall."""
    rows = _cases(["survey_answered_on", "satisfaction_score", "nps_score"],
                  _period(from_date, to_date, "survey_answered_on"))
    months = {}
    for answered, csat, nps in rows:
        m = months.setdefault(str(answered)[:7], ([], []))
        if csat is not None:
            m[0].append(float(csat))
        if nps is not None:
            m[1].append(int(nps))
    out = [dict(month=month, **_scores(*months[month])) for month in sorted(months)]
    return {"by_month": out, "overall": _scores([float(r[1]) for r in rows if r[1] is not None],
                                               [int(r[2]) for r in rows if r[2] is not None])}


def _scores(csat, nps):
    promoters = sum(1 for s in nps if s >= 9)
    detractors = sum(1 for s in nps if s <= 6)
    return {"csat": round(sum(csat) / len(csat), 2) if csat else None, "csat_answers": len(csat),
            "nps": round(100.0 * (promoters - detractors) / len(nps), 1) if nps else None,
            "nps_answers": len(nps)}


@lowcode.whitelist()
def service_figures(from_date: str = None, to_date: str = None):
    """Every figure of the service dashboard, over the viewer's cases (module docstring)."""
    _dates(from_date, to_date)  # a bad date is a clear error naming it
    return {"open": open_cases(), "crisis": crisis_cases(), "period": period_figures(from_date, to_date),
            "satisfaction": satisfaction(from_date, to_date)}


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
