"""The sales reports (crm_app/reports.py) against figures computed by hand on a small
data set, in a site of their own (one per engine), so global figures are exact, for
every role that sees them: Administrator, CRM Admin, Sales Manager and Marketing User
(analysts: figures over every record) and a Sales User (their own scope).

The data set (everything dated today unless a date is given):

  users      sp1, sp2 (Sales User), mgr (Sales Manager of territory North), mkt
             (Marketing User), crm (CRM Admin)
  sources    Expo: costs 600 + 400 today, 500 on 2000-01-15;  Ads: 2000 today
  campaigns  Spring (Expo): 300 today;  Quiet: 50 today, no leads
  leads      L1 Expo sp1 New            L2 Expo sp1 Contacted
             L3 Expo sp1 Spring -> converted, O3 10000 won by accepting a quotation of
                net 10000 + 10% VAT = 11000 (CompA offered 9000)
             L4 Expo sp2 Contacted -> Unqualified
             L5 Ads  sp2 -> converted, O5 4000 Lost "Price" (CompA 3500 won it, CompB 3800)
             L6 Ads  sp2 New, territory North      L7 (no source) sp1 New
             L8 Expo sp2 New, imported: lead date 2000-01-20
  direct opportunities of customer "Direct Co":
             O7  Ads sp2 6000 Proposal,    closing 2031-03-15
             O8      sp1 1000 Prospecting, no closing date
             O9      sp1 2500 Lost "Timing", opened 20 days ago
             O10     sp1  800 Proposal,    closing 2031-03-20
             O11     sp2 2000 Negotiation, closing 2031-01-10
             O12     sp2 1000 Lost "Price"
             O13 Expo sp1 3000 Won, imported: opened 2000-02-01, closed 2000-03-02 (30 days)
  targets    sp1 20000 and sp2 5000 around today; sp1 99999 in 2000
  calls      today 09:10 out Connected 60s, 09:40 out Connected 120s, 14:05 in No Answer,
             14:30 out Busy; 2000-01-01 10:00 out Connected 300s
  meetings   today 10:00 and 15:00; 2000-01-01
  tasks      two completed today (no due date, nobody's), one open;
             sp1: T1 due 3 days ago (overdue, then completed: late), T2 due today and
             T3 due in 5 days (completed: on time), T8 due 2000-05-01 completed
             2000-05-03 (late); sp2: T4 due yesterday completed (late), T5 open,
             T6 completed without a due date, T7 private (only Administrator and sp2
             see it) due tomorrow completed (on time)
  messages   today 11:00; 2000-01-01
"""
import datetime
import os

import pytest
from django.test import Client

import conftest
import lowcode
from lowcode.tests.desk_helpers import login

from crm_app import reports
from crm_app.conversion import convert_lead
from crm_app.tests.helpers import as_user, days_from_today, make_user, move

TODAY = datetime.date.today().isoformat()
OLD = ("2000-01-01", "2000-12-31")
ANALYSTS = ("Administrator", "crm", "mgr", "mkt")


def _lead(first, source, owner, campaign=None, **values):
    return lowcode.get_doc(dict({"doctype": "Lead", "first_name": first, "last_name": "Report",
                                 "email_id": f"{first.lower()}@report.example.com", "source": source,
                                 "campaign": campaign, "lead_owner": owner}, **values)).insert()


def _opp(title, owner, amount, source=None, expected_closing=None, **values):
    party = lowcode.get_all("Customer", filters={"customer_name": "Direct Co"}, pluck="name")[0]
    return lowcode.get_doc(dict({"doctype": "Opportunity", "title": title, "opportunity_from": "Customer",
                                 "party_name": party, "opportunity_owner": owner, "opportunity_amount": amount,
                                 "source": source, "expected_closing": expected_closing}, **values)).insert()


def _lose(opp, reason):
    opp.reload()
    opp.lost_reason = reason
    opp.save()
    return move(opp, "Lose")


def _task(assigned_to, status, due_date=None, **values):
    return lowcode.get_doc(dict({"doctype": "Task", "subject": "Work", "assigned_to": assigned_to,
                                 "status": status, "due_date": due_date}, **values)).insert()


