"""The service figures (service_app/reports.py) and the service dashboard against values
computed by hand on a small data set, in a site of its own per engine (so a manager's
figures over every case are exact), for a Support Manager and for two Support Agents
of different teams, each of whom must see only their own cases in every figure.

Users: mgr (Support Manager); a1 (Support Agent, team A); a2 (Support Agent, team B).
Priorities: P1 (rank 1), P2 (rank 2). Customers Alpha, Beta, Gamma (created in that order).

Cases opened in January 2026 (frt / rt: first response / resolution time in seconds;
"due": response_by and resolution_by set; breaches as named):

  case team agent  customer opened            status       frt   rt     due  breach      reopens
  J1   A    -      Alpha    Mon 01-05 09:30   Closed       3600  7200   yes  -           0
  J2   A    -      Alpha    Mon 01-05 10:15   Resolved     1800  36000  yes  resolution  1
  J3   A    a1     Beta     Tue 01-06 14:00   In Progress  7200  -      yes  response    0   P1
  J4   A    -      Alpha    Sat 01-10 09:05   Open         -     -      yes  -           0   P2
  J5   B    -      Beta     Mon 01-12 16:45   Closed       900   14400  yes  -           2
  J6   B    -      Gamma    Tue 01-20 09:50   Resolved     5400  10800  no   -           0
  J7   B    -      Gamma    Sat 01-31 23:30   Closed       600   3600   yes  -           0   crisis (closed)
  J10  -    a1     Beta     Thu 01-15 11:00   Closed       2400  4800   yes  -           0
Outside January: J8 (A, Alpha, 2025-12-31 23:59, Closed, frt 99999), J9 (B, Gamma,
2026-02-01 00:00, Closed, frt 99999).
Open now (the snapshot is taken at NOW = 2026-02-15 12:00), besides J3 and J4:
  K1 B a2 P1 Waiting on Customer, opened 02-15 06:00, crisis
  K2 B -  -  Open, opened 02-13 12:00
  K3 - a2 P2 Open, opened 02-09 12:00, crisis
Surveys (answered on, CSAT, NPS): J1 01-10 5 10; J2 01-20 2 3; J10 01-16 4 -;
J5 01-25 4 8; J6 02-02 3 9; J7 02-03 5 10.
Won deals: Alpha 10000 closed 2026-01-20 and 500 closed 2025-12-15; Gamma 2500 closed
2026-01-31; Beta lost 3000.
"""
import datetime
import os

import pytest
from django.test import Client

import conftest
import lowcode
from lowcode import query
from lowcode.assignments import write_assign
from lowcode.context import local
from lowcode.permissions import match_conditions
from lowcode.tests.desk_helpers import login

from crm_app.tests.helpers import as_user, make_user, move
from service_app import reports
from service_app.tests.helpers import make_team

JAN = ("2026-01-01", "2026-01-31")
NOW = datetime.datetime(2026, 2, 15, 12, 0)
DUE = {"response_by": "2026-03-01 00:00:00", "resolution_by": "2026-03-02 00:00:00"}


def _case(key, team, customer, opened, status, agent=None, priority=None, **values):
    doc = lowcode.get_doc({"doctype": "Case", "subject": f"Case {key}", "customer": customer}).insert()
    # Fields other helpers fill (routing, SLA, surveys) are set directly, after insert.
    fields = dict(values, service_team=team, assigned_to=agent, priority=priority, status=status, opened_on=opened,
                  modified=opened)  # distinct: pages in a known order
    local.db.sql(f"UPDATE `tabCase` SET {', '.join(f'`{k}`=%s' for k in fields)} WHERE `name`=%s",
                 (*fields.values(), doc.name))
    return doc.name


