"""Time spent on cases: the timer on the case form (start/stop), the case's total
hours, and totals per case, customer, agent and month for a period (/app/case-hours).

Totals read time logs through the permission-filtered query API, so an agent's totals
cover the logs they may see (their own, and those of the cases they may read)."""
import datetime

from django.utils.translation import gettext as _

import lowcode
from lowcode.context import local
from lowcode.desk.render import render
from lowcode.desk.views.common import date_param, desk_view
from lowcode.exceptions import ValidationError
from lowcode.utils import now_datetime

GROUPS = ("case", "customer", "agent", "month")


def as_datetime(value):
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        return value
    return datetime.datetime.fromisoformat(str(value)[:19])


def update_case_hours(*cases):
    """Case.total_hours := the sum of its logs. Written directly: it is bookkeeping of
    the logs (as Frappe's timesheets update tasks), not an edit of the case."""
    for case in dict.fromkeys(c for c in cases if c):
        total = local.db.sql("SELECT COALESCE(SUM(`hours`), 0) FROM `tabCase Time Log` WHERE `case`=%s", (case,))
        local.db.sql("UPDATE `tabCase` SET `total_hours`=%s WHERE `name`=%s", (round(float(total[0][0]), 2), case))


def running_log(case, agent):
    rows = local.db.sql("SELECT `name` FROM `tabCase Time Log` WHERE `case`=%s AND `agent`=%s AND `to_time` IS NULL "
                        "ORDER BY `from_time` DESC LIMIT 1", (case, agent), pluck=True)
    return rows[0] if rows else None


@lowcode.whitelist(methods=["POST"])
def start_timer(case: str):
    """Start the user's timer on ``case`` (one running timer per agent and case)."""
    if running_log(case, local.user):
        raise ValidationError(_("Your timer on this case is already running"), field="case")
    log = lowcode.get_doc({"doctype": "Case Time Log", "case": case, "agent": local.user,
                           "from_time": now_datetime().strftime("%Y-%m-%d %H:%M:%S")}).insert()
    return {"name": case, "time_log": log.name}


@lowcode.whitelist(methods=["POST"])
def stop_timer(case: str, description: str = None):
    name = running_log(case, local.user)
    if not name:
        raise ValidationError(_("You have no timer running on this case"), field="case")
    log = lowcode.get_doc("Case Time Log", name)
    log.to_time = now_datetime().strftime("%Y-%m-%d %H:%M:%S")
    if description:
        log.description = description
    log.save()
    return {"name": case, "time_log": log.name, "hours": log.hours}


@lowcode.whitelist()
def time_totals(group_by: str = "case", from_date: str = None, to_date: str = None):
    """[{"key", "hours", "billable_hours", "logs"}] per ``group_by`` (case, customer,
    agent or month) over the logs that start in the period (whole days, both ends
    included), largest first (months in order)."""
    if group_by not in GROUPS:
        raise ValidationError(f"group_by must be one of {', '.join(GROUPS)}", field="group_by")
    from crm_app.reports import _period  # the CRM reports' period: bad dates named, last day included
    rows = lowcode.get_list("Case Time Log", fields=["case", "customer", "agent", "from_time", "hours", "billable"],
                            filters=_period(from_date, to_date, "from_time"), limit_page_length=0)
    # Months are not a column the query API groups by: summed here, over the permitted rows.
    totals = {}
    for r in rows:
        key = str(r["from_time"])[:7] if group_by == "month" else r[group_by]
        t = totals.setdefault(key, {"key": key, "hours": 0.0, "billable_hours": 0.0, "logs": 0})
        t["hours"] += float(r["hours"] or 0)
        t["billable_hours"] += float(r["hours"] or 0) if int(r["billable"] or 0) else 0
        t["logs"] += 1
    out = [dict(t, hours=round(t["hours"], 2), billable_hours=round(t["billable_hours"], 2)) for t in totals.values()]
    if group_by == "month":
        return sorted(out, key=lambda t: t["key"] or "")
    return sorted(out, key=lambda t: (-t["hours"], str(t["key"])))


@desk_view
def page(request, name):
    """/app/case-hours: time_totals as a page (group and period from the query string)."""
    group_by = request.GET.get("group_by") or "case"
    from_date, to_date = date_param(request, "from_date", None), date_param(request, "to_date", None)
    error, status, rows = None, 200, []
    try:
        rows = time_totals(group_by, from_date, to_date)
    except ValidationError as e:
        error, status = e.message, e.http_status
    groups = {"case": _("Case"), "customer": _("Customer"), "agent": _("Agent"), "month": _("Month")}
    return render("service_app/case_hours.html", status=status, rows=rows, groups=groups, group_by=group_by,
                  from_date=from_date or "", to_date=to_date or "", error=error,
                  total=round(sum(r["hours"] for r in rows), 2))
