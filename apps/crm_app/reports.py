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

import lowcode
from lowcode.context import local
from lowcode.desk.formatting import month_of
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
    leads = _rows("Lead", ["status", "first_contacted_on", "opportunity"], _period(from_date, to_date, "lead_date"))
    rank = {s: i for i, s in enumerate(LEAD_STAGES)}
    reached = dict.fromkeys(LEAD_STAGES, 0)
    for lead in leads:
        top = rank.get(lead["status"], 0)
        if lead["status"] == "Unqualified" and lead["first_contacted_on"]:
            top = 1  # disqualified after being contacted: reached Contacted
        for stage in LEAD_STAGES[:top + 1]:
            reached[stage] += 1
    opportunity_leads = {lead["opportunity"] for lead in leads if lead["opportunity"]}
    won = 0
    if opportunity_leads:
        won = _count("Opportunity", [["name", "in", sorted(opportunity_leads)], ["sales_stage", "=", "Won"]])
    stages = [(s, reached[s]) for s in LEAD_STAGES] + [("Opportunity", len(opportunity_leads)), ("Won", won)]
    matrix = []
    for i, (a, na) in enumerate(stages):
        for b, nb in stages[i + 1:]:
            matrix.append({"from": a, "to": b, "rate": _rate(nb, na)})
    return {"stages": [{"stage": s, "count": n} for s, n in stages], "conversion": matrix,
            "unqualified": sum(1 for lead in leads if lead["status"] == "Unqualified")}


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


@lowcode.whitelist()
def salesperson_performance(from_date: str = None, to_date: str = None):
    """Per salesperson: leads that arrived in the period (contacted, converted),
    opportunities opened in it, and the deals closed in it: wins, win rate (won /
    closed), average sales cycle (days from the opportunity date to the win), net
    revenue, and revenue against their targets overlapping the period (for those who
    may read Sales Targets)."""
    leads = _rows("Lead", ["lead_owner", "status", "first_contacted_on"],
                  _period(from_date, to_date, "lead_date") + _mine("lead_owner"))
    opened = _rows("Opportunity", ["opportunity_owner"],
                   _period(from_date, to_date, "transaction_date") + _mine("opportunity_owner"))
    closed = _rows("Opportunity", ["opportunity_owner", "sales_stage", "won_amount", "transaction_date", "closed_on"],
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
        cycles = [_days_between(r["transaction_date"], r["closed_on"]) for r in wins]
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
    rows = _rows("Opportunity", ["sales_stage", "expected_closing", "opportunity_amount", "probability"],
                 [["sales_stage", "in", list(OPEN_STAGES)]])
    buckets = {}
    user_prefs = prefs()
    for r in rows:
        month = month_of(r["expected_closing"], user_prefs) or "unscheduled"
        key = (r["sales_stage"], month)
        b = buckets.setdefault(key, {"stage": r["sales_stage"], "month": month, "count": 0, "amount": 0.0,
                                     "weighted": 0.0})
        amount = float(r["opportunity_amount"] or 0)
        b["count"] += 1
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