def build_data_set():
    users = {"mgr": make_user("svc", "mgr", roles=("Support Manager",)),
             "a1": make_user("svc", "a1", roles=("Support Agent",)),
             "a2": make_user("svc", "a2", roles=("Support Agent",))}
    team_a, team_b = make_team([users["a1"]], name="Team A"), make_team([users["a2"]], name="Team B")
    for name, rank in (("P1", 1), ("P2", 2)):
        lowcode.get_doc({"doctype": "Issue Priority", "priority_name": name, "rank": rank}).insert()
    alpha, beta, gamma = (lowcode.get_doc({"doctype": "Customer", "customer_name": n}).insert().name
                          for n in ("Alpha", "Beta", "Gamma"))
    a1, a2 = users["a1"], users["a2"]
    c = {}
    c["J1"] = _case("J1", team_a, alpha, "2026-01-05 09:30:00", "Closed", first_response_time=3600,
                    resolution_time=7200, survey_answered_on="2026-01-10 10:00:00", satisfaction_score=5,
                    nps_score=10, **DUE)
    c["J2"] = _case("J2", team_a, alpha, "2026-01-05 10:15:00", "Resolved", first_response_time=1800,
                    resolution_time=36000, resolution_breached=1, reopen_count=1,
                    survey_answered_on="2026-01-20 10:00:00", satisfaction_score=2, nps_score=3, **DUE)
    c["J3"] = _case("J3", team_a, beta, "2026-01-06 14:00:00", "In Progress", agent=a1, priority="P1",
                    first_response_time=7200, response_breached=1, **DUE)
    c["J4"] = _case("J4", team_a, alpha, "2026-01-10 09:05:00", "Open", priority="P2", **DUE)
    c["J5"] = _case("J5", team_b, beta, "2026-01-12 16:45:00", "Closed", first_response_time=900,
                    resolution_time=14400, reopen_count=2, survey_answered_on="2026-01-25 10:00:00",
                    satisfaction_score=4, nps_score=8, **DUE)
    c["J6"] = _case("J6", team_b, gamma, "2026-01-20 09:50:00", "Resolved", first_response_time=5400,
                    resolution_time=10800, survey_answered_on="2026-02-02 10:00:00", satisfaction_score=3,
                    nps_score=9)
    c["J7"] = _case("J7", team_b, gamma, "2026-01-31 23:30:00", "Closed", first_response_time=600,
                    resolution_time=3600, is_crisis=1, survey_answered_on="2026-02-03 10:00:00",
                    satisfaction_score=5, nps_score=10, **DUE)
    c["J10"] = _case("J10", None, beta, "2026-01-15 11:00:00", "Closed", agent=a1, first_response_time=2400,
                     resolution_time=4800, survey_answered_on="2026-01-16 10:00:00", satisfaction_score=4, **DUE)
    c["J8"] = _case("J8", team_a, alpha, "2025-12-31 23:59:00", "Closed", first_response_time=99999)
    c["J9"] = _case("J9", team_b, gamma, "2026-02-01 00:00:00", "Closed", first_response_time=99999)
    c["K1"] = _case("K1", team_b, gamma, "2026-02-15 06:00:00", "Waiting on Customer", agent=a2, priority="P1",
                    is_crisis=1)
    c["K2"] = _case("K2", team_b, beta, "2026-02-13 12:00:00", "Open")
    c["K3"] = _case("K3", None, alpha, "2026-02-09 12:00:00", "Open", agent=a2, priority="P2", is_crisis=1)

    def deal(customer, amount, closed_on, action="Win"):
        opp = lowcode.get_doc({"doctype": "Opportunity", "title": f"Deal {amount}", "opportunity_from": "Customer",
                               "party_name": customer, "opportunity_amount": amount,
                               "transaction_date": "2025-11-01"}).insert()
        if action == "Win":
            move(opp, "Qualify", "Propose")
        else:
            opp.lost_reason = "Price"
            opp.save()
        opp.closed_on = closed_on
        move(opp, action)
    lowcode.get_doc({"doctype": "Lost Reason", "lost_reason": "Price"}).insert()
    deal(alpha, 10000, "2026-01-20")
    deal(alpha, 500, "2025-12-15")
    deal(gamma, 2500, "2026-01-31")
    deal(beta, 3000, "2026-01-10", "Lose")
    lowcode.db.commit()
    return dict(users, cases=c, alpha=alpha, beta=beta, gamma=gamma, Administrator="Administrator")


@pytest.fixture(scope="module", params=["sqlite", "mariadb"])
def service_site(request, bench):
    site = conftest.create_site(bench, request.param)
    try:
        with lowcode.site_context(site, bench=bench):
            data = build_data_set()
        yield {"site": site, "bench": bench, **data}
    finally:
        conftest.drop_site(bench, site)


