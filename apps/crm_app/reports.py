"""Sales reports: aggregates (counts, sums, rates), never rows.

Whose records a figure covers (the same rule on the Sales dashboard, whose help says it):
- Sales Managers, Marketing Users, CRM Admins and System Managers analyse the business,
  so their figures cover every lead and opportunity (crm_app.permissions.aggregate_scope),
  whatever rows their lists show them.
- Anyone else (a Sales User) gets figures from the rows they may read; salesperson
  performance and task punctuality show only their own line. Marketing costs are spent
  on everybody's leads, so ROI figures carry costs only for the whole population: a
  Sales User sees their leads, deals and revenue per source, without cost or ROI
  (costs and revenue always cover the same leads).
- Money is net of taxes: revenue is an opportunity's won amount, which an accepted
  quotation sets to its net total (its grand total is kept apart on the opportunity).

Dates are business dates, not the time a record was typed in: leads count by
``lead_date`` (when the lead arrived), opportunities by ``transaction_date`` (when the
deal opened), wins and losses by ``closed_on``, costs by their own date, tasks by
``completed_on``, activities by when they happen."""
import datetime
import statistics

import jdatetime

import lowcode
from lowcode.context import local
from lowcode.desk.formatting import month_label, month_of
from lowcode.desk.render import prefs
from lowcode.exceptions import ValidationError

from crm_app.permissions import aggregate_scope, is_analyst

LEAD_STAGES = ("New", "Contacted", "Qualified", "Converted")
OPEN_STAGES = ("Prospecting", "Qualification", "Proposal", "Negotiation")


def _dates(from_date, to_date):
    """The period's bounds as ISO dates (either may be empty); a clear error names a
    bad one."""
    out = []
    for name, value in (("from_date", from_date), ("to_date", to_date)):
        if value in (None, ""):
            out.append(None)
            continue
        try:
            out.append(datetime.date.fromisoformat(str(value)[:10]).isoformat())
        except ValueError:
            raise ValidationError(f"{name} is not a date (YYYY-MM-DD): {value!r}", field=name) from None
    if out[0] and out[1] and out[0] > out[1]:
        raise ValidationError("from_date is after to_date", field="from_date")
    return out


def _period(from_date, to_date, field):
    """Filters for a period of whole days on a date or datetime field, the last day
    included."""
    from_date, to_date = _dates(from_date, to_date)
    filters = []
    if from_date:
        filters.append([field, ">=", from_date])
    if to_date:
        filters.append([field, "<=", to_date + " 23:59:59.999999"])
    return filters


def _rows(doctype, fields, filters, **kwargs):
    """The rows a figure is computed from, in the viewer's scope (module docstring)."""
    with aggregate_scope():
        return lowcode.get_list(doctype, fields=fields, filters=filters, limit_page_length=0, **kwargs)


def _count(doctype, filters):
    with aggregate_scope():
        return lowcode.get_count(doctype, filters=filters)


def _mine(field):
    """Per-person reports: an analyst sees every person, anyone else only themselves."""
    return [[field, "is", "set"]] if is_analyst() else [[field, "=", local.user]]


def _by(rows, field):
    """{value: [rows with it]}, in the rows' order: each group is read once, not the
    whole list again for every person or source."""
    out = {}
    for r in rows:
        out.setdefault(r[field], []).append(r)
    return out


def _rate(part, whole):
    return round(100.0 * part / whole, 1) if whole else None


