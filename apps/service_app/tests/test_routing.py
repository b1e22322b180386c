"""Routing (service_app/routing.py on crm_app's assignment rules): a rule's condition on
the case picks the team, the least-loaded available member with the skills and the
language gets the case, and assigned_to and the assignment table stay in step.

Each test's rules match only a case category that test makes, so cases of other tests
are never routed by them."""
import pytest

import lowcode

from lowcode.assignments import read_assign
from lowcode.workflow import apply_workflow

from crm_app.tests.helpers import days_from_today, tag
from service_app.tests.helpers import make_agent, make_case, make_team


def make_category():
    return lowcode.get_doc({"doctype": "Case Category", "category_name": f"Cat {tag()}"}).insert(
        ignore_permissions=True).name


def make_rule(category, team=None, skills=None, rule="Load Balancing", users=(), priority=0):
    return lowcode.get_doc({
        "doctype": "Assignment Rule", "rule_name": f"Cases {tag()}", "document_type": "Case", "rule": rule,
        "condition": f"doc.category == '{category}'", "assign_field": "assigned_to", "priority": priority,
        "open_statuses": "Open,In Progress,Waiting on Customer", "service_team": team, "required_skills": skills,
        "users": [{"user": u} for u in users]}).insert().name


def table_users(case):
    return sorted(lowcode.db.sql("SELECT `user` FROM `tab_Assignment` WHERE `reference_type`='Case' "
                                 "AND `reference_name`=%s", (case,), pluck=True))


def test_a_rule_routes_to_the_least_loaded_member_of_its_team(ctx, unique):
    a, b = make_agent(unique, "a"), make_agent(unique, "b")
    team = lowcode.get_doc({"doctype": "Service Team", "team_name": f"T {tag()}", "members": [
        {"user": a, "capacity": 5}, {"user": b, "capacity": 5}]}).insert(ignore_permissions=True).name
    category = make_category()
    make_rule(category, team=team)
    other = make_case(assigned_to=a)  # a already holds an open case (of no rule)
    cases = [make_case(category=category) for _ in range(3)]
    stored = [{f: lowcode.db.get_value("Case", c.name, f) for f in ("assigned_to", "service_team")} for c in cases]
    assert [s["assigned_to"] for s in stored] == [b, a, b]
    assert {s["service_team"] for s in stored} == {team}
    assert cases[0].assigned_to == b and cases[0].service_team == team  # the inserted document too
    for case, s in zip(cases, stored):
        assert read_assign("Case", case.name) == [s["assigned_to"]] == table_users(case.name)
    assert table_users(other.name) == [a]  # a case assigned by hand is on the list as well
    for case in (cases[0], other):  # one "Assigned" line on the timeline each (the rule's, or the hand's)
        assert len(lowcode.get_all("Comment", filters={"reference_doctype": "Case", "reference_name": case.name,
                                                       "comment_type": "Assigned"})) == 1


def test_capacity_absence_skills_and_language_decide_who_may_take_it(ctx, unique):
    full, away, no_skill, no_farsi, right = (make_agent(unique, n) for n in ("full", "away", "noskill", "nofa", "ok"))
    team = lowcode.get_doc({"doctype": "Service Team", "team_name": f"T {tag()}", "members": [
        {"user": full, "capacity": 1, "skills": "vpn", "languages": "fa"},
        {"user": away, "skills": "VPN, billing", "unavailable_from": days_from_today(-1),
         "unavailable_to": days_from_today(2)},
        {"user": no_skill, "skills": "billing", "languages": "fa"},
        {"user": no_farsi, "skills": "vpn", "languages": "en, he"},
        {"user": right, "skills": "billing\nvpn", "languages": "fa,en"}]}).insert(ignore_permissions=True).name
    make_case(assigned_to=full)  # full is at capacity (1 open case)
    category = make_category()
    make_rule(category, team=team, skills="VPN")
    case = make_case(category=category, language="fa")
    assert lowcode.db.get_value("Case", case.name, "assigned_to") == right


def test_a_rule_without_a_team_uses_the_cases_team_and_the_next_rule_takes_over(ctx, unique):
    member, fallback = make_agent(unique, "member"), make_agent(unique, "fallback")
    team = make_team([member], capacity=1)
    category = make_category()
    make_rule(category, priority=1)  # no team: the case's own
    make_rule(category, rule="Round Robin", users=[fallback], priority=2)  # a plain users table
    first = make_case(category=category, service_team=team)
    second = make_case(category=category, service_team=team)  # member is full now
    assert lowcode.db.get_value("Case", first.name, "assigned_to") == member
    assert lowcode.db.get_value("Case", second.name, "assigned_to") == fallback
    apply_workflow(lowcode.get_doc("Case", first.name), "Start")  # still open: still counts
    third = make_case(category=category, service_team=team)
    assert lowcode.db.get_value("Case", third.name, "assigned_to") == fallback


