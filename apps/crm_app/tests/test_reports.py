"""The sales reports (crm_app/reports.py) against figures computed by hand on a small
data set, in a site of their own (one per engine), so global figures are exact.

The data set (everything created today unless a date is given):

  users      sp1, sp2 (Sales User)
  sources    Expo: costs 600 + 400 today, 500 on 2000-01-15;  Ads: 2000 today
  campaigns  Spring (Expo): 300 today;  Quiet: 50 today, no leads
  leads      L1 Expo sp1 New            L2 Expo sp1 Contacted
             L3 Expo sp1 Spring -> converted, O3 10000 Won (CompA offered 9000)
             L4 Expo sp2 Contacted -> Unqualified
             L5 Ads  sp2 -> converted, O5 4000 Lost "Price" (CompA 3500 won it, CompB 3800)
             L6 Ads  sp2 New            L7 (no source) sp1 New
  direct opportunities of customer "Direct Co":
             O7  Ads sp2 6000 Proposal,    closing 2031-03-15
             O8      sp1 1000 Prospecting, no closing date
             O9      sp1 2500 Lost "Timing"
             O10     sp1  800 Proposal,    closing 2031-03-20
             O11     sp2 2000 Negotiation, closing 2031-01-10
             O12     sp2 1000 Lost "Price"
  targets    sp1 20000 and sp2 5000 around today; sp1 99999 in 2000
  calls      today 09:10 out Connected 60s, 09:40 out Connected 120s, 14:05 in No Answer,
             14:30 out Busy; 2000-01-01 10:00 out Connected 300s
  meetings   today 10:00 and 15:00; 2000-01-01
  tasks      two completed (today), one open
  messages   today 11:00; 2000-01-01
"""
import datetime

import pytest

import conftest
import lowcode
from lowcode.workflow import apply_workflow

from crm_app import reports
from crm_app.conversion import convert_lead
from crm_app.tests.helpers import as_user, make_user

TODAY = datetime.date.today().isoformat()
OLD = ("2000-01-01", "2000-12-31")


def _days(n):
    return (datetime.date.today() + datetime.timedelta(days=n)).isoformat()


def _lead(first, source, owner, campaign=None):
    return lowcode.get_doc({"doctype": "Lead", "first_name": first, "last_name": "Report",
                            "email_id": f"{first.lower()}@report.example.com", "source": source,
                            "campaign": campaign, "lead_owner": owner}).insert()


def _opp(title, owner, amount, source=None, expected_closing=None):
    party = lowcode.get_all("Customer", filters={"customer_name": "Direct Co"}, pluck="name")[0]
    return lowcode.get_doc({"doctype": "Opportunity", "title": title, "opportunity_from": "Customer",
                            "party_name": party, "opportunity_owner": owner, "opportunity_amount": amount,
                            "source": source, "expected_closing": expected_closing}).insert()


def _move(doc, *actions):
    for action in actions:
        apply_workflow(doc, action)
    return doc


def _lose(opp, reason):
    opp.reload()
    opp.lost_reason = reason
    opp.save()
    return _move(opp, "Lose")