@lowcode.whitelist()
def sales_funnel(from_date: str = None, to_date: str = None):
    """How many leads that arrived in the period reached each status, opportunities and
    wins, with the conversion rate between every pair of stages."""
    period = _period(from_date, to_date, "lead_date")
    # Counted in SQL (a row per status, not per lead: a million leads answer in a few rows)
    by_status = {r["status"]: r["count"] for r in
                 _rows("Lead", ["status", "count(*) as count"], period, group_by="status")}
    rank = {s: i for i, s in enumerate(LEAD_STAGES)}
    reached = dict.fromkeys(LEAD_STAGES, 0)
    for status, n in by_status.items():
        for stage in LEAD_STAGES[:rank.get(status, 0) + 1]:
            reached[stage] += n
    if by_status.get("Unqualified"):  # disqualified after being contacted: reached Contacted
        reached["Contacted"] += _count("Lead", period + [["status", "=", "Unqualified"],
                                                         ["first_contacted_on", "is", "set"]])
    opportunity_leads = _rows("Lead", ["opportunity"], period + [["opportunity", "is", "set"]],
                              group_by="opportunity", pluck="opportunity")
    won = 0
    if opportunity_leads:
        won = _count("Opportunity", [["name", "in", opportunity_leads], ["sales_stage", "=", "Won"]])
    stages = [(s, reached[s]) for s in LEAD_STAGES] + [("Opportunity", len(opportunity_leads)), ("Won", won)]
    matrix = []
    for i, (a, na) in enumerate(stages):
        for b, nb in stages[i + 1:]:
            matrix.append({"from": a, "to": b, "rate": _rate(nb, na)})
    return {"stages": [{"stage": s, "count": n} for s, n in stages], "conversion": matrix,
            "unqualified": by_status.get("Unqualified", 0)}


def _costs(doctype, from_date, to_date):
    """{parent: cost in the period} from the cost rows of Lead Sources or Campaigns."""
    from_date, to_date = _dates(from_date, to_date)
    filters = []
    if from_date:
        filters.append([f"{doctype} Cost", "date", ">=", from_date])
    if to_date:
        filters.append([f"{doctype} Cost", "date", "<=", to_date])
    rows = lowcode.get_list(doctype, fields=["name", "costs.amount as amount", "costs.date as date"],
                            filters=filters, limit_page_length=0)
    out = {}
    for r in rows:
        if r["amount"] is None:
            continue
        if (from_date and r["date"] < from_date) or (to_date and r["date"] > to_date):
            continue
        out[r["name"]] = out.get(r["name"], 0.0) + float(r["amount"])
    return out


def _roi(doctype, link_field, from_date, to_date):
    """Costs dated in the period against the leads that arrived and the deals that
    opened in it (and what those deals won); costs only where the figures cover the
    whole population (module docstring)."""
    with_costs = is_analyst()
    costs = _costs(doctype, from_date, to_date) if with_costs else {}
    leads = _rows("Lead", [link_field, "status"],
                  _period(from_date, to_date, "lead_date") + [[link_field, "is", "set"]])
    opps = _rows("Opportunity", [link_field, "sales_stage", "won_amount"],
                 _period(from_date, to_date, "transaction_date") + [[link_field, "is", "set"]])
    leads_of, opps_of = _by(leads, link_field), _by(opps, link_field)
    out = []
    for name in sorted(set(costs) | set(leads_of) | set(opps_of)):
        n_leads = len(leads_of.get(name, ()))
        wins = [r for r in opps_of.get(name, ()) if r["sales_stage"] == "Won"]
        revenue = sum((float(r["won_amount"] or 0) for r in wins), 0.0)
        cost = round(costs.get(name, 0.0), 2) if with_costs else None
        out.append({link_field: name, "cost": cost, "leads": n_leads,
                    "converted_leads": sum(1 for r in leads_of.get(name, ()) if r["status"] == "Converted"),
                    "opportunities": len(opps_of.get(name, ())), "won": len(wins), "revenue": round(revenue, 2),
                    "cost_per_lead": round(cost / n_leads, 2) if with_costs and n_leads else None,
                    "roi_percent": _rate(revenue - cost, cost) if with_costs else None})
    return out


@lowcode.whitelist()
def source_roi(from_date: str = None, to_date: str = None):
    """Per lead source: cost, leads, opportunities, wins, net revenue, cost per lead, ROI."""
    return _roi("Lead Source", "source", from_date, to_date)


@lowcode.whitelist()
def campaign_roi(from_date: str = None, to_date: str = None):
    """Per campaign: cost, leads, opportunities, wins, net revenue, cost per lead, ROI."""
    return _roi("Campaign", "campaign", from_date, to_date)


def _days_between(start, end):
    a = datetime.date.fromisoformat(str(start)[:10])
    b = datetime.date.fromisoformat(str(end)[:10])
    return (b - a).days


CYCLE_FIELDS = ["lead", "opportunity_from", "party_name", "transaction_date", "closed_on"]