@pytest.fixture
def sctx(service_site):
    with lowcode.site_context(service_site["site"], bench=service_site["bench"]) as local_:
        yield local_


@pytest.fixture(params=["mgr", "Administrator"])
def manager(request, sctx, service_site):
    with as_user(service_site[request.param]):
        yield request.param


def _as(service_site, key):
    return as_user(service_site[key])


# -- times, SLA, reopen, customers, peaks (January) ---------------------------------------------------

def test_period_figures_for_a_manager(manager, service_site):
    """Eight cases opened in January (J8 on Dec 31 and J9 on Feb 1 are outside).
    First response: 600 900 1800 2400 3600 5400 7200 s: median 2400 s = 0.67 h, p90
    the 7th of 7 = 2 h. Resolution: 3600 4800 7200 10800 14400 36000: median
    (7200 + 10800) / 2 = 2.5 h, p90 the 6th of 6 = 10 h. SLA: J1 J2 J3 J4 J5 J7 J10 have
    a due time; J2 and J3 breached, J1 J5 J7 J10 resolved without a breach, J4 open and
    not breached (not counted): 4 / 6 = 66.7 %. Reopen: J2 and J5 of the six resolved."""
    got = reports.period_figures(*JAN)
    assert got["cases"] == 8
    assert got["first_response"] == {"count": 7, "median_hours": 0.67, "p90_hours": 2.0}
    assert got["resolution"] == {"count": 6, "median_hours": 2.5, "p90_hours": 10.0}
    assert got["sla"] == {"with_due_time": 7, "measured": 6, "kept": 4, "breached": 2, "compliance_percent": 66.7}
    assert got["reopen"] == {"resolved": 6, "reopened": 2, "rate_percent": 33.3}
    s = service_site
    assert got["customers"] == [{"customer": s["alpha"], "cases": 3, "revenue": 10000.0},
                                {"customer": s["beta"], "cases": 3, "revenue": 0.0},
                                {"customer": s["gamma"], "cases": 2, "revenue": 2500.0}]
    assert {h["hour"]: h["count"] for h in got["by_hour"] if h["count"]} == {9: 3, 10: 1, 11: 1, 14: 1, 16: 1, 23: 1}
    assert [w["count"] for w in got["by_weekday"]] == [3, 2, 0, 1, 0, 2, 0]


def test_period_figures_for_an_agent_cover_their_team_and_their_cases(sctx, service_site):
    """a1: team A's J1-J4 and J10 (assigned to them). a2: team B's J5-J7. Revenue stays
    empty: an agent may not read deals."""
    s = service_site
    with _as(s, "a1"):
        got = reports.period_figures(*JAN)
    assert got["cases"] == 5
    assert got["first_response"] == {"count": 4, "median_hours": 0.83, "p90_hours": 2.0}  # 1800 2400 3600 7200
    assert got["resolution"] == {"count": 3, "median_hours": 2.0, "p90_hours": 10.0}  # 4800 7200 36000
    assert got["sla"] == {"with_due_time": 5, "measured": 4, "kept": 2, "breached": 2, "compliance_percent": 50.0}
    assert got["reopen"] == {"resolved": 3, "reopened": 1, "rate_percent": 33.3}
    assert got["customers"] == [{"customer": s["alpha"], "cases": 3, "revenue": None},
                                {"customer": s["beta"], "cases": 2, "revenue": None}]
    assert [w["count"] for w in got["by_weekday"]] == [2, 1, 0, 1, 0, 1, 0]
    with _as(s, "a2"):
        got = reports.period_figures(*JAN)
    assert got["cases"] == 3
    assert got["first_response"] == {"count": 3, "median_hours": 0.25, "p90_hours": 1.5}  # 600 900 5400
    assert got["resolution"] == {"count": 3, "median_hours": 3.0, "p90_hours": 4.0}  # 3600 10800 14400
    assert got["sla"] == {"with_due_time": 2, "measured": 2, "kept": 2, "breached": 0, "compliance_percent": 100.0}
    assert got["reopen"] == {"resolved": 3, "reopened": 1, "rate_percent": 33.3}
    assert got["customers"] == [{"customer": s["gamma"], "cases": 2, "revenue": None},
                                {"customer": s["beta"], "cases": 1, "revenue": None}]
    assert {h["hour"]: h["count"] for h in got["by_hour"] if h["count"]} == {9: 1, 16: 1, 23: 1}