def build_data_set():
    users = {"sp1": make_user("rep", "a-sp1"), "sp2": make_user("rep", "b-sp2"),
             "mgr": make_user("rep", "mgr", roles=("Sales Manager",)),
             "mkt": make_user("rep", "mkt", roles=("Marketing User",)),
             "crm": make_user("rep", "crm", roles=("CRM Admin",)), "Administrator": "Administrator"}
    sp1, sp2 = users["sp1"], users["sp2"]
    lowcode.get_doc({"doctype": "Territory", "territory_name": "North", "territory_manager": users["mgr"]}).insert()
    lowcode.get_doc({"doctype": "Lead Source", "source_name": "Expo",
                     "costs": [{"date": TODAY, "amount": 600}, {"date": TODAY, "amount": 400},
                               {"date": "2000-01-15", "amount": 500}]}).insert()
    lowcode.get_doc({"doctype": "Lead Source", "source_name": "Ads", "costs": [{"date": TODAY, "amount": 2000}]}).insert()
    lowcode.get_doc({"doctype": "Campaign", "campaign_name": "Spring", "source": "Expo",
                     "costs": [{"date": TODAY, "amount": 300}]}).insert()
    lowcode.get_doc({"doctype": "Campaign", "campaign_name": "Quiet", "costs": [{"date": TODAY, "amount": 50}]}).insert()
    for reason in ("Price", "Timing"):
        lowcode.get_doc({"doctype": "Lost Reason", "lost_reason": reason}).insert()
    for name in ("CompA", "CompB"):
        lowcode.get_doc({"doctype": "Competitor", "competitor_name": name}).insert()
    lowcode.get_doc({"doctype": "Customer", "customer_name": "Direct Co"}).insert()
    lowcode.get_doc({"doctype": "Product", "product_code": "WIDGET", "product_name": "Widget",
                     "standard_rate": 5000}).insert()

    _lead("L1", "Expo", sp1)
    move(_lead("L2", "Expo", sp1), "Contact")
    l3 = move(_lead("L3", "Expo", sp1, campaign="Spring"), "Contact", "Qualify")
    o3 = lowcode.get_doc("Opportunity", convert_lead(l3.name, opportunity_amount=10000)["opportunity"])
    o3.append("competitors", {"competitor": "CompA", "offered_amount": 9000})
    o3.save()
    move(o3, "Qualify", "Propose")
    quotation = lowcode.get_doc({"doctype": "Quotation", "party_name": o3.party_name, "opportunity": o3.name,
                                 "items": [{"product": "WIDGET", "qty": 2}],
                                 "taxes": [{"description": "VAT", "rate": 10}]}).insert()
    move(quotation, "Send", "Accept")
    move(_lead("L4", "Expo", sp2), "Contact", "Disqualify")
    l5 = move(_lead("L5", "Ads", sp2), "Contact", "Qualify")
    o5 = lowcode.get_doc("Opportunity", convert_lead(l5.name, opportunity_amount=4000)["opportunity"])
    o5.append("competitors", {"competitor": "CompA", "offered_amount": 3500, "won_by_competitor": 1})
    o5.append("competitors", {"competitor": "CompB", "offered_amount": 3800})
    o5.save()
    _lose(o5, "Price")
    _lead("L6", "Ads", sp2, territory="North")
    _lead("L7", None, sp1)
    _lead("L8", "Expo", sp2, lead_date="2000-01-20")

    move(_opp("O7", sp2, 6000, source="Ads", expected_closing="2031-03-15"), "Qualify", "Propose")
    _opp("O8", sp1, 1000)
    _lose(_opp("O9", sp1, 2500, transaction_date=days_from_today(-20)), "Timing")
    move(_opp("O10", sp1, 800, expected_closing="2031-03-20"), "Qualify", "Propose")
    move(_opp("O11", sp2, 2000, expected_closing="2031-01-10"), "Qualify", "Propose", "Negotiate")
    _lose(_opp("O12", sp2, 1000), "Price")
    o13 = move(_opp("O13", sp1, 3000, source="Expo", transaction_date="2000-02-01"), "Qualify", "Propose")
    o13.closed_on = "2000-03-02"  # imported history: closed on its own day
    move(o13, "Win")

    for user, amount, start, end in ((sp1, 20000, days_from_today(-10), days_from_today(10)), (sp2, 5000, days_from_today(-10), days_from_today(10)),
                                     (sp1, 99999, *OLD)):
        lowcode.get_doc({"doctype": "Sales Target", "user": user, "target_amount": amount, "period_start": start,
                         "period_end": end}).insert()

    for started, direction, outcome, duration in ((f"{TODAY} 09:10:00", "Outgoing", "Connected", 60),
                                                  (f"{TODAY} 09:40:00", "Outgoing", "Connected", 120),
                                                  (f"{TODAY} 14:05:00", "Incoming", "No Answer", 0),
                                                  (f"{TODAY} 14:30:00", "Outgoing", "Busy", 0),
                                                  ("2000-01-01 10:00:00", "Outgoing", "Connected", 300)):
        lowcode.get_doc({"doctype": "Call Log", "phone": "09121234567", "started_at": started,
                         "direction": direction, "outcome": outcome, "duration": duration}).insert()
    for when in (f"{TODAY} 10:00:00", f"{TODAY} 15:00:00", "2000-01-01 10:00:00"):
        lowcode.get_doc({"doctype": "Event", "subject": "Meeting", "starts_on": when}).insert()
    for status in ("Completed", "Completed", "Open"):
        lowcode.get_doc({"doctype": "Task", "subject": "Work", "status": status}).insert()
    t1 = _task(sp1, "Open", days_from_today(-3))
    assert t1.is_overdue == 1
    t1.status = "Completed"  # the overdue flag clears; the completion time says it was late
    t1.save()
    _task(sp1, "Completed", TODAY)
    _task(sp1, "Completed", days_from_today(5))
    _task(sp1, "Completed", "2000-05-01", completed_on="2000-05-03 10:00:00")
    _task(sp2, "Completed", days_from_today(-1))
    _task(sp2, "Open", days_from_today(2))
    _task(sp2, "Completed")
    _task(sp2, "Completed", days_from_today(1), is_private=1)
    for when in (f"{TODAY} 11:00:00", "2000-01-01 11:00:00"):
        lowcode.get_doc({"doctype": "Communication", "subject": "Mail", "communication_date": when}).insert()
    lowcode.db.commit()
    return users


