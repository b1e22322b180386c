"""The manager's load page (/app/service-load): open load per agent and team queue by
age, peaks by hour and weekday (checked against counts made by hand), and moving cases
in bulk, here or through the list's bulk "set value": the assignment list follows, and
an agent moving cases of another team gets 403 with nothing written."""
import datetime

import pytest

import lowcode
from lowcode.assignments import read_assign
from lowcode.exceptions import PermissionError

from crm_app.tests.helpers import as_user
from lowcode.tests.desk_helpers import commit, login
from service_app.load import move_cases, open_load, peaks, team_load
from service_app.tests.helpers import make_agent, make_case, make_team

NOW = datetime.datetime.now()


def opened(case, when):
    lowcode.db.sql("UPDATE `tabCase` SET `creation`=%s WHERE `name`=%s",
                   (when.strftime("%Y-%m-%d %H:%M:%S.%f"), case.name))
    return case


def test_open_load_per_agent_and_team_by_age(ctx, unique):
    agent = make_agent(unique)
    team = make_team([agent], capacity=4)
    for days in (0.5, 2, 2.5, 5, 10):
        opened(make_case(assigned_to=agent, service_team=team), NOW - datetime.timedelta(days=days))
    done = make_case(assigned_to=agent, service_team=team, resolution_details="Fixed")
    lowcode.db.sql("UPDATE `tabCase` SET `status`='Resolved' WHERE `name`=%s", (done.name,))  # not open
    opened(make_case(service_team=team), NOW - datetime.timedelta(days=8))  # in the queue, no agent
    expected = {"open": 5, "0-1d": 1, "1-3d": 2, "3-7d": 1, ">7d": 1}
    assert open_load("assigned_to")[agent] == expected
    assert open_load("service_team")[team] == {"open": 6, "0-1d": 1, "1-3d": 2, "3-7d": 1, ">7d": 2}
    data = team_load()
    row = next(r for r in data["agents"] if r["agent"] == agent)
    assert row["capacity"] == 4 and row["open"] == 5
    idle = make_agent(unique, "idle")
    make_team([idle])
    assert next(r for r in team_load()["agents"] if r["agent"] == idle)["open"] == 0  # a member with nothing


def test_peaks_by_hour_and_weekday(ctx):
    before = peaks(28)
    # 2 and 9 days ago at 09:15, 9 days ago at 17:40; 40 days ago is outside the window
    day2 = (NOW - datetime.timedelta(days=2)).replace(hour=9, minute=15)
    day9 = (NOW - datetime.timedelta(days=9)).replace(hour=9, minute=15)
    for when in (day2, day9, day9.replace(hour=17, minute=40), NOW - datetime.timedelta(days=40)):
        opened(make_case(), when)
    after = peaks(28)
    hours = [a - b for a, b in zip(after["hour"], before["hour"])]
    weekdays = [a - b for a, b in zip(after["weekday"], before["weekday"])]
    expected_hours = [0] * 24
    expected_hours[9], expected_hours[17] = 2, 1
    assert hours == expected_hours
    expected_weekdays = [0] * 7
    expected_weekdays[day2.weekday()] += 1
    expected_weekdays[day9.weekday()] += 2
    assert weekdays == expected_weekdays


def test_a_manager_moves_cases_and_their_assignment_follows(ctx, unique):
    manager = make_agent(unique, "manager", roles=("Support Manager",))
    a, b = make_agent(unique, "a"), make_agent(unique, "b")
    team_a, team_b = make_team([a]), make_team([b])
    cases = [make_case(assigned_to=a, service_team=team_a).name for _ in range(2)]
    kept = make_case(assigned_to=a, service_team=team_a).name
    with as_user(manager):
        assert move_cases(cases, assigned_to=b, service_team=team_b) == {"moved": 2}
        with pytest.raises(lowcode.ValidationError) as err:
            move_cases(cases, assigned_to="nobody@example.com")
        assert err.value.field == "assigned_to"
        with pytest.raises(lowcode.ValidationError) as err:
            move_cases([], assigned_to=b)
        assert err.value.field == "names"
    for name in cases:
        assert (lowcode.db.get_value("Case", name, "assigned_to"), lowcode.db.get_value("Case", name, "service_team")) \
            == (b, team_b)
        assert read_assign("Case", name) == [b]
    assert read_assign("Case", kept) == [a]
    told = lowcode.get_all("Notification Log", filters={"for_user": b, "type": "Assignment"}, pluck="document_name")
    assert sorted(told) == sorted(cases)  # the new agent is told
    with as_user(a):
        with pytest.raises(PermissionError):
            move_cases([kept], assigned_to=b)  # an agent: not even her own case through the manager's tool
        with pytest.raises(PermissionError):
            team_load()


def test_over_http_only_managers_see_the_page_and_move_cases(ctx, client, unique):
    manager = make_agent(unique, "manager", roles=("Support Manager",))
    a, b = make_agent(unique, "a"), make_agent(unique, "b")
    team_a, team_b = make_team([a]), make_team([b])
    theirs = make_case(assigned_to=b, service_team=team_b).name
    mine = make_case(assigned_to=a, service_team=team_a).name
    token = login(ctx, client, a)
    assert client.get("/app/service-load").status_code == 403
    r = client.post("/app/service-load", {"names": [theirs], "assigned_to": a, "csrf_token": token})
    assert r.status_code == 403
    r = client.post("/api/method/service_app.load.move_cases", {"names": theirs, "assigned_to": a},
                    HTTP_X_FRAPPE_CSRF_TOKEN=token)
    assert r.status_code == 403
    # The list's bulk "set value" saves each case: another team's case is refused whole.
    r = client.post("/app/case/view/list/bulk", {"action": "set_value", "names": [mine, theirs],
                                                 "field": "assigned_to", "value": a},
                    HTTP_X_FRAPPE_CSRF_TOKEN=token, HTTP_HX_REQUEST="true")
    assert r.status_code == 403
    commit(ctx)
    assert lowcode.db.get_value("Case", theirs, "assigned_to") == b and read_assign("Case", theirs) == [b]
    assert lowcode.db.get_value("Case", mine, "assigned_to") == a
    # her own case she may hand to a colleague through the list: the assignment list follows
    r = client.post("/app/case/view/list/bulk", {"action": "set_value", "names": [mine], "field": "assigned_to",
                                                 "value": b}, HTTP_X_FRAPPE_CSRF_TOKEN=token, HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    commit(ctx)
    assert read_assign("Case", mine) == [b]
    token = login(ctx, client, manager)
    page = client.get("/app/service-load")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-agent="{b}"' in html and f'data-team="{team_b}"' in html and 'id="peaks-weekday"' in html
    r = client.post("/app/service-load", {"names": [theirs, mine], "assigned_to": a, "service_team": team_a,
                                          "csrf_token": token})
    assert r.status_code == 302
    r = client.post("/app/service-load", {"names": [theirs], "service_team": "No such team", "csrf_token": token})
    assert r.status_code == 417 and 'data-field="service_team"' in r.content.decode()
    commit(ctx)
    assert {lowcode.db.get_value("Case", n, "service_team") for n in (theirs, mine)} == {team_a}
    assert read_assign("Case", theirs) == [a] == read_assign("Case", mine)
