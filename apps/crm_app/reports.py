"""Sales reports. Each is a whitelisted function reading through lowcode.get_list, so
the figures a user sees come only from rows they may read. Dates filter on the
document's creation (leads, opportunities) or its own date field (costs, calls)."""
import datetime

import lowcode

LEAD_STAGES = ("New", "Contacted", "Qualified", "Converted")
OPEN_STAGES = ("Prospecting", "Qualification", "Proposal", "Negotiation")


def _period(from_date, to_date, field="creation"):
    """Filters for a period of whole days on a datetime field (every field the reports
    filter by is one), the last day included."""
    filters = []
    if from_date:
        filters.append([field, ">=", from_date])
    if to_date:
        filters.append([field, "<=", to_date[:10] + " 23:59:59.999999"])
    return filters


def _rate(part, whole):
    return round(100.0 * part / whole, 1) if whole else None


@lowcode.whitelist()
def sales_funnel(from_date: str = None, to_date: str = None):
    """How many leads reached each status, opportunities and wins, with the
    conversion rate between every pair of stages."""
    leads = lowcode.get_list("Lead", fields=["status", "first_contacted_on", "opportunity"],
                             filters=_period(from_date, to_date), limit_page_length=0)
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
        won = lowcode.get_count("Opportunity", filters=[["name", "in", sorted(opportunity_leads)],
                                                         ["sales_stage", "=", "Won"]])
    stages = [(s, reached[s]) for s in LEAD_STAGES] + [("Opportunity", len(opportunity_leads)), ("Won", won)]
    matrix = []
    for i, (a, na) in enumerate(stages):
        for b, nb in stages[i + 1:]:
            matrix.append({"from": a, "to": b, "rate": _rate(nb, na)})
    return {"stages": [{"stage": s, "count": n} for s, n in stages], "conversion": matrix,
            "unqualified": sum(1 for lead in leads if lead["status"] == "Unqualified")}


def _costs(doctype, from_date, to_date):
    """{parent: cost in the period} from the cost rows of Lead Sources or Campaigns."""
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
    costs = _costs(doctype, from_date, to_date)
    leads = lowcode.get_list("Lead", fields=[link_field, "opportunity", "status"],
                             filters=_period(from_date, to_date) + [[link_field, "is", "set"]], limit_page_length=0)
    opps = lowcode.get_list("Opportunity", fields=[link_field, "sales_stage", "won_amount"],
                            filters=_period(from_date, to_date) + [[link_field, "is", "set"]], limit_page_length=0)
    names = sorted(set(costs) | {r[link_field] for r in leads} | {r[link_field] for r in opps})
    out = []
    for name in names:
        n_leads = sum(1 for r in leads if r[link_field] == name)
        n_opps = sum(1 for r in opps if r[link_field] == name)
        wins = [r for r in opps if r[link_field] == name and r["sales_stage"] == "Won"]
        revenue = sum(float(r["won_amount"] or 0) for r in wins)
        cost = costs.get(name, 0.0)
        out.append({link_field: name, "cost": round(cost, 2), "leads": n_leads,
                    "converted_leads": sum(1 for r in leads if r[link_field] == name and r["status"] == "Converted"),
                    "opportunities": n_opps, "won": len(wins), "revenue": round(revenue, 2),
                    "cost_per_lead": round(cost / n_leads, 2) if n_leads else None,
                    "roi_percent": _rate(revenue - cost, cost)})
    return out


@lowcode.whitelist()
def source_roi(from_date: str = None, to_date: str = None):
    """Per lead source: cost, leads, opportunities, wins, revenue, cost per lead, ROI."""
    return _roi("Lead Source", "source", from_date, to_date)


@lowcode.whitelist()
def campaign_roi(from_date: str = None, to_date: str = None):
    """Per campaign: cost, leads, opportunities, wins, revenue, cost per lead, ROI."""
    return _roi("Campaign", "campaign", from_date, to_date)


def _days_between(start, end):
    a = datetime.date.fromisoformat(str(start)[:10])
    b = datetime.date.fromisoformat(str(end)[:10])
    return (b - a).days