@pytest.fixture(scope="module", params=["sqlite", "mariadb"])
def report_site(request, bench):
    # "Today" is the day the data set is built, not the day this module was imported: a
    # suite that crosses midnight in between would otherwise look for today's records on
    # the wrong day (the tests read TODAY when they run).
    global TODAY
    TODAY = datetime.date.today().isoformat()
    site = conftest.create_site(bench, request.param)
    try:
        with lowcode.site_context(site, bench=bench):
            users = build_data_set()
        yield {"site": site, "bench": bench, "users": users, **users}
    finally:
        conftest.drop_site(bench, site)


@pytest.fixture
def rctx(report_site):
    with lowcode.site_context(report_site["site"], bench=report_site["bench"]) as local:
        yield local


@pytest.fixture(params=ANALYSTS)
def analyst(request, rctx, report_site):
    """Each role whose figures cover every lead and opportunity, acting."""
    with as_user(report_site["users"][request.param]):
        yield request.param


@pytest.fixture
def sales_user(rctx, report_site):
    with as_user(report_site["sp1"]):
        yield report_site["sp1"]


# -- funnel -----------------------------------------------------------------------------------------

FUNNEL_TODAY = [("New", 7), ("Contacted", 4), ("Qualified", 2), ("Converted", 2), ("Opportunity", 2), ("Won", 1)]
FUNNEL_TODAY_RATES = {
    ("New", "Contacted"): 57.1, ("New", "Qualified"): 28.6, ("New", "Converted"): 28.6, ("New", "Opportunity"): 28.6,
    ("New", "Won"): 14.3,
    ("Contacted", "Qualified"): 50.0, ("Contacted", "Converted"): 50.0, ("Contacted", "Opportunity"): 50.0,
    ("Contacted", "Won"): 25.0,
    ("Qualified", "Converted"): 100.0, ("Qualified", "Opportunity"): 100.0, ("Qualified", "Won"): 50.0,
    ("Converted", "Opportunity"): 100.0, ("Converted", "Won"): 50.0,
    ("Opportunity", "Won"): 50.0,
}
# All time adds L8 (New): 8 leads.
FUNNEL_ALL = [("New", 8)] + FUNNEL_TODAY[1:]
FUNNEL_ALL_RATES = {**FUNNEL_TODAY_RATES, ("New", "Contacted"): 50.0, ("New", "Qualified"): 25.0,
                    ("New", "Converted"): 25.0, ("New", "Opportunity"): 25.0, ("New", "Won"): 12.5}


def test_sales_funnel_for_today(analyst):
    result = reports.sales_funnel(TODAY, TODAY)
    assert [(s["stage"], s["count"]) for s in result["stages"]] == FUNNEL_TODAY
    assert {(c["from"], c["to"]): c["rate"] for c in result["conversion"]} == FUNNEL_TODAY_RATES
    assert len(result["conversion"]) == 15
    assert result["unqualified"] == 1


def test_sales_funnel_all_time(analyst):
    result = reports.sales_funnel()
    assert [(s["stage"], s["count"]) for s in result["stages"]] == FUNNEL_ALL
    assert {(c["from"], c["to"]): c["rate"] for c in result["conversion"]} == FUNNEL_ALL_RATES


def test_sales_funnel_counts_leads_by_their_lead_date(analyst):
    """L8 was created today but arrived in 2000: it counts there, not today."""
    result = reports.sales_funnel(*OLD)
    assert [s["count"] for s in result["stages"]] == [1, 0, 0, 0, 0, 0]
    assert reports.sales_funnel("1999-01-01", "1999-12-31")["stages"][0]["count"] == 0


