"""Time tracking: a case's time logs (timer or by hand), its total_hours always their
sum, totals per case, customer, agent and month, and who sees and writes which logs."""
import pytest

import lowcode
from lowcode import query
from lowcode.exceptions import PermissionError

from crm_app.tests.helpers import as_user
from lowcode.tests.desk_helpers import commit, login
from service_app.time_tracking import start_timer, stop_timer, time_totals
from service_app.tests.helpers import make_agent, make_case, make_customer, make_team


def log(case, agent, start, end=None, hours=None, billable=0):
    return lowcode.get_doc({"doctype": "Case Time Log", "case": case, "agent": agent, "from_time": start,
                            "to_time": end, "hours": hours, "billable": billable}).insert()


def total(case):
    return lowcode.db.get_value("Case", case, "total_hours")


def test_hours_come_from_the_times_and_the_case_total_is_their_sum(ctx, unique):
    agent = make_agent(unique)
    customer = make_customer().name
    case = make_case(customer=customer).name
    first = log(case, agent, "2026-03-01 09:00:00", "2026-03-01 10:30:00")
    assert first.hours == 1.5 and first.customer == customer  # the customer comes from the case
    second = log(case, agent, "2026-03-02 14:00:00", hours=0.25)  # entered as hours: the end follows
    assert str(second.to_time)[:19] == "2026-03-02 14:15:00"
    assert total(case) == 1.75
    second.to_time = "2026-03-02 16:00:00"
    second.save()
    assert total(case) == 3.5
    other = make_case().name
    second.case = other  # moved to another case: both totals follow
    second.save()
    assert (total(case), total(other)) == (1.5, 2.0)
    lowcode.delete_doc("Case Time Log", first.name)
    assert total(case) == 0
    with pytest.raises(lowcode.ValidationError) as err:
        log(case, agent, "2026-03-01 10:00:00", "2026-03-01 09:00:00")
    assert err.value.field == "to_time"


def test_the_timer_starts_and_stops_once(ctx, unique):
    agent = make_agent(unique)
    case = make_case(assigned_to=agent).name
    with as_user(agent):
        started = start_timer(case)
        with pytest.raises(lowcode.ValidationError):
            start_timer(case)  # already running
        running = lowcode.get_doc("Case Time Log", started["time_log"])
        assert (running.agent, running.to_time, running.hours) == (agent, None, 0)
        stopped = stop_timer(case, description="Called the customer")
        assert stopped["time_log"] == started["time_log"]
        with pytest.raises(lowcode.ValidationError):
            stop_timer(case)  # nothing running
    done = lowcode.get_doc("Case Time Log", started["time_log"])
    assert done.to_time is not None and done.description == "Called the customer"


def test_totals_per_case_customer_agent_and_month(ctx, unique):
    a, b = make_agent(unique, "a"), make_agent(unique, "b")
    c1, c2 = make_customer().name, make_customer().name
    k1, k2 = make_case(customer=c1).name, make_case(customer=c2).name
    log(k1, a, "2031-01-10 09:00:00", "2031-01-10 11:00:00", billable=1)
    log(k1, b, "2031-01-31 23:00:00", "2031-02-01 00:30:00")
    log(k2, a, "2031-02-05 08:00:00", "2031-02-05 08:45:00", billable=1)
    log(k2, a, "2031-03-01 08:00:00", "2031-03-01 09:00:00")  # outside the period
    period = {"from_date": "2031-01-01", "to_date": "2031-02-28"}
    by_case = {t["key"]: (t["hours"], t["billable_hours"], t["logs"]) for t in time_totals("case", **period)}
    assert by_case == {k1: (3.5, 2.0, 2), k2: (0.75, 0.75, 1)}
    assert {t["key"]: t["hours"] for t in time_totals("customer", **period)} == {c1: 3.5, c2: 0.75}
    assert {t["key"]: t["hours"] for t in time_totals("agent", **period)} == {a: 2.75, b: 1.5}
    assert [(t["key"], t["hours"]) for t in time_totals("month", **period)] == [("2031-01", 3.5), ("2031-02", 0.75)]
    with pytest.raises(lowcode.ValidationError) as err:
        time_totals("weekday")
    assert err.value.field == "group_by"
    with pytest.raises(lowcode.ValidationError) as err:
        time_totals("case", from_date="soon")
    assert err.value.field == "from_date"