@lowcode.whitelist()
def salesperson_performance(from_date: str = None, to_date: str = None):
    """Per salesperson: leads assigned, contacted, converted, opportunities, wins, win
    rate (won / closed), average sales cycle (days from creation to win), revenue,
    and revenue against their target for the period."""
    leads = lowcode.get_list("Lead", fields=["lead_owner", "status", "first_contacted_on"],
                             filters=_period(from_date, to_date) + [["lead_owner", "is", "set"]], limit_page_length=0)
    opps = lowcode.get_list("Opportunity", fields=["opportunity_owner", "sales_stage", "won_amount", "creation",
                                                   "closed_on"],
                            filters=_period(from_date, to_date) + [["opportunity_owner", "is", "set"]],
                            limit_page_length=0)
    target_filters = []
    if from_date:
        target_filters.append(["period_end", ">=", from_date])
    if to_date:
        target_filters.append(["period_start", "<=", to_date])
    targets = {}
    for t in lowcode.get_list("Sales Target", fields=["user", "target_amount"],
                              filters=target_filters + [["user", "is", "set"]], limit_page_length=0):
        targets[t["user"]] = targets.get(t["user"], 0.0) + float(t["target_amount"] or 0)
    users = sorted({r["lead_owner"] for r in leads} | {r["opportunity_owner"] for r in opps} | set(targets))
    out = []
    for user in users:
        mine = [r for r in leads if r["lead_owner"] == user]
        my_opps = [r for r in opps if r["opportunity_owner"] == user]
        wins = [r for r in my_opps if r["sales_stage"] == "Won"]
        closed = [r for r in my_opps if r["sales_stage"] in ("Won", "Lost")]
        revenue = sum(float(r["won_amount"] or 0) for r in wins)
        cycles = [_days_between(r["creation"], r["closed_on"]) for r in wins if r["closed_on"]]
        target = targets.get(user)
        out.append({
            "user": user, "leads": len(mine),
            "contacted": sum(1 for r in mine if r["first_contacted_on"] or r["status"] in LEAD_STAGES[1:]),
            "converted": sum(1 for r in mine if r["status"] == "Converted"),
            "lead_conversion_percent": _rate(sum(1 for r in mine if r["status"] == "Converted"), len(mine)),
            "opportunities": len(my_opps), "won": len(wins), "win_rate_percent": _rate(len(wins), len(closed)),
            "avg_cycle_days": round(sum(cycles) / len(cycles), 1) if cycles else None,
            "revenue": round(revenue, 2), "target": target,
            "target_percent": _rate(revenue, target) if target else None})
    return out


@lowcode.whitelist()
def weighted_pipeline():
    """Open opportunities by stage and expected closing month: amount and amount
    weighted by probability."""
    rows = lowcode.get_list("Opportunity", fields=["sales_stage", "expected_closing", "opportunity_amount",
                                                   "probability"],
                            filters=[["sales_stage", "in", list(OPEN_STAGES)]], limit_page_length=0)
    buckets = {}
    for r in rows:
        month = (r["expected_closing"] or "")[:7] or "unscheduled"
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
    rows = lowcode.get_list("Opportunity", fields=["lost_reason", "count(*) as count",
                                                   "sum(opportunity_amount) as amount"],
                            filters=_period(from_date, to_date) + [["sales_stage", "=", "Lost"]],
                            group_by="lost_reason", order_by="count desc", limit_page_length=0)
    return [{"lost_reason": r["lost_reason"] or "(none)", "count": r["count"], "amount": round(float(r["amount"] or 0), 2)}
            for r in rows]


@lowcode.whitelist()
def competitor_analysis(from_date: str = None, to_date: str = None):
    """Per competitor: opportunities they were in, their average offer, and how often
    they won the deal against us."""
    rows = lowcode.get_list("Opportunity", fields=["name", "sales_stage", "competitors.competitor as competitor",
                                                   "competitors.offered_amount as offered",
                                                   "competitors.won_by_competitor as won_by_competitor"],
                            filters=_period(from_date, to_date) + [["Opportunity Competitor", "competitor", "is", "set"]],
                            limit_page_length=0)
    out = {}
    for r in rows:
        if not r["competitor"]:
            continue
        c = out.setdefault(r["competitor"], {"competitor": r["competitor"], "opportunities": 0, "offers": [],
                                             "they_won": 0, "we_won": 0})
        c["opportunities"] += 1
        if r["offered"] is not None:
            c["offers"].append(float(r["offered"]))
        c["they_won"] += int(r["won_by_competitor"] or 0)
        c["we_won"] += int(r["sales_stage"] == "Won")
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