def test_sales_funnel_for_a_sales_user(sales_user):
    """sp1's leads: L1, L2, L3, L7 and O3."""
    result = reports.sales_funnel()
    assert [(s["stage"], s["count"]) for s in result["stages"]] == [
        ("New", 4), ("Contacted", 2), ("Qualified", 1), ("Converted", 1), ("Opportunity", 1), ("Won", 1)]
    assert result["unqualified"] == 0


@pytest.mark.parametrize("period", [("2020-13-01", None), (None, "yesterday"), ("2020-02-01", "2020-01-01")])
def test_reports_name_a_bad_period(rctx, period):
    with pytest.raises(lowcode.ValidationError) as caught:
        reports.source_roi(*period)
    assert caught.value.field == ("from_date" if period[0] else "to_date")


# -- ROI ------------------------------------------------------------------------------------------------

def _roi(name, cost, leads, converted, opps, won, revenue, cpl, roi, key="source"):
    return {key: name, "cost": cost, "leads": leads, "converted_leads": converted, "opportunities": opps, "won": won,
            "revenue": revenue, "cost_per_lead": cpl, "roi_percent": roi}


def test_source_roi_all_time(analyst):
    """Expo: costs 1500; L1-L4, L8; O3 (net 10000, not the 11000 with VAT) and O13 3000:
    (13000 - 1500) / 1500 = 766.7%."""
    assert reports.source_roi() == [
        _roi("Ads", 2000.0, 2, 1, 2, 0, 0.0, 1000.0, -100.0),
        _roi("Expo", 1500.0, 5, 1, 2, 2, 13000.0, 300.0, 766.7),
    ]


def test_source_roi_for_today(analyst):
    assert reports.source_roi(TODAY, TODAY) == [
        _roi("Ads", 2000.0, 2, 1, 2, 0, 0.0, 1000.0, -100.0),
        _roi("Expo", 1000.0, 4, 1, 1, 1, 10000.0, 250.0, 900.0),
    ]


def test_source_roi_in_an_old_period(analyst):
    """2000: Expo's cost 500, L8 and O13 (3000): costs and leads over the same window."""
    assert reports.source_roi(*OLD) == [_roi("Expo", 500.0, 1, 0, 1, 1, 3000.0, 500.0, 500.0)]


def test_source_roi_for_a_sales_user(sales_user):
    """sp1 reads L1-L3 (Expo) and O3, O13: their own figures, without the costs spent on
    everybody's leads."""
    expected = [_roi("Expo", None, 3, 1, 2, 2, 13000.0, None, None)]
    assert reports.source_roi() == expected
    assert reports.source_roi(TODAY, TODAY) == [_roi("Expo", None, 3, 1, 1, 1, 10000.0, None, None)]


def test_campaign_roi(analyst):
    expected = [
        _roi("Quiet", 50.0, 0, 0, 0, 0, 0.0, None, -100.0, key="campaign"),
        _roi("Spring", 300.0, 1, 1, 1, 1, 10000.0, 300.0, 3233.3, key="campaign"),
    ]
    assert reports.campaign_roi() == expected
    assert reports.campaign_roi(TODAY, TODAY) == expected
    assert reports.campaign_roi(*OLD) == []


def test_campaign_roi_for_a_sales_user(sales_user):
    assert reports.campaign_roi() == [_roi("Spring", None, 1, 1, 1, 1, 10000.0, None, None, key="campaign")]


def test_aggregates_never_widen_what_lists_show(rctx, report_site):
    """The reports count every lead for a Marketing User, but their lists still show
    only their own (none here), also right after a report ran."""
    with as_user(report_site["mkt"]):
        assert reports.source_roi()[1]["leads"] == 5
        assert lowcode.get_list("Lead", limit_page_length=0) == []
        assert lowcode.get_count("Opportunity") == 0
    with as_user(report_site["mgr"]):  # their territory's lead only
        assert lowcode.get_list("Lead", fields=["first_name"], limit_page_length=0) == [{"first_name": "L6"}]


# -- salespeople ----------------------------------------------------------------------------------------

def _person(user, leads, contacted, converted, conv, opps, won, win_rate, cycle, revenue, target, target_pct):
    return {"user": user, "leads": leads, "contacted": contacted, "converted": converted,
            "lead_conversion_percent": conv, "opportunities": opps, "won": won, "win_rate_percent": win_rate,
            "avg_cycle_days": cycle, "revenue": revenue, "target": target, "target_percent": target_pct}


def _targets_for(who, target, percent):
    """A Marketing User may not read Sales Targets: no target for them."""
    return (None, None) if who == "mkt" else (target, percent)