def _cycle_days(wins):
    """Days from each won deal's arrival to its win: from its lead's Lead Date (the lead
    it was converted from, or its party while still a lead), else from the deal's own
    date. The lead dates are read without row rules: the day a deal's lead arrived
    belongs to the deal the viewer may read (its lead may be a colleague's), and only
    the day is taken. ``wins`` carry CYCLE_FIELDS."""
    lead_of = [r["lead"] or (r["party_name"] if r["opportunity_from"] == "Lead" else None) for r in wins]
    leads = sorted({lead for lead in lead_of if lead})
    arrived = {r["name"]: r["lead_date"] for r in lowcode.get_all("Lead", fields=["name", "lead_date"],
                                                                  filters=[["name", "in", leads]])} if leads else {}
    return [_days_between(arrived.get(lead) or r["transaction_date"], r["closed_on"]) for r, lead in zip(wins, lead_of)]


@lowcode.whitelist()
def salesperson_performance(from_date: str = None, to_date: str = None):
    """Per salesperson: leads that arrived in the period (contacted, converted),
    opportunities opened in it, and the deals closed in it: wins, win rate (won /
    closed), average sales cycle (days from the lead's arrival to the win,
    _cycle_days), net revenue, and revenue against their targets overlapping the
    period (for those who may read Sales Targets)."""
    leads = _rows("Lead", ["lead_owner", "status", "first_contacted_on"],
                  _period(from_date, to_date, "lead_date") + _mine("lead_owner"))
    opened = _rows("Opportunity", ["opportunity_owner"],
                   _period(from_date, to_date, "transaction_date") + _mine("opportunity_owner"))
    closed = _rows("Opportunity", ["opportunity_owner", "sales_stage", "won_amount"] + CYCLE_FIELDS,
                   _period(from_date, to_date, "closed_on") + [["sales_stage", "in", ["Won", "Lost"]]]
                   + _mine("opportunity_owner"))
    targets = {}
    if lowcode.has_permission("Sales Target", "read"):
        from_day, to_day = _dates(from_date, to_date)
        target_filters = _mine("user")
        if from_day:
            target_filters.append(["period_end", ">=", from_day])
        if to_day:
            target_filters.append(["period_start", "<=", to_day])
        for t in lowcode.get_list("Sales Target", fields=["user", "target_amount"], filters=target_filters,
                                  limit_page_length=0):
            targets[t["user"]] = targets.get(t["user"], 0.0) + float(t["target_amount"] or 0)
    leads_of, opened_of = _by(leads, "lead_owner"), _by(opened, "opportunity_owner")
    closed_of = _by(closed, "opportunity_owner")
    out = []
    for user in sorted(set(leads_of) | set(opened_of) | set(closed_of) | set(targets)):
        mine = leads_of.get(user, [])
        my_closed = closed_of.get(user, [])
        wins = [r for r in my_closed if r["sales_stage"] == "Won"]
        revenue = sum((float(r["won_amount"] or 0) for r in wins), 0.0)
        cycles = _cycle_days(wins)
        target = targets.get(user)
        out.append({
            "user": user, "leads": len(mine),
            "contacted": sum(1 for r in mine if r["first_contacted_on"] or r["status"] in LEAD_STAGES[1:]),
            "converted": sum(1 for r in mine if r["status"] == "Converted"),
            "lead_conversion_percent": _rate(sum(1 for r in mine if r["status"] == "Converted"), len(mine)),
            "opportunities": len(opened_of.get(user, ())), "won": len(wins),
            "win_rate_percent": _rate(len(wins), len(my_closed)),
            "avg_cycle_days": round(sum(cycles) / len(cycles), 1) if cycles else None,
            "revenue": round(revenue, 2), "target": target,
            "target_percent": _rate(revenue, target) if target else None})
    return out


@lowcode.whitelist()
def task_punctuality(from_date: str = None, to_date: str = None):
    """Per assignee: tasks with a due date completed in the period, how many on or
    before the due date, and the on-time rate. Completion keeps its time
    (``completed_on``), so punctuality is known after the overdue flag is cleared."""
    rows = _rows("Task", ["assigned_to", "due_date", "completed_on"],
                 _period(from_date, to_date, "completed_on") + [["status", "=", "Completed"],
                                                                ["due_date", "is", "set"]] + _mine("assigned_to"))
    out = {}
    for r in rows:
        p = out.setdefault(r["assigned_to"], {"user": r["assigned_to"], "completed": 0, "on_time": 0, "late": 0})
        p["completed"] += 1
        if str(r["completed_on"])[:10] <= str(r["due_date"])[:10]:
            p["on_time"] += 1
        else:
            p["late"] += 1
    for p in out.values():
        p["on_time_percent"] = _rate(p["on_time"], p["completed"])
    return [out[u] for u in sorted(out)]


