"""Forecasting and sales management (crm_app/reports.py: sales_forecast, sales_cycle,
opportunities_assigned_closed, and their Script Reports) against figures computed by
hand on a small data set in a site of its own (one per engine), for analysts (CRM Admin,
Sales Manager, Administrator: every row) and a salesperson (their own rows).

The data set, January to March 2031 (Jalali: Dey 1409 runs 2030-12-22..2031-01-20,
Bahman 2031-01-21..02-19, Esfand 02-20..03-20, Farvardin 1410 from 03-21):

  users        rep1, rep2 (Sales User), mgr (Sales Manager of North), crm (CRM Admin)
  leads        LA rep2, arrived 2030-11-01 (imported history);  LB rep2, arrived 2031-01-05
  open         O1 rep1 North 10000 Proposal (50%)      closing 2031-01-20, opened 01-05
               O2 rep1 North  4000 Qualification (25%) closing 2031-02-10, opened 01-06
               O3 rep2 South  8000 Negotiation (75%)   closing 2031-01-31, opened 01-07
               O4 rep2 South  2000 Prospecting (10%)   closing 2031-05-01, opened 02-03 (after the period)
  won          W1 rep1 North 3000 from LA, source Web, opened 2030-12-01, closed 2031-01-15 (75 days from LA)
               W2 rep1 South 5000 (no lead),           opened 2031-01-01, closed 2031-02-10 (40 days)
               W3 rep2 South 7000 from LB, source Web, opened 2031-01-10, closed 2031-02-14 (40 days from LB)
  lost         X1 rep2 South 1000,                     opened 2031-02-01, closed 2031-02-20
  commit       E1 rep1 North 2031-01-01..01-31: commit 6000, best case 9000
               E2 rep2 South from 2031-02-01 (to the month's end): commit 4000, best case 5000
  targets      T1 rep1 2031-01-01..03-31 (90 days): 9000, i.e. 100 a day
               T2 rep2 2031-02-01..02-28 (28 days): 14000, i.e. 500 a day
"""
import json
import os

import pytest
from django.test import Client

import conftest
import lowcode
from lowcode.exceptions import ValidationError

from crm_app import reports
from crm_app.tests.helpers import as_user, make_user, move, ok, token

PERIOD = {"from_date": "2031-01-01", "to_date": "2031-03-31"}
ANALYSTS = ("Administrator", "crm", "mgr")


def _opp(title, owner, amount, territory, opened, *actions, closing=None, **values):
    party = lowcode.get_all("Customer", filters={"customer_name": "Forecast Co"}, pluck="name")[0]
    opp = lowcode.get_doc(dict({"doctype": "Opportunity", "title": title, "opportunity_from": "Customer",
                                "party_name": party, "opportunity_owner": owner, "opportunity_amount": amount,
                                "territory": territory, "transaction_date": opened, "expected_closing": closing},
                               **values)).insert()
    return move(opp, *actions)


def _close(opp, action, day, **values):
    opp.reload()
    opp.closed_on = day  # imported history: closed on its own day
    opp.update(values)
    return move(opp, action)