def test_salesperson_performance_for_today(analyst, report_site):
    """Opportunities opened today: sp1 O3, O8, O10 (O9 opened 20 days ago); closed today:
    sp1 O3 won (net 10000) and O9 lost, sp2 O5 and O12 lost."""
    sp1, sp2 = report_site["sp1"], report_site["sp2"]
    assert reports.salesperson_performance(TODAY, TODAY) == [
        _person(sp1, 4, 2, 1, 25.0, 3, 1, 50.0, 0.0, 10000.0, *_targets_for(analyst, 20000.0, 50.0)),
        _person(sp2, 3, 2, 1, 33.3, 4, 0, 0.0, None, 0.0, *_targets_for(analyst, 5000.0, 0.0)),
    ]


def test_salesperson_performance_all_time(analyst, report_site):
    """sp1 won O3 (0 days) and O13 (30 days): cycle 15 days, revenue 13000 of 119999."""
    sp1, sp2 = report_site["sp1"], report_site["sp2"]
    assert reports.salesperson_performance() == [
        _person(sp1, 4, 2, 1, 25.0, 5, 2, 66.7, 15.0, 13000.0, *_targets_for(analyst, 119999.0, 10.8)),
        _person(sp2, 4, 2, 1, 25.0, 4, 0, 0.0, None, 0.0, *_targets_for(analyst, 5000.0, 0.0)),
    ]


def test_salesperson_performance_in_an_old_period(analyst, report_site):
    sp1, sp2 = report_site["sp1"], report_site["sp2"]
    assert reports.salesperson_performance(*OLD) == [
        _person(sp1, 0, 0, 0, None, 1, 1, 100.0, 30.0, 3000.0, *_targets_for(analyst, 99999.0, 3.0)),
        _person(sp2, 1, 0, 0, 0.0, 0, 0, None, None, 0.0, None, None),
    ]


def test_salesperson_performance_for_a_sales_user(sales_user):
    assert reports.salesperson_performance(TODAY, TODAY) == [
        _person(sales_user, 4, 2, 1, 25.0, 3, 1, 50.0, 0.0, 10000.0, 20000.0, 50.0)]
    assert reports.salesperson_performance() == [
        _person(sales_user, 4, 2, 1, 25.0, 5, 2, 66.7, 15.0, 13000.0, 119999.0, 10.8)]


# -- task punctuality ----------------------------------------------------------------------------------------

def _tasks(user, completed, on_time):
    return {"user": user, "completed": completed, "on_time": on_time, "late": completed - on_time,
            "on_time_percent": round(100.0 * on_time / completed, 1)}


def test_task_punctuality_for_today(analyst, report_site):
    """sp1: T1 late, T2 and T3 on time; sp2: T4 late, and T7 on time for those who
    may read that private task (Administrator here)."""
    sp1, sp2 = report_site["sp1"], report_site["sp2"]
    sp2_row = _tasks(sp2, 2, 1) if analyst == "Administrator" else _tasks(sp2, 1, 0)
    assert reports.task_punctuality(TODAY, TODAY) == [_tasks(sp1, 3, 2), sp2_row]


def test_task_punctuality_by_completion_time(analyst, report_site):
    sp1 = report_site["sp1"]
    assert reports.task_punctuality(*OLD) == [_tasks(sp1, 1, 0)]
    assert reports.task_punctuality()[0] == _tasks(sp1, 4, 2)


def test_task_punctuality_for_a_sales_user(sales_user):
    assert reports.task_punctuality(TODAY, TODAY) == [_tasks(sales_user, 3, 2)]


# -- pipeline, losses, competitors ---------------------------------------------------------------------------

def test_weighted_pipeline(analyst):
    assert reports.weighted_pipeline() == [
        {"stage": "Prospecting", "month": "unscheduled", "count": 1, "amount": 1000.0, "weighted": 100.0},
        {"stage": "Proposal", "month": "2031-03", "count": 2, "amount": 6800.0, "weighted": 3400.0},
        {"stage": "Negotiation", "month": "2031-01", "count": 1, "amount": 2000.0, "weighted": 1500.0},
    ]


def test_weighted_pipeline_for_a_sales_user(sales_user):
    assert reports.weighted_pipeline() == [
        {"stage": "Prospecting", "month": "unscheduled", "count": 1, "amount": 1000.0, "weighted": 100.0},
        {"stage": "Proposal", "month": "2031-03", "count": 1, "amount": 800.0, "weighted": 400.0},
    ]


def test_lost_reasons(analyst):
    """By the day the deal was lost: O9 opened 20 days ago but was lost today."""
    expected = [{"lost_reason": "Price", "count": 2, "amount": 5000.0},
                {"lost_reason": "Timing", "count": 1, "amount": 2500.0}]
    assert reports.lost_reasons() == expected
    assert reports.lost_reasons(TODAY, TODAY) == expected
    assert reports.lost_reasons(*OLD) == []


def test_lost_reasons_for_a_sales_user(sales_user):
    assert reports.lost_reasons() == [{"lost_reason": "Timing", "count": 1, "amount": 2500.0}]