@lowcode.whitelist()
def weighted_pipeline():
    """Open opportunities by stage and expected closing month (in the user's calendar:
    "1409-12" for a Jalali user): amount and amount weighted by probability."""
    # Summed in SQL per stage, day and probability; the months (in the user's calendar) here
    rows = _rows("Opportunity", ["sales_stage", "expected_closing", "probability", "count(*) as count",
                                 "sum(opportunity_amount) as amount"],
                 [["sales_stage", "in", list(OPEN_STAGES)]], group_by="sales_stage, expected_closing, probability")
    buckets = {}
    user_prefs = prefs()
    for r in rows:
        month = month_of(r["expected_closing"], user_prefs) or "unscheduled"
        key = (r["sales_stage"], month)
        b = buckets.setdefault(key, {"stage": r["sales_stage"], "month": month, "count": 0, "amount": 0.0,
                                     "weighted": 0.0})
        amount = float(r["amount"] or 0)
        b["count"] += r["count"]
        b["amount"] += amount
        b["weighted"] += amount * float(r["probability"] or 0) / 100
    order = {s: i for i, s in enumerate(OPEN_STAGES)}
    out = sorted(buckets.values(), key=lambda b: (order[b["stage"]], b["month"]))
    for b in out:
        b["amount"], b["weighted"] = round(b["amount"], 2), round(b["weighted"], 2)
    return out


@lowcode.whitelist()
def lost_reasons(from_date: str = None, to_date: str = None):
    """Deals lost in the period, by reason: how many and their net amount."""
    rows = _rows("Opportunity", ["lost_reason", "count(*) as count", "sum(opportunity_amount) as amount"],
                 _period(from_date, to_date, "closed_on") + [["sales_stage", "=", "Lost"]],
                 group_by="lost_reason", order_by="count desc")
    return [{"lost_reason": r["lost_reason"] or "(none)", "count": r["count"], "amount": round(float(r["amount"] or 0), 2)}
            for r in rows]


@lowcode.whitelist()
def competitor_analysis(from_date: str = None, to_date: str = None):
    """Per competitor: opportunities they were in, their average offer, and how often
    they won the deal against us (opportunities lost to them, Opportunity.lost_to_competitor).
    Both over the opportunities opened in the period."""
    period = _period(from_date, to_date, "transaction_date")
    rows = _rows("Opportunity", ["name", "sales_stage", "competitors.competitor as competitor",
                                 "competitors.offered_amount as offered"],
                 period + [["Opportunity Competitor", "competitor", "is", "set"]])
    lost_to = _rows("Opportunity", ["name", "lost_to_competitor"],
                    period + [["sales_stage", "=", "Lost"], ["lost_to_competitor", "is", "set"]])
    out = {}
    seen = set()
    for r in rows + [{"name": r["name"], "sales_stage": "Lost", "competitor": r["lost_to_competitor"],
                      "offered": None} for r in lost_to]:
        if not r["competitor"] or (r["name"], r["competitor"]) in seen:
            continue
        seen.add((r["name"], r["competitor"]))
        c = out.setdefault(r["competitor"], {"competitor": r["competitor"], "opportunities": 0, "offers": [],
                                             "they_won": 0, "we_won": 0})
        c["opportunities"] += 1
        if r["offered"] is not None:
            c["offers"].append(float(r["offered"]))
        c["we_won"] += int(r["sales_stage"] == "Won")
    for r in lost_to:
        out[r["lost_to_competitor"]]["they_won"] += 1
    result = []
    for c in sorted(out.values(), key=lambda c: -c["opportunities"]):
        offers = c.pop("offers")
        c["average_offer"] = round(sum(offers) / len(offers), 2) if offers else None
        result.append(c)
    return result