def test_an_empty_period_has_no_figures(manager):
    got = reports.period_figures("2020-01-01", "2020-01-31")
    assert got["cases"] == 0
    assert got["first_response"] == {"count": 0, "median_hours": None, "p90_hours": None}
    assert got["sla"]["compliance_percent"] is None and got["reopen"]["rate_percent"] is None


@pytest.mark.parametrize("period", [("2026-13-01", None), (None, "soon"), ("2026-02-01", "2026-01-01")])
def test_a_bad_period_is_named(sctx, period):
    with pytest.raises(lowcode.ValidationError) as caught:
        reports.service_figures(*period)
    assert caught.value.field == ("from_date" if period[0] else "to_date")


# -- open cases now -------------------------------------------------------------------------------------

AGES = ["< 1 day", "1-3 days", "3-7 days", "7-30 days", "> 30 days"]


def _open(got):
    return ({s["status"]: s["count"] for s in got["by_status"]}, [(a["bucket"], a["count"]) for a in got["age"]])


def test_open_cases_for_a_manager(manager, service_site):
    """J3 In Progress, J4, K2, K3 Open, K1 Waiting. Ages at NOW: K1 0.25 d, K2 2 d, K3 6 d,
    J4 36.1 d, J3 39.9 d: median 6 d."""
    s = service_site
    got = reports.open_cases(now=NOW)
    assert got["total"] == 5
    assert _open(got) == ({"Open": 3, "In Progress": 1, "Waiting on Customer": 1},
                          list(zip(AGES, [1, 1, 1, 0, 2])))
    assert got["by_priority"] == [{"priority": "P1", "count": 2}, {"priority": "P2", "count": 2},
                                  {"priority": None, "count": 1}]
    assert got["by_agent"] == [{"agent": None, "count": 2}, {"agent": s["a2"], "count": 2},
                               {"agent": s["a1"], "count": 1}]
    assert (got["median_age_days"], got["oldest_age_days"]) == (6.0, 39.9)
    crisis = reports.crisis_cases()
    assert [c["name"] for c in crisis] == [s["cases"]["K3"], s["cases"]["K1"]]  # J7 is closed: gone


def test_open_cases_for_agents_show_no_other_team(sctx, service_site):
    s = service_site
    with _as(s, "a1"):
        got = reports.open_cases(now=NOW)
        assert reports.crisis_cases() == []
    assert got["total"] == 2
    assert _open(got) == ({"Open": 1, "In Progress": 1, "Waiting on Customer": 0}, list(zip(AGES, [0, 0, 0, 0, 2])))
    assert got["by_agent"] == [{"agent": None, "count": 1}, {"agent": s["a1"], "count": 1}]
    assert (got["median_age_days"], got["oldest_age_days"]) == (38.0, 39.9)
    with _as(s, "a2"):
        got = reports.open_cases(now=NOW)
        crisis = [c["name"] for c in reports.crisis_cases()]
    assert got["total"] == 3
    assert _open(got) == ({"Open": 2, "In Progress": 0, "Waiting on Customer": 1}, list(zip(AGES, [1, 1, 1, 0, 0])))
    assert got["by_priority"] == [{"priority": "P1", "count": 1}, {"priority": "P2", "count": 1},
                                  {"priority": None, "count": 1}]
    assert (got["median_age_days"], got["oldest_age_days"]) == (2.0, 6.0)
    assert crisis == [s["cases"]["K3"], s["cases"]["K1"]]
    # the lists agree with the figures
    with _as(s, "a1"):
        assert lowcode.get_count("Case", filters=[["status", "in", list(reports.OPEN_STATES)]]) == 2


# -- satisfaction ---------------------------------------------------------------------------------------

def _month(month, csat, csat_n, nps, nps_n):
    return {"month": month, "csat": csat, "csat_answers": csat_n, "nps": nps, "nps_answers": nps_n}