def build_data_set():
    sp1 = make_user("rep", "a-sp1")
    sp2 = make_user("rep", "b-sp2")
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

    _lead("L1", "Expo", sp1)
    _move(_lead("L2", "Expo", sp1), "Contact")
    l3 = _move(_lead("L3", "Expo", sp1, campaign="Spring"), "Contact", "Qualify")
    o3 = lowcode.get_doc("Opportunity", convert_lead(l3.name, opportunity_amount=10000)["opportunity"])
    o3.append("competitors", {"competitor": "CompA", "offered_amount": 9000})
    o3.save()
    _move(o3, "Qualify", "Propose", "Win")
    _move(_lead("L4", "Expo", sp2), "Contact", "Disqualify")
    l5 = _move(_lead("L5", "Ads", sp2), "Contact", "Qualify")
    o5 = lowcode.get_doc("Opportunity", convert_lead(l5.name, opportunity_amount=4000)["opportunity"])
    o5.append("competitors", {"competitor": "CompA", "offered_amount": 3500, "won_by_competitor": 1})
    o5.append("competitors", {"competitor": "CompB", "offered_amount": 3800})
    o5.save()
    _lose(o5, "Price")
    _lead("L6", "Ads", sp2)
    _lead("L7", None, sp1)

    _move(_opp("O7", sp2, 6000, source="Ads", expected_closing="2031-03-15"), "Qualify", "Propose")
    _opp("O8", sp1, 1000)
    _lose(_opp("O9", sp1, 2500), "Timing")
    _move(_opp("O10", sp1, 800, expected_closing="2031-03-20"), "Qualify", "Propose")
    _move(_opp("O11", sp2, 2000, expected_closing="2031-01-10"), "Qualify", "Propose", "Negotiate")
    _lose(_opp("O12", sp2, 1000), "Price")

    for user, amount, start, end in ((sp1, 20000, _days(-10), _days(10)), (sp2, 5000, _days(-10), _days(10)),
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
    for when in (f"{TODAY} 11:00:00", "2000-01-01 11:00:00"):
        lowcode.get_doc({"doctype": "Communication", "subject": "Mail", "communication_date": when}).insert()
    lowcode.db.commit()
    return {"sp1": sp1, "sp2": sp2}


@pytest.fixture(scope="module", params=["sqlite", "mariadb"])
def report_site(request, bench):
    site = conftest.create_site(bench, request.param)
    try:
        with lowcode.site_context(site, bench=bench):
            users = build_data_set()
        yield {"site": site, "bench": bench, **users}
    finally:
        conftest.drop_site(bench, site)


@pytest.fixture
def rctx(report_site):
    with lowcode.site_context(report_site["site"], bench=report_site["bench"]) as local:
        yield local


# -- funnel -----------------------------------------------------------------------------------------

FUNNEL_STAGES = [("New", 7), ("Contacted", 4), ("Qualified", 2), ("Converted", 2), ("Opportunity", 2), ("Won", 1)]
FUNNEL_RATES = {
    ("New", "Contacted"): 57.1, ("New", "Qualified"): 28.6, ("New", "Converted"): 28.6, ("New", "Opportunity"): 28.6,
    ("New", "Won"): 14.3,
    ("Contacted", "Qualified"): 50.0, ("Contacted", "Converted"): 50.0, ("Contacted", "Opportunity"): 50.0,
    ("Contacted", "Won"): 25.0,
    ("Qualified", "Converted"): 100.0, ("Qualified", "Opportunity"): 100.0, ("Qualified", "Won"): 50.0,
    ("Converted", "Opportunity"): 100.0, ("Converted", "Won"): 50.0,
    ("Opportunity", "Won"): 50.0,
}


@pytest.mark.parametrize("period", [(None, None), (TODAY, TODAY)])
def test_sales_funnel(rctx, period):
    result = reports.sales_funnel(*period)
    assert [(s["stage"], s["count"]) for s in result["stages"]] == FUNNEL_STAGES
    assert {(c["from"], c["to"]): c["rate"] for c in result["conversion"]} == FUNNEL_RATES
    assert len(result["conversion"]) == 15
    assert result["unqualified"] == 1


def test_sales_funnel_outside_the_period_is_empty(rctx):
    result = reports.sales_funnel(*OLD)
    assert [s["count"] for s in result["stages"]] == [0] * 6
    assert all(c["rate"] is None for c in result["conversion"])


def test_sales_funnel_counts_only_what_the_user_reads(rctx, report_site):
    with as_user(report_site["sp1"]):  # L1, L2, L3, L7 and O3
        result = reports.sales_funnel()
    assert [(s["stage"], s["count"]) for s in result["stages"]] == [
        ("New", 4), ("Contacted", 2), ("Qualified", 1), ("Converted", 1), ("Opportunity", 1), ("Won", 1)]
    assert result["unqualified"] == 0


# -- ROI ------------------------------------------------------------------------------------------------

def test_source_roi_all_time(rctx):
    assert reports.source_roi() == [
        {"source": "Ads", "cost": 2000.0, "leads": 2, "converted_leads": 1, "opportunities": 2, "won": 0,
         "revenue": 0.0, "cost_per_lead": 1000.0, "roi_percent": -100.0},
        {"source": "Expo", "cost": 1500.0, "leads": 4, "converted_leads": 1, "opportunities": 1, "won": 1,
         "revenue": 10000.0, "cost_per_lead": 375.0, "roi_percent": 566.7},
    ]


def test_source_roi_for_today(rctx):
    assert reports.source_roi(TODAY, TODAY) == [
        {"source": "Ads", "cost": 2000.0, "leads": 2, "converted_leads": 1, "opportunities": 2, "won": 0,
         "revenue": 0.0, "cost_per_lead": 1000.0, "roi_percent": -100.0},
        {"source": "Expo", "cost": 1000.0, "leads": 4, "converted_leads": 1, "opportunities": 1, "won": 1,
         "revenue": 10000.0, "cost_per_lead": 250.0, "roi_percent": 900.0},
    ]


def test_source_roi_in_a_period_with_only_costs(rctx):
    assert reports.source_roi(*OLD) == [
        {"source": "Expo", "cost": 500.0, "leads": 0, "converted_leads": 0, "opportunities": 0, "won": 0,
         "revenue": 0.0, "cost_per_lead": None, "roi_percent": -100.0},
    ]


def test_campaign_roi(rctx):
    expected = [
        {"campaign": "Quiet", "cost": 50.0, "leads": 0, "converted_leads": 0, "opportunities": 0, "won": 0,
         "revenue": 0.0, "cost_per_lead": None, "roi_percent": -100.0},
        {"campaign": "Spring", "cost": 300.0, "leads": 1, "converted_leads": 1, "opportunities": 1, "won": 1,
         "revenue": 10000.0, "cost_per_lead": 300.0, "roi_percent": 3233.3},
    ]
    assert reports.campaign_roi() == expected
    assert reports.campaign_roi(TODAY, TODAY) == expected


def test_roi_reports_for_a_sales_manager(rctx, unique):
    """Sales Managers read lead sources and campaigns (their cost rows included)."""
    manager = make_user(unique, "roimgr", roles=("Sales Manager",))
    with as_user(manager):
        assert [r["cost"] for r in reports.source_roi()] == [2000.0, 1500.0]
        assert [r["cost"] for r in reports.campaign_roi()] == [50.0, 300.0]


# -- salespeople ----------------------------------------------------------------------------------------

def test_salesperson_performance(rctx, report_site):
    rows = {r["user"]: r for r in reports.salesperson_performance(TODAY, TODAY)}
    assert set(rows) == {report_site["sp1"], report_site["sp2"]}
    assert rows[report_site["sp1"]] == {
        "user": report_site["sp1"], "leads": 4, "contacted": 2, "converted": 1, "lead_conversion_percent": 25.0,
        "opportunities": 4, "won": 1, "win_rate_percent": 50.0, "avg_cycle_days": 0.0, "revenue": 10000.0,
        "target": 20000.0, "target_percent": 50.0}
    assert rows[report_site["sp2"]] == {
        "user": report_site["sp2"], "leads": 3, "contacted": 2, "converted": 1, "lead_conversion_percent": 33.3,
        "opportunities": 4, "won": 0, "win_rate_percent": 0.0, "avg_cycle_days": None, "revenue": 0.0,
        "target": 5000.0, "target_percent": 0.0}


def test_salesperson_targets_follow_the_period(rctx, report_site):
    rows = {r["user"]: r for r in reports.salesperson_performance(*OLD)}
    assert rows == {report_site["sp1"]: {
        "user": report_site["sp1"], "leads": 0, "contacted": 0, "converted": 0, "lead_conversion_percent": None,
        "opportunities": 0, "won": 0, "win_rate_percent": None, "avg_cycle_days": None, "revenue": 0.0,
        "target": 99999.0, "target_percent": 0.0}}


# -- pipeline, losses, competitors ---------------------------------------------------------------------------

def test_weighted_pipeline(rctx):
    assert reports.weighted_pipeline() == [
        {"stage": "Prospecting", "month": "unscheduled", "count": 1, "amount": 1000.0, "weighted": 100.0},
        {"stage": "Proposal", "month": "2031-03", "count": 2, "amount": 6800.0, "weighted": 3400.0},
        {"stage": "Negotiation", "month": "2031-01", "count": 1, "amount": 2000.0, "weighted": 1500.0},
    ]


def test_lost_reasons(rctx):
    expected = [{"lost_reason": "Price", "count": 2, "amount": 5000.0},
                {"lost_reason": "Timing", "count": 1, "amount": 2500.0}]
    assert reports.lost_reasons() == expected
    assert reports.lost_reasons(TODAY, TODAY) == expected
    assert reports.lost_reasons(*OLD) == []


def test_competitor_analysis(rctx):
    assert reports.competitor_analysis() == [
        {"competitor": "CompA", "opportunities": 2, "they_won": 1, "we_won": 1, "average_offer": 6250.0},
        {"competitor": "CompB", "opportunities": 1, "they_won": 0, "we_won": 0, "average_offer": 3800.0},
    ]


def test_competitor_analysis_for_a_sales_user(rctx, report_site):
    """A Sales User's figures come from the opportunities they read (O3 for sp1)."""
    with as_user(report_site["sp1"]):
        assert reports.competitor_analysis() == [
            {"competitor": "CompA", "opportunities": 1, "they_won": 0, "we_won": 1, "average_offer": 9000.0}]


# -- activities -----------------------------------------------------------------------------------------

def test_activity_metrics_all_time(rctx):
    assert reports.activity_metrics() == {
        "calls": 5, "connected": 3, "connected_percent": 60.0, "outgoing": 4, "incoming": 1,
        "average_talk_seconds": 160.0,
        "by_hour": [{"hour": 9, "calls": 2, "connected": 2}, {"hour": 10, "calls": 1, "connected": 1},
                    {"hour": 14, "calls": 2, "connected": 0}],
        "meetings": 3, "tasks_completed": 2, "messages": 2}


def test_activity_metrics_for_today(rctx):
    """A period ending today includes what happened today (the date fields of calls,
    meetings, tasks and messages hold a time of day)."""
    assert reports.activity_metrics(TODAY, TODAY) == {
        "calls": 4, "connected": 2, "connected_percent": 50.0, "outgoing": 3, "incoming": 1,
        "average_talk_seconds": 90.0,
        "by_hour": [{"hour": 9, "calls": 2, "connected": 2}, {"hour": 14, "calls": 2, "connected": 0}],
        "meetings": 2, "tasks_completed": 2, "messages": 1}


def test_activity_metrics_for_an_old_period(rctx):
    result = reports.activity_metrics(*OLD)
    assert (result["calls"], result["connected"], result["average_talk_seconds"]) == (1, 1, 300.0)
    assert (result["meetings"], result["tasks_completed"], result["messages"]) == (1, 0, 1)
