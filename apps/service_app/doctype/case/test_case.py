"""Cases: the rules every case obeys, one way in for every channel, and who sees which
cases (lists, counts and single documents agree)."""
import pytest

import lowcode
from lowcode import query
from lowcode.exceptions import MandatoryError, PermissionError
from lowcode.workflow import apply_workflow

from crm_app.tests.helpers import as_user
from service_app.cases import create_case
from service_app.tests.helpers import make_agent, make_case, make_contact, make_customer, make_team


def test_service_app_is_installed_beside_crm_app(ctx):
    installed = ctx.db.sql("SELECT `name` FROM `tabInstalled App`", pluck=True)
    assert {"crm_app", "service_app"} <= set(installed)
    assert lowcode.get_meta("Case").get_field("customer").options == "Customer"


def test_resolving_needs_a_resolution_note_and_reopening_counts(ctx):
    case = make_case()
    apply_workflow(case, "Start")
    with pytest.raises(MandatoryError) as err:  # even past the workflow (a script, an import)
        case.status = "Resolved"
        case.save(ignore_permissions=True)
    assert err.value.field == "resolution_details"
    with pytest.raises(lowcode.ValidationError):  # the workflow's condition refuses it too
        apply_workflow(lowcode.get_doc("Case", case.name), "Resolve")
    case = lowcode.get_doc("Case", case.name)
    case.resolution_details = "Replaced the router"
    case.save()
    apply_workflow(case, "Resolve")
    assert lowcode.get_doc("Case", case.name).status == "Resolved"
    apply_workflow(case, "Reopen")
    case = lowcode.get_doc("Case", case.name)
    assert (case.status, case.reopen_count) == ("In Progress", 1)
    apply_workflow(case, "Resolve")
    apply_workflow(case, "Close")
    apply_workflow(case, "Reopen")
    assert lowcode.get_doc("Case", case.name).reopen_count == 2


def test_create_case_finds_the_contact_and_customer_from_the_sender(ctx):
    customer = make_customer().name
    contact = make_contact(customer, email="buyer-x1@example.com")
    case = create_case("Invoice is wrong", channel="E-mail", raised_by="Buyer-X1@example.com ")
    assert (case.contact, case.customer, case.channel) == (contact.name, customer, "E-mail")
    with pytest.raises(lowcode.ValidationError) as err:
        create_case("x", channel="Pigeon")
    assert err.value.field == "channel"


def test_an_agent_sees_their_cases_and_their_teams_queue_only(ctx, unique):
    alice, bob = make_agent(unique, "alice"), make_agent(unique, "bob")
    team = make_team([alice])
    in_queue = make_case(service_team=team)
    for_alice = make_case(assigned_to=alice)
    for_bob = make_case(assigned_to=bob)
    names = {in_queue.name, for_alice.name, for_bob.name}
    with as_user(alice):
        seen = set(query.get_list("Case", filters={"name": ["in", sorted(names)]}, pluck="name"))
        assert seen == {in_queue.name, for_alice.name}
        assert query.get_count("Case", filters={"name": ["in", sorted(names)]}) == 2
        assert lowcode.get_doc("Case", for_alice.name).name == for_alice.name
        with pytest.raises(PermissionError):
            lowcode.get_doc("Case", for_bob.name).check_permission("read")
    with as_user(bob):
        assert set(query.get_list("Case", filters={"name": ["in", sorted(names)]}, pluck="name")) == {for_bob.name}


def test_a_payload_cannot_set_what_other_modules_keep_on_a_case(ctx, client, unique):
    """Over HTTP, as the case's agent: hours, survey scores, reopenings and merge links in
    a PUT or a new case are ignored (only time logs, surveys, the workflow and merging set
    them); the subject changes."""
    import json
    from lowcode.tests.desk_helpers import login
    agent = make_agent(unique)
    case = make_case(assigned_to=agent)
    other = make_case(assigned_to=agent)
    ctx.db.commit()
    csrf = login(ctx, client, agent)
    forged = {"total_hours": 99, "satisfaction_score": 5, "nps_score": 10, "survey_answered_on": "2026-01-01 10:00:00",
              "reopen_count": 7, "merged_into": other.name, "split_from": other.name}
    r = client.put(f"/api/resource/Case/{case.name}", json.dumps(dict(forged, subject="Printer jams")),
                   content_type="application/json", HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 200, r.content[:500]
    data = json.loads(r.content)["data"]
    assert data["subject"] == "Printer jams"
    assert all(not data[f] for f in forged), {f: data[f] for f in forged}
    r = client.post("/api/resource/Case", json.dumps(dict(forged, subject="New one", assigned_to=agent)),
                    content_type="application/json", HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 200, r.content[:500]
    data = json.loads(r.content)["data"]
    assert all(not data[f] for f in forged), {f: data[f] for f in forged}