@lowcode.whitelist()
def activity_metrics(from_date: str = None, to_date: str = None):
    """Calls: how many, how many led to a conversation, their length and the hour of
    day they happen; plus counts of meetings, tasks completed and messages."""
    calls = lowcode.get_list("Call Log", fields=["direction", "outcome", "duration", "started_at"],
                             filters=_period(from_date, to_date, "started_at"), limit_page_length=0)
    connected = [c for c in calls if c["outcome"] == "Connected"]
    durations = [float(c["duration"] or 0) for c in connected]
    by_hour = {}
    for c in calls:
        hour = int(str(c["started_at"])[11:13] or 0)
        slot = by_hour.setdefault(hour, {"hour": hour, "calls": 0, "connected": 0})
        slot["calls"] += 1
        slot["connected"] += int(c["outcome"] == "Connected")
    return {
        "calls": len(calls), "connected": len(connected), "connected_percent": _rate(len(connected), len(calls)),
        "outgoing": sum(1 for c in calls if c["direction"] == "Outgoing"),
        "incoming": sum(1 for c in calls if c["direction"] == "Incoming"),
        "average_talk_seconds": round(sum(durations) / len(durations), 1) if durations else None,
        "by_hour": [by_hour[h] for h in sorted(by_hour)],
        "meetings": lowcode.get_count("Event", filters=_period(from_date, to_date, "starts_on")),
        "tasks_completed": lowcode.get_count("Task", filters=_period(from_date, to_date, "completed_on")
                                             + [["status", "=", "Completed"]]),
        "messages": lowcode.get_count("Communication", filters=_period(from_date, to_date, "communication_date")),
    }


@lowcode.whitelist()
def overdue_follow_ups(rule: str):
    """Customers overdue under a follow-up rule, among those the user may read."""
    from crm_app.followup import overdue_customers
    readable = set(lowcode.get_list("Customer", pluck="name", limit_page_length=0))
    return [{"customer": c, "customer_name": n, "account_manager": m, "last_contact": last}
            for c, n, m, last in overdue_customers(rule) if c in readable]



# -- forecasting and sales management ----------------------------------------------------------------
# Months are the user's (Jalali months for a Jalali user, desk.formatting.month_of); money
# set for a period (a target, a rep's commit) that does not match the viewer's months is
# spread over them by the days it covers, so a quarterly target or a Gregorian month seen
# by a Jalali user still adds up to its amount.

FORECAST_DIMENSIONS = {"month": "month", "rep": "salesperson", "territory": "territory"}
CYCLE_GROUPS = {"rep": "opportunity_owner", "territory": "territory", "source": "source"}


def _next_month(key):
    year, month = int(key[:4]), int(key[5:7])
    return "%04d-%02d" % ((year + 1, 1) if month == 12 else (year, month + 1))


def month_bounds(key, user_prefs):
    """(first day, last day) of a ``month_of`` key, as Gregorian dates."""
    def first(k):
        year, month = int(k[:4]), int(k[5:7])
        if user_prefs.jalali:
            return jdatetime.date(year, month, 1).togregorian()
        return datetime.date(year, month, 1)
    return first(key), first(_next_month(key)) - datetime.timedelta(days=1)


MAX_MONTHS = 240  # a report by month over more than 20 years is a typo in a date


def _months(from_date, to_date, user_prefs, default_span=3, back=False):
    """The whole months (key, first day, last day) the period touches; without dates,
    ``default_span`` months from this one onwards (or, ``back``, up to this one)."""
    from_date, to_date = _dates(from_date, to_date)
    if not from_date and not to_date:
        keys = [month_of(datetime.date.today(), user_prefs)]
        for _ in range(default_span - 1):
            if back:
                keys.insert(0, month_of(month_bounds(keys[0], user_prefs)[0] - datetime.timedelta(days=1), user_prefs))
            else:
                keys.append(_next_month(keys[-1]))
    else:
        keys = [month_of(from_date or to_date, user_prefs)]
        end = month_of(to_date or from_date, user_prefs)
        while keys[-1] < end:
            if len(keys) >= MAX_MONTHS:
                raise ValidationError(f"The period spans more than {MAX_MONTHS} months", field="to_date")
            keys.append(_next_month(keys[-1]))
    return [(k, *month_bounds(k, user_prefs)) for k in keys]