def test_competitor_analysis(analyst):
    assert reports.competitor_analysis() == [
        {"competitor": "CompA", "opportunities": 2, "they_won": 1, "we_won": 1, "average_offer": 6250.0},
        {"competitor": "CompB", "opportunities": 1, "they_won": 0, "we_won": 0, "average_offer": 3800.0},
    ]


def test_competitor_analysis_for_a_sales_user(sales_user):
    """A Sales User's figures come from the opportunities they read (O3 for sp1)."""
    assert reports.competitor_analysis() == [
        {"competitor": "CompA", "opportunities": 1, "they_won": 0, "we_won": 1, "average_offer": 9000.0}]


# -- activities -----------------------------------------------------------------------------------------

def test_activity_metrics_all_time(rctx):
    assert reports.activity_metrics() == {
        "calls": 5, "connected": 3, "connected_percent": 60.0, "outgoing": 4, "incoming": 1,
        "average_talk_seconds": 160.0,
        "by_hour": [{"hour": 9, "calls": 2, "connected": 2}, {"hour": 10, "calls": 1, "connected": 1},
                    {"hour": 14, "calls": 2, "connected": 0}],
        "meetings": 3, "tasks_completed": 9, "messages": 2}


def test_activity_metrics_for_today(rctx):
    """A period ending today includes what happened today (the date fields of calls,
    meetings, tasks and messages hold a time of day)."""
    assert reports.activity_metrics(TODAY, TODAY) == {
        "calls": 4, "connected": 2, "connected_percent": 50.0, "outgoing": 3, "incoming": 1,
        "average_talk_seconds": 90.0,
        "by_hour": [{"hour": 9, "calls": 2, "connected": 2}, {"hour": 14, "calls": 2, "connected": 0}],
        "meetings": 2, "tasks_completed": 8, "messages": 1}


@pytest.mark.parametrize("who", ["sp1", "mgr", "mkt", "crm"])
def test_activity_metrics_for_each_role(rctx, report_site, who):
    """The same activities for every role, but T7, a private task, only for those it
    concerns (Administrator, as its owner, above; sp2)."""
    with as_user(report_site[who]):
        result = reports.activity_metrics(TODAY, TODAY)
    assert (result["calls"], result["connected"], result["meetings"], result["messages"]) == (4, 2, 2, 1)
    assert result["tasks_completed"] == 7
    with as_user(report_site["sp2"]):
        assert reports.activity_metrics(TODAY, TODAY)["tasks_completed"] == 8


def test_activity_metrics_for_an_old_period(rctx):
    result = reports.activity_metrics(*OLD)
    assert (result["calls"], result["connected"], result["average_talk_seconds"]) == (1, 1, 300.0)
    assert (result["meetings"], result["tasks_completed"], result["messages"]) == (1, 1, 1)


# -- the dashboard ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["sp1", "mgr", "mkt", "crm"])
def test_sales_dashboard_shows_each_role_its_figures(rctx, report_site, who):
    """Every role that opens the dashboard gets it (a Marketing User, who may not read
    Sales Targets, too), with the ROI table in their scope."""
    os.environ["LOWCODE_SITES"] = report_site["bench"]
    client = Client(HTTP_HOST=report_site["site"], raise_request_exception=False)
    login(rctx, client, report_site[who])
    response = client.get("/app/sales-dashboard", {"from": "2000-01-01", "to": TODAY})
    assert response.status_code == 200, response.content[:500]
    html = response.content.decode()
    roi = html[html.index('id="source-roi"'):html.index("</table>", html.index('id="source-roi"'))]
    assert ">Expo<" in roi and 'id="task-punctuality"' in html and 'id="dashboard-scope"' in html
    chart = html[html.index('aria-label="Lead source ROI"') - 300:html.index('aria-label="Lead source ROI"')]
    if who == "sp1":
        assert ">Ads<" not in roi and "766.7%" not in roi  # own leads, no costs
        assert "Revenue" in chart and "13000" in chart
    else:
        assert ">Ads<" in roi and "766.7%" in roi
        assert "ROI %" in chart and "766.7" in chart
    bad = client.get("/app/sales-dashboard", {"from": "someday"})
    assert bad.status_code == 417 and b"from_date" in bad.content


