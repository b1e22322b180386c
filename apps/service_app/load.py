"""/app/service-load: the Support Manager's view of the service team's load, and the
bulk move of cases to another agent or team.

- Open load per agent and per team queue, by age (0-1, 1-3, 3-7, over 7 days since the
  case was opened), against each agent's capacity (Service Team Member.capacity).
- Peaks: cases opened per hour of the day and per weekday over the last ``days`` days.
- Bulk move: the checked open cases go to another agent and/or team. Each case is saved
  through Document (permission on the stored case, validation, versions, the workflow's
  rules); its assignment list follows ``assigned_to`` (service_app/routing.py).

Support Managers and System Managers only. Figures are SQL aggregates (grouped counts
per age bucket), read through the permission-filtered query API."""
import datetime

from django.http import HttpResponseRedirect
from django.utils.dates import WEEKDAYS  # Monday = 0, in Django's own translations
from django.utils.translation import gettext as _

import lowcode
from lowcode import params
from lowcode.context import local
from lowcode.desk.render import render
from lowcode.desk.views.common import desk_view
from lowcode.exceptions import LowcodeError, ValidationError

from service_app.routing import OPEN_STATUSES

MANAGERS = ["Support Manager", "System Manager"]
#: age buckets: (key, older than days, at most days)
AGES = (("0-1d", 0, 1), ("1-3d", 1, 3), ("3-7d", 3, 7), (">7d", 7, None))
AGE_KEYS = tuple(age[0] for age in AGES)
MAX_MOVE = 500


def _ago(days, now):
    return (now - datetime.timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S.%f")


def _no_load(**values):
    return dict(dict.fromkeys(AGE_KEYS, 0), open=0, **values)


def open_load(group_field, now=None):
    """{group value: {"open": n, "0-1d": n, ...}} of open cases per ``assigned_to`` or
    ``service_team`` (None: no agent / no team)."""
    now = now or datetime.datetime.now()
    out = {}
    for key, after, until in AGES:
        filters = [["status", "in", list(OPEN_STATUSES)]]
        if until is not None:
            filters.append(["creation", ">=", _ago(until, now)])
        if after:
            filters.append(["creation", "<", _ago(after, now)])
        for row in lowcode.get_list("Case", fields=[group_field, "count(name) as n"], filters=filters,
                                    group_by=group_field, order_by=None, limit_page_length=0):
            load = out.setdefault(row[group_field], _no_load())
            load[key] += row["n"]
            load["open"] += row["n"]
    return out


def capacities():
    """{user: capacity} from the team memberships (the largest where several)."""
    out = {}
    for user, capacity in local.db.sql("SELECT `user`, `capacity` FROM `tabService Team Member` "
                                       "WHERE `parenttype`='Service Team'"):
        if user:
            out[user] = max(out.get(user) or 0, int(capacity or 0)) or None
    return out


def peaks(days=28, now=None):
    """Cases opened in the last ``days`` days per hour (0-23) and per weekday (0 = Monday)."""
    now = now or datetime.datetime.now()
    by_hour, by_weekday = [0] * 24, [0] * 7
    # Hours and weekdays are read in Python: the two engines name those SQL functions differently.
    for created in lowcode.get_list("Case", filters=[["creation", ">=", _ago(days, now)]], pluck="creation",
                                    order_by=None, limit_page_length=0):
        moment = datetime.datetime.fromisoformat(str(created)[:19])
        by_hour[moment.hour] += 1
        by_weekday[moment.weekday()] += 1
    return {"hour": by_hour, "weekday": by_weekday}


@lowcode.whitelist()
def team_load(days: int = 28):
    lowcode.only_for(MANAGERS)
    days = params.integer(days, "days", default=28, minimum=1, maximum=366, error=ValidationError)
    agents = open_load("assigned_to")
    caps = capacities()
    for user in caps:
        agents.setdefault(user, _no_load())
    agent_rows = [dict(load, agent=user, capacity=caps.get(user)) for user, load in agents.items() if user]
    teams = open_load("service_team")
    team_rows = [dict(load, team=team) for team, load in teams.items()]
    for team in lowcode.get_list("Service Team", pluck="name", limit_page_length=0):
        if team not in teams:
            team_rows.append(_no_load(team=team))
    return {
        "agents": sorted(agent_rows, key=lambda r: (-r["open"], r["agent"])),
        "unassigned": agents.get(None),
        "teams": sorted(team_rows, key=lambda r: (r["team"] is None, -r["open"], r["team"] or "")),
        "peaks": peaks(days), "days": days,
    }


@lowcode.whitelist(methods=["POST"])
def move_cases(names, assigned_to: str = None, service_team: str = None):
    """Move open or closed cases to another agent and/or team, all or nothing."""
    lowcode.only_for(MANAGERS)
    if isinstance(names, str):
        names = params.loads(names, "names", error=ValidationError) if names.startswith("[") else [names]
    names = list(dict.fromkeys(n for n in names or [] if isinstance(n, str) and n))
    if not names:
        raise ValidationError(_("Select at least one case"), field="names")
    if len(names) > MAX_MOVE:
        raise ValidationError(_("Select at most %(n)s cases at once") % {"n": MAX_MOVE}, field="names")
    values = {}
    if assigned_to:
        enabled = local.db.sql("SELECT `enabled` FROM `tabUser` WHERE `name`=%s", (assigned_to,), pluck=True)
        if not enabled or not int(enabled[0] or 0):
            raise ValidationError(_("No active user %(user)s") % {"user": assigned_to}, field="assigned_to")
        values["assigned_to"] = assigned_to
    if service_team:
        if not local.db.exists("Service Team", service_team):
            raise ValidationError(_("No service team %(team)s") % {"team": service_team}, field="service_team")
        values["service_team"] = service_team
    if not values:
        raise ValidationError(_("Choose an agent or a team to move the cases to"), field="assigned_to")
    for name in names:
        doc = lowcode.get_doc("Case", name)
        doc.update(values)
        doc.save()
    return {"moved": len(names)}


@desk_view
def page(request, name):
    """/app/service-load"""
    lowcode.only_for(MANAGERS)
    error = field = None
    status = 200
    if request.method == "POST":
        try:
            result = move_cases(request.POST.getlist("names"), request.POST.get("assigned_to") or None,
                                request.POST.get("service_team") or None)
            return HttpResponseRedirect(f"/app/service-load?moved={result['moved']}")
        except LowcodeError as e:
            if e.http_status == 403:
                raise
            local.db.rollback()
            local.db.begin()
            error, field, status = e.message, e.field, e.http_status
    data = team_load(request.GET.get("days"))
    filters = [["status", "in", list(OPEN_STATUSES)]]
    agent, team = request.GET.get("agent"), request.GET.get("team")
    if agent:
        filters.append(["assigned_to", "=", agent] if agent != "-" else ["assigned_to", "is", "not set"])
    if team:
        filters.append(["service_team", "=", team] if team != "-" else ["service_team", "is", "not set"])
    cases = lowcode.get_list("Case", fields=["name", "subject", "status", "assigned_to", "service_team", "creation"],
                             filters=filters, order_by="creation asc", limit_page_length=200)
    return render("service_app/service_load.html", status=status, data=data, ages=AGE_KEYS,
                  weekdays=[str(WEEKDAYS[i]) for i in range(7)], cases=cases, agent=agent, team=team,
                  error=error, error_field=field, moved=request.GET.get("moved"))