def build_data_set():
    users = {"rep1": make_user("fc", "rep1"), "rep2": make_user("fc", "rep2"),
             "mgr": make_user("fc", "mgr", roles=("Sales Manager",)),
             "crm": make_user("fc", "crm", roles=("CRM Admin",)), "Administrator": "Administrator"}
    rep1, rep2 = users["rep1"], users["rep2"]
    for name, manager in (("North", users["mgr"]), ("South", None)):
        lowcode.get_doc({"doctype": "Territory", "territory_name": name, "territory_manager": manager}).insert()
    lowcode.get_doc({"doctype": "Lead Source", "source_name": "Web"}).insert()
    lowcode.get_doc({"doctype": "Lost Reason", "lost_reason": "Price"}).insert()
    lowcode.get_doc({"doctype": "Customer", "customer_name": "Forecast Co"}).insert()
    lead_a = lowcode.get_doc({"doctype": "Lead", "first_name": "LA", "email_id": "la@forecast.example.com",
                              "lead_owner": rep2, "lead_date": "2030-11-01"}).insert().name
    lead_b = lowcode.get_doc({"doctype": "Lead", "first_name": "LB", "email_id": "lb@forecast.example.com",
                              "lead_owner": rep2, "lead_date": "2031-01-05"}).insert().name

    _opp("O1", rep1, 10000, "North", "2031-01-05", "Qualify", "Propose", closing="2031-01-20")
    _opp("O2", rep1, 4000, "North", "2031-01-06", "Qualify", closing="2031-02-10")
    _opp("O3", rep2, 8000, "South", "2031-01-07", "Qualify", "Propose", "Negotiate", closing="2031-01-31")
    _opp("O4", rep2, 2000, "South", "2031-02-03", closing="2031-05-01")
    _close(_opp("W1", rep1, 3000, "North", "2030-12-01", "Qualify", "Propose", lead=lead_a, source="Web"),
           "Win", "2031-01-15")
    _close(_opp("W2", rep1, 5000, "South", "2031-01-01", "Qualify", "Propose"), "Win", "2031-02-10")
    _close(_opp("W3", rep2, 7000, "South", "2031-01-10", "Qualify", "Propose", lead=lead_b, source="Web"),
           "Win", "2031-02-14")
    _close(_opp("X1", rep2, 1000, "South", "2031-02-01"), "Lose", "2031-02-20", lost_reason="Price")

    lowcode.get_doc({"doctype": "Sales Forecast Entry", "salesperson": rep1, "territory": "North",
                     "period_start": "2031-01-01", "period_end": "2031-01-31", "commit_amount": 6000,
                     "best_case_amount": 9000}).insert()
    lowcode.get_doc({"doctype": "Sales Forecast Entry", "salesperson": rep2, "territory": "South",
                     "period_start": "2031-02-01", "commit_amount": 4000, "best_case_amount": 5000}).insert()
    for user, amount, start, end in ((rep1, 9000, "2031-01-01", "2031-03-31"), (rep2, 14000, "2031-02-01", "2031-02-28")):
        lowcode.get_doc({"doctype": "Sales Target", "user": user, "target_amount": amount, "period_start": start,
                         "period_end": end}).insert()
    lowcode.db.commit()
    return users


@pytest.fixture(scope="module", params=["sqlite", "mariadb"])
def forecast_site(request, bench):
    if request.param not in os.environ.get("LOWCODE_TEST_ENGINES", "sqlite,mariadb"):
        pytest.skip(f"{request.param} not among LOWCODE_TEST_ENGINES")
    site = conftest.create_site(bench, request.param)
    try:
        with lowcode.site_context(site, bench=bench):
            users = build_data_set()
        yield {"site": site, "bench": bench, "users": users, **users}
    finally:
        conftest.drop_site(bench, site)


@pytest.fixture
def fctx(forecast_site):
    with lowcode.site_context(forecast_site["site"], bench=forecast_site["bench"]) as local:
        yield local


@pytest.fixture(params=ANALYSTS)
def analyst(request, fctx, forecast_site):
    with as_user(forecast_site["users"][request.param]):
        yield request.param


def _calendar(user, calendar, language="en"):
    local = lowcode.local
    local.db.sql("UPDATE `tabUser` SET `calendar`=%s, `language`=%s WHERE `name`=%s", (calendar, language, user))
    local.cache.pop("_desk_prefs", None)


def _figures(rows, *keys):
    """Rows without their labels, keyed by their dimensions."""
    return {tuple(r[k] for k in keys): {f: v for f, v in r.items() if f not in keys and f != "month_label"}
            for r in rows}


def _row(open_count=0, pipeline=0.0, weighted=0.0, commit=0.0, best_case=0.0, won=0.0, target=0.0, attainment=None):
    return {"open_count": open_count, "pipeline": pipeline, "weighted": weighted, "commit": commit,
            "best_case": best_case, "won": won, "target": target, "attainment_percent": attainment}