def test_weighted_pipeline_in_a_jalali_users_months(analyst):
    """O7 closes 2031-03-15 and O10 2031-03-20: both in Esfand 1409 (Farvardin 1410 starts
    on 03-21); O11 2031-01-10 is in Dey 1409."""
    local = lowcode.local
    local.db.sql("UPDATE `tabUser` SET `calendar`='Jalali' WHERE `name`=%s", (local.user,))
    local.cache.pop("_desk_prefs", None)
    try:
        got = reports.weighted_pipeline()
    finally:
        local.db.sql("UPDATE `tabUser` SET `calendar`='Gregorian' WHERE `name`=%s", (local.user,))
        local.cache.pop("_desk_prefs", None)
    assert got == [
        {"stage": "Prospecting", "month": "unscheduled", "count": 1, "amount": 1000.0, "weighted": 100.0},
        {"stage": "Proposal", "month": "1409-12", "count": 2, "amount": 6800.0, "weighted": 3400.0},
        {"stage": "Negotiation", "month": "1409-10", "count": 1, "amount": 2000.0, "weighted": 1500.0},
    ]


# -- the same reports as Report records, through frappe.desk.query_report.run ---------------------------

CRM_REPORTS = {"Sales Funnel": "Lead", "Source ROI": "Lead", "Campaign ROI": "Lead",
               "Salesperson Performance": "Opportunity", "Task Punctuality": "Task",
               "Weighted Pipeline": "Opportunity", "Lost Reasons": "Opportunity",
               "Competitor Analysis": "Opportunity", "Activity Metrics": "Call Log"}


def _api(rctx, report_site, who):
    """A Frappe client's connection as ``who``: Django's client with an API token."""
    from crm_app.tests.helpers import token
    os.environ["LOWCODE_SITES"] = report_site["bench"]
    headers = token(report_site[who] if who in report_site else who)
    rctx.db.commit()
    return Client(HTTP_HOST=report_site["site"], raise_request_exception=False), headers


def _run(client, headers, name, filters=None, post_json=False):
    import json
    from crm_app.tests.helpers import ok
    url = "/api/method/frappe.desk.query_report.run"
    if post_json:
        response = client.post(url, json.dumps({"report_name": name, "filters": filters or {}}),
                               content_type="application/json", **headers)
    else:
        # as frappe-client's get_report sends it (ref_doctype is not an argument of run)
        response = client.get(url, {"report_name": name, "filters": json.dumps(filters or {}),
                                    "ref_doctype": CRM_REPORTS[name]}, **headers)
    return ok(response)["message"]


def test_crm_reports_are_standard_script_reports(rctx):
    for name, ref_doctype in CRM_REPORTS.items():
        doc = lowcode.get_doc("Report", name)
        assert (doc.report_type, int(doc.is_standard), doc.module, doc.ref_doctype) == \
            ("Script Report", 1, "CRM", ref_doctype), name
        assert {r.role for r in doc.roles} >= {"Sales User", "Sales Manager", "CRM Admin"}, name
    # a migrate brings them back in line with their files, rows not doubled
    from lowcode.installer import import_app_files
    lowcode.local.db.commit()
    lowcode.local.db.begin()
    import_app_files("crm_app")
    assert len(lowcode.get_doc("Report", "Lost Reasons").roles) == 5
    lowcode.local.db.rollback()


def test_query_report_run_gives_an_analyst_the_funnel(rctx, report_site):
    """mgr, form-encoded GET as Frappe's desk sends it: the stages of today's leads, the
    rate from each stage before (FUNNEL_TODAY_RATES), a chart and the summary."""
    client, h = _api(rctx, report_site, "mgr")
    r = _run(client, h, "Sales Funnel", {"from_date": TODAY, "to_date": TODAY})
    assert [c["fieldname"] for c in r["columns"]] == ["stage", "count", "rate_from_previous"]
    assert [(row["stage"], row["count"]) for row in r["result"]] == FUNNEL_TODAY
    assert [row["rate_from_previous"] for row in r["result"]] == [None, 57.1, 50.0, 100.0, 100.0, 50.0]
    assert r["chart"]["data"]["datasets"][0]["values"] == [7, 4, 2, 2, 2, 1]
    assert r["report_summary"][0]["value"] == 1 and r["skip_total_row"] == 0 and r["message"] is None


def test_query_report_run_gives_a_sales_user_their_own_rows(rctx, report_site):
    """sp1 (JSON body): their Expo leads and deals, no costs (test_source_roi_for_a_sales_user);
    Lost Reasons with Frappe's total row: only O9 (Timing) is theirs."""
    client, h = _api(rctx, report_site, "sp1")
    r = _run(client, h, "Source ROI", post_json=True)
    assert r["result"] == [_roi("Expo", None, 3, 1, 2, 2, 13000.0, None, None)]
    r = _run(client, h, "Lost Reasons")
    assert r["result"] == [{"lost_reason": "Timing", "count": 1, "amount": 2500.0}, ["Total", 1.0, 2500.0]]
    assert r["add_total_row"]
    from crm_app.tests.helpers import body
    bad = client.get("/api/method/frappe.desk.query_report.run",
                     {"report_name": "Lost Reasons", "filters": '{"from_date": "someday"}'}, **h)
    assert bad.status_code == 417 and body(bad)["field"] == "from_date"
    analyst_client, ah = _api(rctx, report_site, "crm")
    assert _run(analyst_client, ah, "Lost Reasons")["result"] == [
        {"lost_reason": "Price", "count": 2, "amount": 5000.0}, {"lost_reason": "Timing", "count": 1, "amount": 2500.0},
        ["Total", 3.0, 7500.0]]