def test_an_agent_sees_own_logs_and_those_of_cases_they_read_and_writes_only_their_own(ctx, unique):
    alice, bob = make_agent(unique, "alice"), make_agent(unique, "bob")
    team = make_team([alice])
    queue_case = make_case(service_team=team).name  # alice reads it through her team
    bobs_case = make_case(assigned_to=bob).name
    on_queue_by_bob = log(queue_case, bob, "2031-05-01 09:00:00", "2031-05-01 10:00:00").name
    on_bobs_case = log(bobs_case, bob, "2031-05-01 11:00:00", "2031-05-01 12:00:00").name
    alices_on_bobs = log(bobs_case, alice, "2031-05-02 11:00:00", "2031-05-02 12:00:00").name  # logged by a manager
    names = [on_queue_by_bob, on_bobs_case, alices_on_bobs]
    with as_user(alice):
        assert set(query.get_list("Case Time Log", filters={"name": ["in", names]}, pluck="name")) == \
            {on_queue_by_bob, alices_on_bobs}
        assert query.get_count("Case Time Log", filters={"name": ["in", names]}) == 2
        with pytest.raises(PermissionError):
            lowcode.get_doc("Case Time Log", on_bobs_case).check_permission("read")
        with pytest.raises(PermissionError):  # time on a case she cannot read
            log(bobs_case, alice, "2031-05-03 09:00:00", "2031-05-03 10:00:00")
        with pytest.raises(PermissionError):  # bob's time, though on her team's case
            log(queue_case, bob, "2031-05-03 09:00:00", "2031-05-03 10:00:00")
        with pytest.raises(PermissionError):
            doc = lowcode.get_doc("Case Time Log", on_queue_by_bob)
            doc.hours = 9
            doc.save()
        mine = log(queue_case, alice, "2031-05-03 09:00:00", "2031-05-03 10:00:00")
        assert mine.agent == alice
    assert total(queue_case) == 2.0 and total(bobs_case) == 2.0


def test_over_http_an_agent_cannot_read_or_time_another_teams_case(ctx, client, unique):
    alice, bob = make_agent(unique, "alice"), make_agent(unique, "bob")
    bobs_case = make_case(assigned_to=bob).name
    bobs_log = log(bobs_case, bob, "2031-06-01 09:00:00", "2031-06-01 10:00:00").name
    token = login(ctx, client, alice)
    assert client.get(f"/api/resource/Case Time Log/{bobs_log}").status_code == 403
    listed = client.get("/api/resource/Case Time Log", {"filters": f'[["case", "=", "{bobs_case}"]]'}).json()
    assert listed["data"] == []
    r = client.post("/api/method/service_app.time_tracking.start_timer", {"case": bobs_case},
                    HTTP_X_FRAPPE_CSRF_TOKEN=token)
    assert r.status_code == 403
    commit(ctx)
    assert lowcode.db.sql("SELECT COUNT(*) FROM `tabCase Time Log` WHERE `case`=%s", (bobs_case,))[0][0] == 1
    assert total(bobs_case) == 1.0


def test_the_hours_page_shows_an_agents_visible_totals(ctx, client, unique):
    alice, bob = make_agent(unique, "alice"), make_agent(unique, "bob")
    mine = make_case(assigned_to=alice).name
    bobs = make_case(assigned_to=bob).name
    log(mine, alice, "2032-01-05 09:00:00", "2032-01-05 10:30:00")
    log(bobs, bob, "2032-01-05 09:00:00", "2032-01-05 12:00:00")
    login(ctx, client, alice)
    r = client.get("/app/case-hours", {"group_by": "case", "from_date": "2032-01-01", "to_date": "2032-01-31"})
    html = r.content.decode()
    assert r.status_code == 200 and f'data-key="{mine}"' in html and bobs not in html
    assert 'id="hours-total">1.5<' in html
    r = client.get("/app/case-hours", {"group_by": "colour"})
    assert r.status_code == 417 and "group_by" in r.content.decode()


def test_the_timer_runs_from_the_case_form(ctx, client, unique):
    import re
    agent = make_agent(unique)
    case = make_case(assigned_to=agent).name
    token = login(ctx, client, agent)
    html = client.get(f"/app/case/{case}").content.decode()
    start = re.search(r'value="(app:\d+)"[^>]*>Start timer<', html).group(1)
    stop = re.search(r'value="(app:\d+)"[^>]*>Stop timer<', html).group(1)
    assert f'href="/app/case-time-log/new?case={case}"' in html and f'href="/app/case-merge/{case}"' in html
    r = client.post(f"/app/case/{case}", {"_action": start, "csrf_token": token})
    assert r.status_code in (302, 303)
    r = client.post(f"/app/case/{case}", {"_action": stop, "csrf_token": token})
    assert r.status_code in (302, 303)
    commit(ctx)
    logs = lowcode.get_all("Case Time Log", filters={"case": case}, fields=["agent", "to_time"])
    assert len(logs) == 1 and logs[0]["agent"] == agent and logs[0]["to_time"] is not None
    r = client.post(f"/app/case/{case}", {"_action": stop, "csrf_token": token})  # nothing runs now
    assert r.status_code == 417