def test_satisfaction_by_month_for_a_manager(manager):
    """January: CSAT 5 2 4 4 = 3.75; NPS 10 3 8: one promoter, one detractor = 0.
    February: CSAT 3 5 = 4; NPS 9 10 = 100. Overall: CSAT 23 / 6 = 3.83; NPS 3 promoters,
    1 detractor of 5 = 40."""
    got = reports.satisfaction("2026-01-01", "2026-02-28")
    assert got["by_month"] == [_month("2026-01", 3.75, 4, 0.0, 3), _month("2026-02", 4.0, 2, 100.0, 2)]
    assert got["overall"] == {"csat": 3.83, "csat_answers": 6, "nps": 40.0, "nps_answers": 5}
    assert reports.satisfaction(*JAN)["by_month"] == [_month("2026-01", 3.75, 4, 0.0, 3)]


def test_satisfaction_for_agents(sctx, service_site):
    with _as(service_site, "a1"):  # J1 J2 J10
        got = reports.satisfaction("2026-01-01", "2026-02-28")
    assert got["by_month"] == [_month("2026-01", 3.67, 3, 0.0, 2)]
    with _as(service_site, "a2"):  # J5; J6 J7
        got = reports.satisfaction("2026-01-01", "2026-02-28")
    assert got["by_month"] == [_month("2026-01", 4.0, 1, 0.0, 1), _month("2026-02", 4.0, 2, 100.0, 2)]
    assert got["overall"] == {"csat": 4.0, "csat_answers": 3, "nps": 66.7, "nps_answers": 3}


# -- the dashboard ---------------------------------------------------------------------------------------

def _page(sctx, service_site, who, **params):
    os.environ["LOWCODE_SITES"] = service_site["bench"]
    client = Client(HTTP_HOST=service_site["site"], raise_request_exception=False)
    login(sctx, client, service_site[who])
    return client.get("/app/service-dashboard", params)


def _between(html, start, end="</"):
    i = html.index(start)
    return html[i:html.index(end, i + len(start))]


@pytest.mark.parametrize("who", ["mgr", "a1", "a2"])
def test_dashboard_shows_each_role_its_figures(sctx, service_site, who):
    reports.cache().delete_prefix("service-dashboard|")
    response = _page(sctx, service_site, who, **{"from": JAN[0], "to": JAN[1]})
    assert response.status_code == 200, response.content[:500]
    html = response.content.decode()
    sla = {"mgr": "66.7%", "a1": "50.0%", "a2": "100.0%"}[who]
    assert sla in _between(html, 'id="card-sla"')
    assert 'id="dashboard-scope"' in html
    cases = service_site["cases"]
    crisis = html[html.index('id="crisis-cases"'):] if 'id="crisis-cases"' in html else ""
    if who == "a1":  # team A and J10 only: no other team's case or customer anywhere
        assert crisis == "" and cases["K1"] not in html and cases["K3"] not in html
        assert service_site["gamma"] not in html
        assert _between(html, 'id="card-open"').endswith('>2')
    else:
        assert cases["K1"] in crisis and cases["K3"] in crisis and cases["J7"] not in crisis
    if who == "mgr":
        customers = _between(html, 'id="customers"', "</table>")
        assert service_site["gamma"] in customers and "10,000" in customers.replace("٬", ",")


def test_dashboard_refuses_a_bad_period_by_name(sctx, service_site):
    response = _page(sctx, service_site, "mgr", **{"from": "someday"})
    assert response.status_code == 417 and b"from_date" in response.content


def test_dashboard_figures_are_kept_a_minute_per_scope(sctx, service_site):
    """A manager's cached figures are never an agent's: the key carries the scope."""
    reports.cache().delete_prefix("service-dashboard|")
    with _as(service_site, "mgr"):
        assert reports.cached_figures(*JAN)["period"]["cases"] == 8
    with _as(service_site, "a1"):
        assert reports.cached_figures(*JAN)["period"]["cases"] == 5
    with _as(service_site, "a2"):
        assert reports.cached_figures(*JAN)["period"]["cases"] == 3


