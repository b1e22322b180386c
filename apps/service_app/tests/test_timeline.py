"""Everything about a case on its form's timeline: calls, notes, tasks, time logs,
state changes and assignment; someone else's private note stays hidden."""
import lowcode
from lowcode.workflow import apply_workflow

from crm_app.tests.helpers import as_user
from lowcode.tests.desk_helpers import login
from service_app.tests.helpers import make_agent, make_case, make_team
from service_app.timeline import case_timeline


def test_the_case_timeline_shows_its_activities_time_and_changes(ctx, client, unique):
    # Support Agents alone log calls and notes on their cases (crm_app's activities are open to them)
    alice, bob = make_agent(unique, "alice"), make_agent(unique, "bob")
    team = make_team([alice, bob])
    case = make_case(service_team=team, assigned_to=alice)
    on_case = {"reference_doctype": "Case", "reference_name": case.name}
    with as_user(bob):
        lowcode.get_doc(dict(on_case, doctype="Call Log", direction="Incoming", phone="+982100000000",
                             started_at="2031-02-01 10:00:00", outcome="Connected", notes="Router blinks red")).insert()
        lowcode.get_doc(dict(on_case, doctype="Note", title="Bob's private hunch", is_private=1)).insert()
        lowcode.get_doc(dict(on_case, doctype="Note", title="Firmware 2.1 fixes it")).insert()
    lowcode.get_doc(dict(on_case, doctype="Task", subject="Ship a new router")).insert()
    lowcode.get_doc({"doctype": "Case Time Log", "case": case.name, "agent": bob, "from_time": "2031-02-01 10:00:00",
                     "to_time": "2031-02-01 10:45:00", "description": "Remote session"}).insert()
    apply_workflow(lowcode.get_doc("Case", case.name), "Start")
    with as_user(alice):
        kinds = {(i["kind"], i["content"]) for i in case_timeline("Case", case.name)}
    assert ("Call Log", "Incoming · +982100000000 · Connected · Router blinks red") in kinds
    assert ("Note", "Firmware 2.1 fixes it") in kinds and ("Case Time Log", "0.75 h · Remote session") in kinds
    assert ("Task", "Ship a new router · Open") in kinds
    assert not any("private hunch" in content for _, content in kinds)
    login(ctx, client, alice)
    html = client.get(f"/app/case/{case.name}").content.decode()
    timeline = html[html.index('id="timeline"'):]
    for text in ("Router blinks red", "Firmware 2.1 fixes it", "Remote session", "Ship a new router",
                 "In Progress", alice):  # the state change (a version) and the assignment
        assert text in timeline
    assert "private hunch" not in html
    assert '<a href="/app/call-log/' in timeline