def test_changing_the_agent_moves_the_assignment(ctx, unique):
    a, b = make_agent(unique, "a"), make_agent(unique, "b")
    case = make_case(assigned_to=a)
    assert table_users(case.name) == [a]
    lowcode.set_value("Case", case.name, "assigned_to", b)
    assert read_assign("Case", case.name) == [b] == table_users(case.name)
    lowcode.set_value("Case", case.name, "assigned_to", None)
    assert table_users(case.name) == []


def test_support_managers_keep_the_rules_for_cases_only(ctx, client, unique):
    from lowcode import query
    from lowcode.exceptions import PermissionError
    from crm_app.tests.helpers import as_user
    from lowcode.tests.desk_helpers import commit, login
    manager = make_agent(unique, "manager", roles=("Support Manager",))
    # disabled and never true: committed below, it must not assign other tests' leads
    lead_rule = lowcode.get_doc({"doctype": "Assignment Rule", "rule_name": f"Leads {tag()}", "document_type": "Lead",
                                 "disabled": 1, "condition": "doc.name == 'never'",
                                 "users": [{"user": manager}]}).insert().name
    category = make_category()
    with as_user(manager):
        case_rule = make_rule(category, team=make_team([manager]))
        seen = set(query.get_list("Assignment Rule", filters={"name": ["in", [lead_rule, case_rule]]}, pluck="name"))
        assert seen == {case_rule}
        with pytest.raises(PermissionError):
            lowcode.get_doc({"doctype": "Assignment Rule", "rule_name": f"Leads {tag()}", "document_type": "Lead",
                             "disabled": 1, "users": [{"user": manager}]}).insert()
        rule = lowcode.get_doc("Assignment Rule", case_rule)
        rule.document_type = "Lead"  # retargeting a case rule
        with pytest.raises(PermissionError):
            rule.save()
    token = login(ctx, client, manager)
    r = client.put(f"/api/resource/Assignment Rule/{lead_rule}", data='{"priority": 9}',
                   content_type="application/json", HTTP_X_FRAPPE_CSRF_TOKEN=token)
    assert r.status_code in (403, 404)
    commit(ctx)
    assert lowcode.db.get_value("Assignment Rule", lead_rule, "priority") == 0


def test_a_rule_on_the_customers_territory_and_the_product(ctx, unique):
    from crm_app.tests.helpers import make_product, make_territory
    from service_app.tests.helpers import make_customer
    territory = make_territory(f"Kish {unique}")
    product = make_product()
    agent = make_agent(unique)
    team = make_team([agent])
    lowcode.get_doc({
        "doctype": "Assignment Rule", "rule_name": f"Kish {tag()}", "document_type": "Case", "rule": "Load Balancing",
        "condition": f"doc.territory == '{territory}' and doc.product == '{product}'", "assign_field": "assigned_to",
        "service_team": team, "users": []}).insert()
    customer = make_customer(territory=territory).name
    case = make_case(customer=customer, product=product)
    assert case.territory == territory  # fetched from the customer
    assert (lowcode.db.get_value("Case", case.name, "assigned_to"), case.service_team) == (agent, team)
    other = make_case(customer=customer)  # no product: the rule does not apply
    assert lowcode.db.get_value("Case", other.name, "assigned_to") is None


def test_a_rule_for_cases_counts_open_cases_and_sets_the_agent_by_default(ctx, unique):
    a, b = make_agent(unique, "a"), make_agent(unique, "b")
    team = make_team([a, b], capacity=1)
    category = make_category()
    rule = lowcode.get_doc({"doctype": "Assignment Rule", "rule_name": f"Plain {tag()}", "document_type": "Case",
                            "rule": "Load Balancing", "condition": f"doc.category == '{category}'",
                            "service_team": team}).insert()
    assert (rule.open_statuses, rule.assign_field) == ("Open,In Progress,Waiting on Customer", "assigned_to")
    first = make_case(category=category)
    apply_workflow(lowcode.get_doc("Case", first.name), "Start")  # In Progress: still a's load
    second = make_case(category=category)
    third = make_case(category=category)  # both at capacity
    assert [lowcode.db.get_value("Case", c.name, "assigned_to") for c in (first, second, third)] == [a, b, None]