def by_month_and_rep(rep1, rep2):
    """Gregorian months. Targets: rep1 100 a day (Jan 31 days 3100, Feb 28 days 2800, Mar 3100);
    rep2 14000 in February."""
    return {
        # O1 10000 x 50% = 5000; E1; W1 3000 against 3100: 96.8%
        ("2031-01", rep1): _row(1, 10000.0, 5000.0, 6000.0, 9000.0, 3000.0, 3100.0, 96.8),
        # O3 8000 x 75% = 6000; no commit, no target
        ("2031-01", rep2): _row(1, 8000.0, 6000.0),
        # O2 4000 x 25% = 1000; W2 5000 against 2800: 178.6%
        ("2031-02", rep1): _row(1, 4000.0, 1000.0, won=5000.0, target=2800.0, attainment=178.6),
        # E2; W3 7000 against 14000: 50%
        ("2031-02", rep2): _row(commit=4000.0, best_case=5000.0, won=7000.0, target=14000.0, attainment=50.0),
        ("2031-03", rep1): _row(target=3100.0, attainment=0.0),
    }


def test_forecast_by_month_and_rep(analyst, forecast_site):
    got = reports.sales_forecast(**PERIOD, group_by="month,rep")
    assert _figures(got, "month", "salesperson") == by_month_and_rep(forecast_site["rep1"], forecast_site["rep2"])
    assert [r["month_label"] for r in got[:1]] == ["Jan 2031"]


def test_forecast_by_month_rep_and_territory(analyst, forecast_site):
    rep1, rep2 = forecast_site["rep1"], forecast_site["rep2"]
    got = reports.sales_forecast(**PERIOD, group_by="month,rep,territory")
    # the targets name no territory: rows of their own
    assert _figures(got, "month", "salesperson", "territory") == {
        ("2031-01", rep1, ""): _row(target=3100.0, attainment=0.0),
        ("2031-01", rep1, "North"): _row(1, 10000.0, 5000.0, 6000.0, 9000.0, 3000.0),
        ("2031-01", rep2, "South"): _row(1, 8000.0, 6000.0),
        ("2031-02", rep1, ""): _row(target=2800.0, attainment=0.0),
        ("2031-02", rep1, "North"): _row(1, 4000.0, 1000.0),
        ("2031-02", rep1, "South"): _row(won=5000.0),
        ("2031-02", rep2, ""): _row(target=14000.0, attainment=0.0),
        ("2031-02", rep2, "South"): _row(commit=4000.0, best_case=5000.0, won=7000.0),
        ("2031-03", rep1, ""): _row(target=3100.0, attainment=0.0),
    }


def test_forecast_by_territory_and_filtered(analyst, forecast_site):
    got = reports.sales_forecast(**PERIOD, group_by="territory")
    assert _figures(got, "territory") == {
        ("",): _row(target=23000.0, attainment=0.0),  # 9000 + 14000
        # O1 + O2: 14000, weighted 5000 + 1000; W1 3000
        ("North",): _row(2, 14000.0, 6000.0, 6000.0, 9000.0, 3000.0),
        # O3 8000 / 6000; W2 5000 + W3 7000
        ("South",): _row(1, 8000.0, 6000.0, 4000.0, 5000.0, 12000.0),
    }
    # one rep in one territory: rep1's South is W2 alone
    got = reports.sales_forecast(**PERIOD, salesperson=forecast_site["rep1"], territory="South", group_by="rep")
    assert _figures(got, "salesperson") == {(forecast_site["rep1"],): _row(won=5000.0)}


def test_a_salesperson_sees_only_their_own_forecast(fctx, forecast_site):
    rep1, rep2 = forecast_site["rep1"], forecast_site["rep2"]
    with as_user(rep1):
        got = reports.sales_forecast(**PERIOD, group_by="month,rep")
        mine = {k: v for k, v in by_month_and_rep(rep1, rep2).items() if k[1] == rep1}
        assert _figures(got, "month", "salesperson") == mine
        assert reports.sales_forecast(**PERIOD, salesperson=rep2, group_by="rep") == []