def _spread(amount, start, end, months):
    """{month key: the share of ``amount`` for the days of its period in that month}."""
    start = datetime.date.fromisoformat(str(start)[:10])
    end = datetime.date.fromisoformat(str(end or start)[:10])
    days = (end - start).days + 1
    out = {}
    for key, first, last in months:
        overlap = (min(last, end) - max(first, start)).days + 1
        if overlap > 0 and days > 0:
            out[key] = float(amount or 0) * overlap / days
    return out


def group_dimensions(value, allowed):
    """The dimensions of a ``group_by`` argument ("month,rep" or a list), in their order;
    a clear error names an unknown one."""
    names = value if isinstance(value, (list, tuple)) else str(value or "").split(",")
    names = [str(n).strip().lower() for n in names if str(n).strip()]
    unknown = [n for n in names if n not in allowed]
    if unknown or not names:
        raise ValidationError(f"group_by must be one or more of {', '.join(allowed)}: {value!r}", field="group_by")
    return list(dict.fromkeys(names))


def _picked(field, value):
    return [[field, "=", value]] if value else []


@lowcode.whitelist()
def sales_forecast(from_date: str = None, to_date: str = None, salesperson: str = None, territory: str = None,
                   group_by: str = "month,rep,territory"):
    """Per month (expected closing, in the user's calendar), salesperson and territory:
    open pipeline and its amount weighted by probability, the reps' commit and best
    case (Sales Forecast Entry), what was won (closed in the month), the target (Sales
    Target) and attainment (won / target). Whole months the period touches; by default
    this month and the next two. A salesperson sees their own rows only."""
    user_prefs = prefs()
    months = _months(from_date, to_date, user_prefs)
    first, last = months[0][1].isoformat(), months[-1][2].isoformat()
    dims = group_dimensions(group_by, FORECAST_DIMENSIONS)
    opp_filters = _mine("opportunity_owner") + _picked("opportunity_owner", salesperson) + _picked("territory", territory)
    # Summed in SQL per day (and probability): a few rows per rep and day, however many deals
    pipeline = _rows("Opportunity", ["opportunity_owner", "territory", "expected_closing", "probability",
                                     "count(*) as count", "sum(opportunity_amount) as amount"],
                     [["sales_stage", "in", list(OPEN_STAGES)], ["expected_closing", ">=", first],
                      ["expected_closing", "<=", last]] + opp_filters,
                     group_by="opportunity_owner, territory, expected_closing, probability")
    won = _rows("Opportunity", ["opportunity_owner", "territory", "closed_on", "sum(won_amount) as amount"],
                [["sales_stage", "=", "Won"]] + _period(first, last, "closed_on") + opp_filters,
                group_by="opportunity_owner, territory, closed_on")
    overlapping = [["period_end", ">=", first], ["period_start", "<=", last]]
    entries = []
    if lowcode.has_permission("Sales Forecast Entry", "read"):
        entries = lowcode.get_list("Sales Forecast Entry", fields=["salesperson", "territory", "period_start",
                                                                  "period_end", "commit_amount", "best_case_amount"],
                                   filters=overlapping + _mine("salesperson") + _picked("salesperson", salesperson)
                                   + _picked("territory", territory), limit_page_length=0)
    targets = []
    if lowcode.has_permission("Sales Target", "read"):
        targets = lowcode.get_list("Sales Target", fields=["user", "territory", "period_start", "period_end",
                                                          "target_amount"],
                                   filters=overlapping + (_mine("user") if not is_analyst() else [])
                                   + _picked("user", salesperson) + _picked("territory", territory),
                                   limit_page_length=0)
    figures = ("open_count", "pipeline", "weighted", "commit", "best_case", "won", "target")
    rows = {}

    def add(month, rep, terr, **amounts):
        values = {"month": month, "salesperson": rep or "", "territory": terr or ""}
        key = tuple(values[FORECAST_DIMENSIONS[d]] for d in dims)
        row = rows.get(key)
        if row is None:
            row = rows[key] = {FORECAST_DIMENSIONS[d]: values[FORECAST_DIMENSIONS[d]] for d in dims}
            row.update(dict.fromkeys(figures, 0.0))
        for name, amount in amounts.items():
            row[name] += amount

    for r in pipeline:
        amount = float(r["amount"] or 0)
        add(month_of(r["expected_closing"], user_prefs), r["opportunity_owner"], r["territory"],
            open_count=r["count"], pipeline=amount, weighted=amount * float(r["probability"] or 0) / 100)
    for r in won:
        add(month_of(r["closed_on"], user_prefs), r["opportunity_owner"], r["territory"], won=float(r["amount"] or 0))
    for r in entries:
        commit = _spread(r["commit_amount"], r["period_start"], r["period_end"], months)
        best = _spread(r["best_case_amount"], r["period_start"], r["period_end"], months)
        for month in commit:
            add(month, r["salesperson"], r["territory"], commit=commit[month], best_case=best[month])
    for r in targets:
        for month, amount in _spread(r["target_amount"], r["period_start"], r["period_end"], months).items():
            add(month, r["user"], r["territory"], target=amount)
    out = []
    for key in sorted(rows):
        row = rows[key]
        for name in figures[1:]:
            row[name] = round(row[name], 2)
        row["open_count"] = int(row["open_count"])
        row["attainment_percent"] = _rate(row["won"], row["target"]) if row["target"] else None
        if "month" in row:
            row["month_label"] = month_label(row["month"], user_prefs)
        out.append(row)
    return out