def test_a_new_case_is_opened_when_registered(sctx):
    before = datetime.datetime.now().replace(microsecond=0)
    case = lowcode.get_doc({"doctype": "Case", "subject": "Printer on fire"}).insert()
    opened = case.opened_on if isinstance(case.opened_on, datetime.datetime) else \
        datetime.datetime.fromisoformat(str(case.opened_on))
    assert before <= opened <= datetime.datetime.now()
    # an import (server code) keeps the time it gives; a user's payload cannot move the SLA clock
    given = lowcode.get_doc({"doctype": "Case", "subject": "Imported", "opened_on": "2025-05-05 08:00:00"}).insert(
        ignore_permissions=True)
    assert str(given.opened_on)[:19] == "2025-05-05 08:00:00"
    typed = lowcode.get_doc({"doctype": "Case", "subject": "Typed", "opened_on": "2025-05-05 08:00:00"}).insert()
    assert str(typed.opened_on)[:19] != "2025-05-05 08:00:00"
    local.db.rollback()


def test_service_workspace_cards_count_each_viewers_cases(sctx, service_site):
    """The Service workspace (fixtures) with its number cards and charts, each over the
    viewer's cases: open 5 / crisis 2 for the manager, 2 / 0 for a1, 3 / 2 for a2."""
    workspace = lowcode.get_doc("Workspace", "Service")
    assert {c.number_card for c in workspace.number_cards} >= {"Open cases", "Open crisis cases"}
    assert "/app/service-dashboard" in [s.link_to for s in workspace.shortcuts]
    for who, expected in (("mgr", (5, 2, 2)), ("a1", (2, 0, 1)), ("a2", (3, 2, 1))):
        with _as(service_site, who):
            got = tuple(lowcode.get_doc("Number Card", name).get_value()
                        for name in ("Open cases", "Open crisis cases", "Unassigned open cases"))
        assert got == expected, who


def test_dashboard_is_refused_to_those_who_may_not_read_cases(sctx, service_site):
    """A salesperson has no Case permission: 403 and no figure, not an empty dashboard."""
    with as_user("Administrator"):
        seller = make_user("svc", "seller", roles=("Sales User",))
    local.db.commit()
    service_site["seller"] = seller
    response = _page(sctx, service_site, "seller", **{"from": JAN[0], "to": JAN[1]})
    assert response.status_code == 403
    assert b'id="card-sla"' not in response.content
    with as_user(seller), pytest.raises(lowcode.PermissionError):
        reports.service_figures(*JAN)


@pytest.mark.parametrize("small", [0, 1, 200])
def test_an_agents_queue_pages_equal_the_plain_query(sctx, service_site, monkeypatch, small):
    """The agent's queue (filtered, newest first) is paged part by part, a part with at
    most query.SMALL_PART_ROWS rows by its names (none: every part as it is; 1: the
    owner and assignment parts by name, the team part as it is): the same pages as one
    plain SELECT with the agent's whole row condition."""
    monkeypatch.setattr(query, "SMALL_PART_ROWS", small)
    s, cases = service_site, service_site["cases"]
    write_assign("Case", cases["K2"], [s["a1"]])  # another team's case, by assignment
    local.db.sql("UPDATE `tabCase` SET `owner`=%s WHERE `name`=%s", (s["a1"], cases["J9"]))
    try:
        with _as(s, "a1"):
            cond, values = match_conditions("Case")
            for flt, sql, fvalues in (({}, "1=1", []), ({"status": "Open"}, "`status`=%s", ["Open"]),
                                      ({"status": ["in", ["Closed", "Open"]]}, "`status` IN (%s, %s)",
                                       ["Closed", "Open"])):
                plain = local.db.sql(f"SELECT `name` FROM `tabCase` WHERE {sql} AND {cond} ORDER BY `modified` DESC",
                                     fvalues + values, pluck=True)
                assert plain, flt
                for start, size in ((0, 2), (1, 3), (0, 20)):
                    assert lowcode.get_list("Case", filters=flt, pluck="name", order_by="modified desc",
                                            limit_start=start, limit_page_length=size) == plain[start:start + size]
            assert cases["K2"] in lowcode.get_list("Case", filters={"status": "Open"}, pluck="name")
            assert cases["K1"] not in lowcode.get_list("Case", pluck="name", limit_page_length=0)
    finally:
        local.db.rollback()