def test_forecast_in_a_jalali_users_months(fctx, forecast_site):
    """Money set for Gregorian dates spreads over Jalali months by the days it covers:
    E1 (Jan 1-31, 31 days): Dey 20 days -> 6000*20/31 = 3870.97, 9000*20/31 = 5806.45;
    Bahman 11 days -> 2129.03, 3193.55. E2 (Feb 1-28): Bahman 19 days -> 4000*19/28 =
    2714.29, 5000*19/28 = 3392.86; Esfand 9 days -> 1285.71, 1607.14. T1 at 100 a day:
    Dey 20 days (Jan 1-20) 2000, Bahman 30 days 3000, Esfand 29 days 2900, Farvardin 11
    days (Mar 21-31) 1100. T2 at 500 a day: Bahman 19 days 9500, Esfand 9 days 4500."""
    rep1, rep2, mgr = forecast_site["rep1"], forecast_site["rep2"], forecast_site["mgr"]
    _calendar(mgr, "Jalali", "fa")
    try:
        with as_user(mgr):
            got = reports.sales_forecast(**PERIOD, group_by="month,rep")
    finally:
        _calendar(mgr, "Gregorian")
    assert _figures(got, "month", "salesperson") == {
        # O1 closes 01-20, the last day of Dey; W1 3000 against 2000: 150%
        ("1409-10", rep1): _row(1, 10000.0, 5000.0, 3870.97, 5806.45, 3000.0, 2000.0, 150.0),
        # O2; W2 5000 against 3000: 166.7%
        ("1409-11", rep1): _row(1, 4000.0, 1000.0, 2129.03, 3193.55, 5000.0, 3000.0, 166.7),
        # O3; W3 7000 against 9500: 73.7%
        ("1409-11", rep2): _row(1, 8000.0, 6000.0, 2714.29, 3392.86, 7000.0, 9500.0, 73.7),
        ("1409-12", rep1): _row(target=2900.0, attainment=0.0),
        ("1409-12", rep2): _row(commit=1285.71, best_case=1607.14, target=4500.0, attainment=0.0),
        ("1410-01", rep1): _row(target=1100.0, attainment=0.0),
    }
    assert [r["month_label"] for r in got[:1]] == ["دی 1409"]


def test_forecast_names_a_bad_argument(fctx):
    with pytest.raises(ValidationError) as e:
        reports.sales_forecast(**PERIOD, group_by="month,colour")
    assert e.value.field == "group_by"
    with pytest.raises(ValidationError) as e:
        reports.sales_forecast(from_date="2031-01-01", to_date="someday")
    assert e.value.field == "to_date"
    with pytest.raises(ValidationError) as e:
        reports.sales_forecast(from_date="1000-01-01", to_date="9000-01-01")
    assert e.value.field == "to_date"


# -- sales cycle: from the lead's arrival to the win ---------------------------------------------------

def test_sales_cycle_per_rep_territory_and_source(analyst, forecast_site):
    rep1, rep2 = forecast_site["rep1"], forecast_site["rep2"]
    # W1: LA arrived 2030-11-01, won 2031-01-15: 29 (rest of Nov) + 31 (Dec) + 15 = 75 days
    # W2: no lead, opened 2031-01-01, won 02-10: 40 days;  W3: LB 01-05 to 02-14: 40 days
    assert reports.sales_cycle(**PERIOD, group_by="rep") == [
        {"group": rep1, "won": 2, "average_days": 57.5, "median_days": 57.5, "shortest_days": 40, "longest_days": 75},
        {"group": rep2, "won": 1, "average_days": 40.0, "median_days": 40.0, "shortest_days": 40, "longest_days": 40},
    ]
    assert reports.sales_cycle(**PERIOD, group_by="territory") == [
        {"group": "North", "won": 1, "average_days": 75.0, "median_days": 75.0, "shortest_days": 75,
         "longest_days": 75},
        {"group": "South", "won": 2, "average_days": 40.0, "median_days": 40.0, "shortest_days": 40,
         "longest_days": 40},
    ]
    assert reports.sales_cycle(**PERIOD, group_by="source") == [
        {"group": "", "won": 1, "average_days": 40.0, "median_days": 40.0, "shortest_days": 40, "longest_days": 40},
        {"group": "Web", "won": 2, "average_days": 57.5, "median_days": 57.5, "shortest_days": 40, "longest_days": 75},
    ]
    # February alone: W2 and W3
    assert [(r["group"], r["won"], r["average_days"]) for r in
            reports.sales_cycle("2031-02-01", "2031-02-28", group_by="territory")] == [("South", 2, 40.0)]