def test_query_report_run_activity_metrics_summary(rctx, report_site):
    client, h = _api(rctx, report_site, "Administrator")
    r = _run(client, h, "Activity Metrics")
    assert r["result"] == [{"hour": 9, "calls": 2, "connected": 2}, {"hour": 10, "calls": 1, "connected": 1},
                           {"hour": 14, "calls": 2, "connected": 0}]
    summary = {s["label"]: s["value"] for s in r["report_summary"]}
    assert (summary["Calls"], summary["Connected %"], summary["Meetings"], summary["Messages"]) == (5, 60.0, 3, 2)


def test_query_report_refuses_users_without_the_reports_roles(rctx, report_site):
    """A Support Agent may report on Call Logs but is none of Activity Metrics' roles;
    a user with no CRM role may not report on Leads."""
    from crm_app.tests.helpers import body, make_user
    lowcode.local.db.commit()
    lowcode.local.db.begin()
    agent = make_user("rep", "agent", roles=("Support Agent",))
    outsider = make_user("rep", "outsider", roles=("Blogger",))
    for user, name in ((agent, "Activity Metrics"), (outsider, "Sales Funnel")):
        client, h = _api(rctx, report_site, user)
        response = client.get("/api/method/frappe.desk.query_report.run", {"report_name": name}, **h)
        assert response.status_code == 403, response.content[:300]
        assert body(response)["exc_type"] == "PermissionError"


def test_query_report_labels_speak_the_users_language(rctx, report_site):
    """query_report.run gives column, report-summary and total-row labels in the user's
    language (fa, he), the catalog's translations of the reports' English labels; the rows
    keep their fieldnames and figures."""
    from crm_app.tests.helpers import make_user
    lowcode.local.db.commit()
    lowcode.local.db.begin()
    for lang, calls, reason, total in (("fa", "تماس‌ها", "دلیل از دست رفتن", "جمع"),
                                       ("he", "שיחות", "סיבת ההפסד", "סה״כ")):
        user = make_user("rep", f"speaker-{lang}", roles=("Sales Manager",))
        lowcode.local.db.sql("UPDATE `tabUser` SET `language`=%s WHERE `name`=%s", (lang, user))
        client, h = _api(rctx, report_site, user)
        r = _run(client, h, "Activity Metrics")
        assert [c["fieldname"] for c in r["columns"]] == ["hour", "calls", "connected"]
        assert r["columns"][1]["label"] == calls and {"hour", "calls", "connected"} == set(r["result"][0])
        assert r["report_summary"][0]["label"] == calls and r["report_summary"][0]["value"] == 5
        r = _run(client, h, "Lost Reasons")
        assert r["columns"][0]["label"] == reason and r["result"][-1][0] == total
    client, h = _api(rctx, report_site, "Administrator")  # English stays English
    assert _run(client, h, "Activity Metrics")["report_summary"][0]["label"] == "Calls"


def test_query_report_get_script_gives_the_reports_filters(rctx, report_site):
    from crm_app.tests.helpers import ok
    client, h = _api(rctx, report_site, "sp1")
    script = ok(client.get("/api/method/frappe.desk.query_report.get_script", {"report_name": "Source ROI"},
                           **h))["message"]["script"]
    assert script.startswith('frappe.query_reports["Source ROI"]') and '"from_date"' in script
    filters = ok(client.get("/api/method/frappe.desk.query_report.get_script", {"report_name": "Source ROI"},
                            **h))["message"]["filters"]
    assert "from_date" in [f["fieldname"] for f in filters] and filters[0]["fieldtype"]


def test_every_report_script_declares_the_filters_of_its_record():
    """A standard report's filters are written twice: in its .js (Frappe clients read it
    through get_script) and in its JSON's filter rows (the desk's report page draws those).
    The two name the same fields in the same order, so they cannot drift apart."""
    import glob
    import json
    import os
    import re
    apps = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    checked = 0
    for js in glob.glob(os.path.join(apps, "*", "report", "*", "*.js")):
        record = js[:-3] + ".json"
        with open(js, encoding="utf-8") as f:
            in_script = re.findall(r"fieldname:\s*[\"']([a-z_0-9]+)[\"']", f.read())
        with open(record, encoding="utf-8") as f:
            in_record = [row["fieldname"] for row in json.load(f).get("filters") or []]
        assert in_script == in_record, os.path.relpath(js, apps)
        checked += 1
    assert checked >= 10