@pytest.mark.parametrize("who, open_cases", [("mgr", "5"), ("a1", "2")])
def test_service_workspace_on_the_desk_home(sctx, service_site, who, open_cases):
    from lowcode.tests.test_desk_dashboard import cards, workspace_html
    os.environ["LOWCODE_SITES"] = service_site["bench"]
    client = Client(HTTP_HOST=service_site["site"], raise_request_exception=False)
    login(sctx, client, service_site[who])
    section = workspace_html(client.get("/app").content.decode(), "Service")
    assert section is not None and "/app/service-dashboard" in section
    assert cards(section)["Open cases"] == open_cases


# -- how the figures are read ------------------------------------------------------------------------------

def test_an_agents_figures_count_each_case_once_across_their_parts(sctx, service_site):
    """An agent's cases are an OR of parts (owned, agent of, assigned, team queue), read
    as disjoint parts and added up: a1 also owns J9 (team B, opened Feb 1) and is
    assigned K2 (team B, open), J3 is both team A's and a1's. Each counts once."""
    s, cases = service_site, service_site["cases"]
    write_assign("Case", cases["K2"], [s["a1"]])
    local.db.sql("UPDATE `tabCase` SET `owner`=%s WHERE `name`=%s", (s["a1"], cases["J9"]))
    try:
        with _as(s, "a1"):
            scope = reports.viewer_scope()
            assert len(scope) == 4  # owner, agent, assignment, team: none empty
            assert reports.open_cases(now=NOW)["total"] == 3  # J3 J4 K2
            feb = reports.period_figures("2026-02-01", "2026-02-28")
            assert feb["cases"] == 2 and feb["first_response"]["count"] == 1  # J9 (frt 99999) and K2
            assert reports.period_figures(*JAN)["cases"] == 5
            everything = reports.period_figures(None, None)["cases"]
            assert everything == lowcode.get_count("Case") == 8  # J1-J4 J10, J8, J9, K2
    finally:
        local.db.rollback()


def test_without_a_period_every_case_counts_and_only_answered_surveys(manager):
    """No dates: every case by its opening time (13), and satisfaction over the answered
    surveys only (no month for unanswered cases)."""
    assert reports.period_figures(None, None)["cases"] == 13
    got = reports.satisfaction(None, None)
    assert [m["month"] for m in got["by_month"]] == ["2026-01", "2026-02"]
    assert got["overall"] == {"csat": 3.83, "csat_answers": 6, "nps": 40.0, "nps_answers": 5}


def test_the_case_table_has_the_reports_covering_indexes(sctx):
    """Case's "indexes" (case.json) exist on both engines: the dashboard's figures are
    read from them at a million cases (service_app/reports.py)."""
    have = [cols for _, cols in sctx.db.get_indexes("Case").values()]
    assert ["status", "priority", "assigned_to", "opened_on"] in have
    assert ["survey_answered_on", "satisfaction_score", "nps_score"] in have
    assert any(cols[:3] == ["opened_on", "status", "customer"] and "resolution_by" in cols for cols in have)
    assert ["service_team", "status", "modified"] in have and ["service_team", "opened_on"] in have
    assert ["assigned_to", "status", "modified"] in have  # an agent's open cases in other queues


def test_the_figures_leave_the_garbage_collector_as_they_found_it(sctx, service_site):
    """service_figures pauses the cyclic collector while it reads (reports.py): it is on
    again afterwards, after a refusal too (a salesperson may not read cases), and stays
    off if it was off."""
    import gc
    assert gc.isenabled()
    seller = make_user("svc", "gc-seller", roles=("Sales User",))
    try:
        with _as(service_site, "mgr"):
            assert reports.service_figures(*JAN)["period"]["cases"] == 8
        assert gc.isenabled()
        with as_user(seller), pytest.raises(lowcode.PermissionError):
            reports.service_figures(*JAN)
        assert gc.isenabled()
        gc.disable()
        try:
            with _as(service_site, "mgr"):
                reports.service_figures(*JAN)
            assert not gc.isenabled()
        finally:
            gc.enable()
    finally:
        local.db.rollback()


