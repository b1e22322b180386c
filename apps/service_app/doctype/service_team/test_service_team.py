"""Service Teams: a working week chosen by name fills the team's working hours (Iran's,
Israel's), hours ending before they start are refused naming end_time, a member needs a
user, and an agent of the team reads it over REST but cannot change it (a Support
Manager can). How a team's hours set a case's due times is tested with the SLA."""
import json

import pytest

import lowcode
from lowcode.exceptions import MandatoryError, ValidationError

from crm_app.tests.helpers import body, refresh, token
from service_app.tests.helpers import make_agent, make_team, tag


def test_a_working_week_fills_the_working_hours(ctx):
    team = lowcode.get_doc({"doctype": "Service Team", "team_name": f"Tehran {tag()}",
                            "working_week": "Iran"}).insert()
    hours = [(r.workday, str(r.start_time), str(r.end_time)) for r in team.working_hours]
    assert [h[0] for h in hours] == ["Saturday", "Sunday", "Monday", "Tuesday", "Wednesday"]
    assert hours[0][1:] in (("08:00:00", "16:00:00"), ("8:00:00", "16:00:00"))
    team.working_week = "Israel"
    team.save()
    stored = lowcode.get_doc("Service Team", team.name)
    assert [r.workday for r in stored.working_hours] == ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday"]


def test_hours_ending_before_they_start_are_refused(ctx):
    with pytest.raises(ValidationError) as e:
        lowcode.get_doc({"doctype": "Service Team", "team_name": f"Night {tag()}",
                         "working_hours": [{"workday": "Monday", "start_time": "17:00:00",
                                            "end_time": "09:00:00"}]}).insert()
    assert e.value.field == "end_time"


def test_a_member_needs_a_user(ctx):
    with pytest.raises(MandatoryError) as e:
        lowcode.get_doc({"doctype": "Service Team", "team_name": f"Empty {tag()}",
                         "members": [{"capacity": 3}]}).insert()
    assert e.value.field == "user"


def test_an_agent_reads_the_team_a_manager_changes_it(ctx, client, unique):
    agent = make_agent(unique)
    team = make_team([agent])
    agent_auth = token(agent)
    manager_auth = token(make_agent(unique, "lead", roles=("Support Manager",)))
    refresh(ctx)
    members = body(client.get(f"/api/resource/Service Team/{team}", **agent_auth))["data"]["members"]
    assert [m["user"] for m in members] == [agent]
    payload = json.dumps({"working_week": "Israel"})
    denied = client.put(f"/api/resource/Service Team/{team}", payload, content_type="application/json", **agent_auth)
    assert denied.status_code == 403, body(denied)
    allowed = client.put(f"/api/resource/Service Team/{team}", payload, content_type="application/json",
                         **manager_auth)
    assert allowed.status_code == 200, body(allowed)
    refresh(ctx)
    assert lowcode.db.get_value("Service Team", team, "working_week") == "Israel"