def test_sales_cycle_for_a_salesperson(fctx, forecast_site):
    """rep1 sees their own wins; W1's lead is rep2's, and its arrival still counts."""
    with as_user(forecast_site["rep1"]):
        assert reports.sales_cycle(**PERIOD, group_by="rep") == [
            {"group": forecast_site["rep1"], "won": 2, "average_days": 57.5, "median_days": 57.5,
             "shortest_days": 40, "longest_days": 75}]


def test_salesperson_performance_measures_the_cycle_from_the_leads_arrival(analyst, forecast_site):
    """The same cycle on the salesperson performance report: rep1's W1 (75 days from LA,
    though the deal opened 45 days before the win) and W2 (40): 57.5 on average."""
    rows = {r["user"]: r for r in reports.salesperson_performance(**PERIOD)}
    assert rows[forecast_site["rep1"]]["avg_cycle_days"] == 57.5
    assert rows[forecast_site["rep2"]]["avg_cycle_days"] == 40.0


# -- opportunities assigned vs closed ------------------------------------------------------------------

def assigned_closed(rep1, rep2):
    """Assigned by Opportunity Date, closed by Closed On: rep1 got O1, O2, W2 in January and
    closed W1 (January) and W2 (February); rep2 got O3, W3 in January and O4, X1 in
    February, and closed W3 (won) and X1 (lost) in February."""
    return [
        {"salesperson": rep1, "month": "2031-01", "assigned": 3, "won": 1, "lost": 0, "closed": 1,
         "close_rate_percent": 33.3, "win_rate_percent": 100.0},
        {"salesperson": rep1, "month": "2031-02", "assigned": 0, "won": 1, "lost": 0, "closed": 1,
         "close_rate_percent": None, "win_rate_percent": 100.0},
        {"salesperson": rep2, "month": "2031-01", "assigned": 2, "won": 0, "lost": 0, "closed": 0,
         "close_rate_percent": 0.0, "win_rate_percent": None},
        {"salesperson": rep2, "month": "2031-02", "assigned": 2, "won": 1, "lost": 1, "closed": 2,
         "close_rate_percent": 100.0, "win_rate_percent": 50.0},
    ]


def _no_labels(rows):
    return [{k: v for k, v in r.items() if k != "month_label"} for r in rows]


def test_opportunities_assigned_vs_closed(analyst, forecast_site):
    rep1, rep2 = forecast_site["rep1"], forecast_site["rep2"]
    assert _no_labels(reports.opportunities_assigned_closed(**PERIOD)) == assigned_closed(rep1, rep2)
    assert _no_labels(reports.opportunities_assigned_closed(**PERIOD, salesperson=rep2)) == \
        assigned_closed(rep1, rep2)[2:]


def test_opportunities_assigned_vs_closed_for_a_salesperson(fctx, forecast_site):
    rep1, rep2 = forecast_site["rep1"], forecast_site["rep2"]
    with as_user(rep1):
        assert _no_labels(reports.opportunities_assigned_closed(**PERIOD)) == assigned_closed(rep1, rep2)[:2]


# -- the Script Reports, over HTTP as a Frappe client runs them -----------------------------------------