@lowcode.whitelist()
def sales_cycle(from_date: str = None, to_date: str = None, group_by: str = "rep"):
    """Deals won in the period (Closed On), per salesperson, territory or source: how
    many, and the days from the lead's arrival (its Lead Date; the deal's own date when
    it came from no lead) to the win: average, median, shortest and longest."""
    field = CYCLE_GROUPS[group_dimensions(group_by, CYCLE_GROUPS)[0]]
    wins = _rows("Opportunity", ["opportunity_owner", "territory", "source"] + CYCLE_FIELDS,
                 _period(from_date, to_date, "closed_on") + [["sales_stage", "=", "Won"], ["closed_on", "is", "set"]]
                 + _mine("opportunity_owner"))
    groups = {}
    for r, days in zip(wins, _cycle_days(wins)):
        groups.setdefault(r[field] or "", []).append(days)
    out = []
    for name in sorted(groups):
        days = sorted(groups[name])
        out.append({"group": name, "won": len(days), "average_days": round(sum(days) / len(days), 1),
                    "median_days": float(statistics.median(days)), "shortest_days": days[0], "longest_days": days[-1]})
    return out


@lowcode.whitelist()
def opportunities_assigned_closed(from_date: str = None, to_date: str = None, salesperson: str = None):
    """Per salesperson and month (the user's calendar): opportunities assigned to them
    (they own it and it arrived in the month, by Opportunity Date), closed won and
    closed lost (by Closed On), the close rate (closed of assigned) and the win rate
    (won of closed). By default the last three months."""
    user_prefs = prefs()
    months = _months(from_date, to_date, user_prefs, back=True)
    first, last = months[0][1].isoformat(), months[-1][2].isoformat()
    mine = _mine("opportunity_owner") + _picked("opportunity_owner", salesperson)
    # counted in SQL per rep and day
    assigned = _rows("Opportunity", ["opportunity_owner", "transaction_date", "count(*) as count"],
                     _period(first, last, "transaction_date") + mine, group_by="opportunity_owner, transaction_date")
    closed = _rows("Opportunity", ["opportunity_owner", "sales_stage", "closed_on", "count(*) as count"],
                   _period(first, last, "closed_on") + [["sales_stage", "in", ["Won", "Lost"]]] + mine,
                   group_by="opportunity_owner, sales_stage, closed_on")
    rows = {}

    def row(user, day):
        month = month_of(day, user_prefs)
        return rows.setdefault((user, month), {"salesperson": user, "month": month, "assigned": 0, "won": 0,
                                               "lost": 0})

    for r in assigned:
        row(r["opportunity_owner"], r["transaction_date"])["assigned"] += r["count"]
    for r in closed:
        row(r["opportunity_owner"], r["closed_on"])["won" if r["sales_stage"] == "Won" else "lost"] += r["count"]
    out = []
    for key in sorted(rows):
        r = rows[key]
        closed_count = r["won"] + r["lost"]
        r.update(month_label=month_label(r["month"], user_prefs), closed=closed_count,
                 close_rate_percent=_rate(closed_count, r["assigned"]), win_rate_percent=_rate(r["won"], closed_count))
        out.append(r)
    return out