def test_satisfaction_by_jalali_month_for_a_jalali_manager(manager):
    """The same surveys in a Jalali user's months: Dey 1404 ends on 2026-01-20, Bahman
    starts on 2026-01-21. Dey: J1 01-10 (5, 10), J10 01-16 (4, -), J2 01-20 (2, 3): CSAT
    11 / 3 = 3.67, NPS one promoter and one detractor of 2 = 0. Bahman: J5 01-25 (4, 8),
    J6 02-02 (3, 9), J7 02-03 (5, 10): CSAT 12 / 3 = 4, NPS 2 promoters of 3 = 66.7.
    Overall as in Gregorian months."""
    local.db.sql("UPDATE `tabUser` SET `calendar`='Jalali' WHERE `name`=%s", (local.user,))
    local.cache.pop("_desk_prefs", None)
    try:
        got = reports.satisfaction("2026-01-01", "2026-02-28")
    finally:
        local.db.sql("UPDATE `tabUser` SET `calendar`='Gregorian' WHERE `name`=%s", (local.user,))
        local.cache.pop("_desk_prefs", None)
    assert got["by_month"] == [_month("1404-10", 3.67, 3, 0.0, 2), _month("1404-11", 4.0, 3, 66.7, 3)]
    assert got["overall"] == {"csat": 3.83, "csat_answers": 6, "nps": 40.0, "nps_answers": 5}


# -- the standard Script Reports, through frappe.desk.query_report.run ------------------------------------

def _run(sctx, service_site, who, name, filters=None):
    import json
    from crm_app.tests.helpers import ok, token
    os.environ["LOWCODE_SITES"] = service_site["bench"]
    headers = token(service_site[who])
    sctx.db.commit()
    client = Client(HTTP_HOST=service_site["site"], raise_request_exception=False)
    return ok(client.post("/api/method/frappe.desk.query_report.run",
                          {"report_name": name, "filters": json.dumps(filters or {})}, **headers))["message"]


def test_query_report_run_gives_a_manager_every_case(sctx, service_site):
    """The figures of test_period_figures_for_a_manager and test_satisfaction_by_month_for_a_manager,
    as Frappe clients read them; the total row adds up cases (8) and revenue (12500)."""
    s = service_site
    r = _run(sctx, s, "mgr", "Cases by Customer", {"from_date": JAN[0], "to_date": JAN[1]})
    assert r["result"] == [{"customer": s["alpha"], "cases": 3, "revenue": 10000.0},
                           {"customer": s["beta"], "cases": 3, "revenue": 0.0},
                           {"customer": s["gamma"], "cases": 2, "revenue": 2500.0},
                           ["Total", 8.0, 12500.0]]
    summary = {x["label"]: x["value"] for x in r["report_summary"]}
    assert (summary["Cases"], summary["SLA Compliance %"], summary["Reopen Rate %"]) == (8, 66.7, 33.3)
    r = _run(sctx, s, "mgr", "Case Satisfaction", {"from_date": "2026-01-01", "to_date": "2026-02-28"})
    assert r["result"] == [_month("2026-01", 3.75, 4, 0.0, 3), _month("2026-02", 4.0, 2, 100.0, 2)]
    assert [x["value"] for x in r["report_summary"]] == [3.83, 40.0]
    assert [c["name"] for c in _run(sctx, s, "mgr", "Crisis Cases")["result"]] == [s["cases"]["K3"], s["cases"]["K1"]]


def test_query_report_run_gives_an_agent_their_cases_only(sctx, service_site):
    """a1: team A's cases and their own (test_period_figures_for_an_agent_...): no revenue
    (the total row leaves it empty), no crisis case."""
    s = service_site
    r = _run(sctx, s, "a1", "Cases by Customer", {"from_date": JAN[0], "to_date": JAN[1]})
    assert r["result"] == [{"customer": s["alpha"], "cases": 3, "revenue": None},
                           {"customer": s["beta"], "cases": 2, "revenue": None}, ["Total", 5.0, ""]]
    assert _run(sctx, s, "a1", "Crisis Cases")["result"] == []
    r = _run(sctx, s, "a2", "Case Satisfaction", {"from_date": "2026-01-01", "to_date": "2026-02-28"})
    assert r["result"] == [_month("2026-01", 4.0, 1, 0.0, 1), _month("2026-02", 4.0, 2, 100.0, 2)]