def _run(fctx, forecast_site, who, name, filters):
    os.environ["LOWCODE_SITES"] = forecast_site["bench"]
    headers = token(forecast_site[who])
    fctx.db.commit()
    client = Client(HTTP_HOST=forecast_site["site"], raise_request_exception=False)
    return client.get("/api/method/frappe.desk.query_report.run",
                      {"report_name": name, "filters": json.dumps(filters)}, **headers)


def test_forecast_script_report_for_a_manager_and_a_salesperson(fctx, forecast_site):
    rep1, rep2 = forecast_site["rep1"], forecast_site["rep2"]
    got = ok(_run(fctx, forecast_site, "mgr", "Sales Forecast", dict(PERIOD, group_by="month,rep")))["message"]
    assert [c["fieldname"] for c in got["columns"]][:3] == ["month_label", "salesperson", "open_count"]
    assert _figures(got["result"], "month", "salesperson") == by_month_and_rep(rep1, rep2)
    # the chart: one bar per month; Won is W1 3000, W2 + W3 12000, nothing in March
    won = next(d for d in got["chart"]["data"]["datasets"] if d["name"] == "Won")
    assert (got["chart"]["data"]["labels"], won["values"]) == (["Jan 2031", "Feb 2031", "Mar 2031"],
                                                                [3000.0, 12000.0, 0.0])
    got = ok(_run(fctx, forecast_site, "rep1", "Sales Forecast", dict(PERIOD, group_by="month,rep")))["message"]
    assert {r["salesperson"] for r in got["result"]} == {rep1}
    bad = _run(fctx, forecast_site, "rep1", "Sales Forecast", dict(PERIOD, group_by="colour"))
    assert bad.status_code == 417 and "group_by" in bad.content.decode()


def test_cycle_and_assignment_script_reports(fctx, forecast_site):
    got = ok(_run(fctx, forecast_site, "crm", "Sales Cycle", dict(PERIOD, group_by="territory")))["message"]
    assert got["columns"][0]["label"] == "Territory"
    assert [(r["group"], r["median_days"]) for r in got["result"]] == [("North", 75.0), ("South", 40.0)]
    got = ok(_run(fctx, forecast_site, "rep1", "Opportunities Assigned vs Closed", PERIOD))["message"]
    assert [(r["month_label"], r["assigned"], r["won"]) for r in got["result"]] == [("Jan 2031", 3, 1),
                                                                                  ("Feb 2031", 0, 1)]


# -- on the sales dashboard --------------------------------------------------------------------------------

def test_sales_dashboard_shows_the_forecast_in_the_users_months(fctx, forecast_site):
    """The dashboard's forecast covers this month and the next two, in the viewer's
    calendar: a commit of 1000 for today alone lands in today's month, Jalali or not."""
    import datetime
    from lowcode.desk.formatting import Prefs, month_label, month_of
    from lowcode.testing.http import login
    today = datetime.date.today().isoformat()
    entry = lowcode.get_doc({"doctype": "Sales Forecast Entry", "salesperson": forecast_site["rep1"],
                             "period_start": today, "period_end": today, "commit_amount": 1000,
                             "best_case_amount": 1000}).insert()
    os.environ["LOWCODE_SITES"] = forecast_site["bench"]
    mgr = forecast_site["mgr"]
    try:
        for calendar, language in (("Gregorian", "en"), ("Jalali", "fa")):
            _calendar(mgr, calendar, language)
            client = Client(HTTP_HOST=forecast_site["site"], raise_request_exception=False)
            login(fctx, client, mgr)
            html = client.get("/app/sales-dashboard").content.decode()
            table = html[html.index('id="forecast"'):html.index("</table>", html.index('id="forecast"'))]
            p = Prefs(language, calendar)
            month = month_of(today, p)
            assert table.count("<tr data-month=") == 1 and f'data-month="{month}"' in table
            assert f"<td>{month_label(month, p)}</td>" in table
    finally:
        _calendar(mgr, "Gregorian")
        lowcode.db.delete("Sales Forecast Entry", {"name": entry.name})
        fctx.db.commit()
