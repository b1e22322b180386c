"""Follow-up rules: every customer a rule covers (customer_filters) and not contacted
for N days gets one open Task, assigned to the account manager or a fixed user; no
second task while the first is open; customers contacted recently get none; and
reports.overdue_follow_ups lists who is overdue.

Each rule here filters on a customer-name tag only its test uses, so customers of
other tests (the sites are shared) never enter."""
import datetime
import json

import pytest

import lowcode

from crm_app.followup import overdue_customers, run_all_rules, run_rule
from crm_app.reports import overdue_follow_ups
from crm_app.tests.helpers import as_user, days_from_today, make_customer, make_user, today


def _rule(unique, every=30, extra_filters=(), tag="", **values):
    filters = [["customer_name", "like", f"%[{unique}]%"]] + list(extra_filters)
    return lowcode.get_doc(dict({"doctype": "Follow-up Rule", "rule_name": f"Follow-up {unique}{tag}",
                                 "every_n_days": every, "customer_filters": json.dumps(filters)},
                                **values)).insert()


def _customer(unique, label, **values):
    return make_customer(f"{label} [{unique}]", **values).name


def _call(customer, days_ago):
    when = (datetime.datetime.now() - datetime.timedelta(days=days_ago)).strftime("%Y-%m-%d %H:%M:%S")
    return lowcode.get_doc({"doctype": "Call Log", "phone": "09121234567", "started_at": when,
                            "reference_doctype": "Customer", "reference_name": customer}).insert()


def _tasks(customer, rule=None):
    filters = {"customer": customer}
    if rule:
        filters["follow_up_rule"] = rule
    return lowcode.get_all("Task", fields=["name", "assigned_to", "status", "due_date", "priority", "subject",
                                           "reference_doctype", "reference_name", "follow_up_rule", "description"],
                           filters=filters)


@pytest.fixture
def manager(ctx, unique):
    return make_user(unique, "accountmgr")


def test_customer_not_contacted_gets_one_task_for_the_account_manager(ctx, unique, manager):
    rule = _rule(unique, every=30, task_priority="High")
    stale = _customer(unique, "Stale", account_manager=manager)
    _call(stale, days_ago=45)
    created = run_rule(rule.name)
    tasks = _tasks(stale)
    assert len(tasks) == 1 and tasks[0]["name"] in created
    task = tasks[0]
    assert task["assigned_to"] == manager
    assert task["status"] == "Open" and str(task["due_date"]) == today() and task["priority"] == "High"
    assert (task["reference_doctype"], task["reference_name"]) == ("Customer", stale)
    assert task["follow_up_rule"] == rule.name
    assert "Stale" in task["subject"]
    assert lowcode.db.get_value("Follow-up Rule", rule.name, "last_run")


def test_never_contacted_customer_gets_a_task(ctx, unique, manager):
    rule = _rule(unique)
    never = _customer(unique, "Never", account_manager=manager)
    run_rule(rule.name)
    tasks = _tasks(never, rule.name)
    assert len(tasks) == 1 and "never" in (tasks[0]["description"] or "")


def test_fixed_user_gets_the_task(ctx, unique, manager):
    fixed = make_user(unique, "fixed")
    rule = _rule(unique, assign_to="Fixed User", fixed_user=fixed)
    customer = _customer(unique, "Fixed", account_manager=manager)
    run_rule(rule.name)
    assert [t["assigned_to"] for t in _tasks(customer, rule.name)] == [fixed]


def test_fixed_user_is_required_for_fixed_assignment(ctx, unique):
    with pytest.raises(lowcode.MandatoryError) as e:
        _rule(unique, assign_to="Fixed User")
    assert e.value.field == "fixed_user"


def test_no_duplicate_task_while_the_first_is_open(ctx, unique, manager):
    rule = _rule(unique)
    customer = _customer(unique, "Twice", account_manager=manager)
    first = run_rule(rule.name)
    second = run_rule(rule.name)
    assert len(first) == 1 and second == []
    assert len(_tasks(customer, rule.name)) == 1
    # once that task is done and the customer is still not contacted, a new one comes
    task = lowcode.get_doc("Task", first[0])
    task.status = "Completed"
    task.save()
    third = run_rule(rule.name)
    assert len(third) == 1 and len(_tasks(customer, rule.name)) == 2


def test_recently_contacted_customer_gets_no_task(ctx, unique, manager):
    rule = _rule(unique, every=30)
    recent = _customer(unique, "Recent", account_manager=manager)
    _call(recent, days_ago=3)
    stale = _customer(unique, "Old", account_manager=manager)
    _call(stale, days_ago=31)
    run_rule(rule.name)
    assert _tasks(recent) == []
    assert len(_tasks(stale)) == 1


@pytest.mark.parametrize("kind", ["Event", "Communication", "Note"])
def test_every_kind_of_contact_counts(ctx, unique, manager, kind):
    rule = _rule(unique, every=10)
    customer = _customer(unique, kind, account_manager=manager)
    ref = {"reference_doctype": "Customer", "reference_name": customer}
    yesterday = (datetime.datetime.now() - datetime.timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    values = {"Event": {"subject": "visit", "starts_on": yesterday},
              "Communication": {"subject": "mail", "communication_date": yesterday},
              "Note": {"title": "note"}}[kind]
    lowcode.get_doc(dict(ref, doctype=kind, **values)).insert()
    run_rule(rule.name)
    assert _tasks(customer) == []


def test_a_planned_meeting_is_not_a_contact(ctx, unique, manager):
    """Last contact is the latest activity that happened: a meeting planned for next
    week does not make a customer untouched for months "recently contacted"."""
    rule = _rule(unique, every=30)
    customer = _customer(unique, "Planned", account_manager=manager)
    _call(customer, days_ago=90)
    lowcode.get_doc({"doctype": "Event", "subject": "next week", "starts_on": f"{days_from_today(7)} 10:00:00",
                     "reference_doctype": "Customer", "reference_name": customer}).insert()
    assert [c[0] for c in overdue_customers(rule.name)] == [customer], \
        "a future meeting counts as the customer's last contact"


def test_customer_filters_are_respected(ctx, unique, manager):
    rule = _rule(unique, extra_filters=[["vip_tier", "in", ["Gold", "Platinum"]]])
    gold = _customer(unique, "Gold", vip_tier="Gold", account_manager=manager)
    platinum = _customer(unique, "Platinum", vip_tier="Platinum", account_manager=manager)
    bronze = _customer(unique, "Bronze", vip_tier="Bronze", account_manager=manager)
    plain = _customer(unique, "Plain", account_manager=manager)
    outside = make_customer("Not tagged", vip_tier="Gold", account_manager=manager).name
    run_rule(rule.name)
    assert len(_tasks(gold, rule.name)) == 1 and len(_tasks(platinum, rule.name)) == 1
    for customer in (bronze, plain, outside):
        assert _tasks(customer, rule.name) == []


def test_blocked_customers_are_left_out(ctx, unique, manager):
    rule = _rule(unique)
    blocked = _customer(unique, "Blocked", account_manager=manager, is_blocked=1, blocked_reason="fraud")
    run_rule(rule.name)
    assert _tasks(blocked) == []


def test_run_all_rules_skips_disabled_rules(ctx, unique, manager):
    disabled = _rule(unique, enabled=0, tag=" off")
    customer = _customer(unique, "Disabled", account_manager=manager)
    run_all_rules()
    assert _tasks(customer, disabled.name) == []


def test_overdue_customers_and_report(ctx, unique, manager):
    rule = _rule(unique, every=14)
    stale = _customer(unique, "Report stale", account_manager=manager)
    _call(stale, days_ago=20)
    never = _customer(unique, "Report never", account_manager=manager)
    fresh = _customer(unique, "Report fresh", account_manager=manager)
    _call(fresh, days_ago=1)
    overdue = {c[0]: c for c in overdue_customers(rule.name)}
    assert set(overdue) == {stale, never}
    assert overdue[never][3] is None and overdue[stale][2] == manager
    rows = {r["customer"]: r for r in overdue_follow_ups(rule.name)}
    assert set(rows) == {stale, never}
    assert rows[stale]["customer_name"] == f"Report stale [{unique}]"
    assert rows[stale]["account_manager"] == manager
    assert str(rows[stale]["last_contact"])[:10] == days_from_today(-20)
    assert rows[never]["last_contact"] is None
    with as_user(manager):  # a Sales User reads customers, so sees the same
        assert {r["customer"] for r in overdue_follow_ups(rule.name)} == {stale, never}
    # the report lists; it does not create tasks
    assert _tasks(stale) == []


def test_follow_ups_report_ignores_private_contacts_of_others(ctx, unique, manager):
    """The follow-ups page shows each viewer the last contact they may read: another
    user's private call neither hides an overdue customer nor shows its date. The
    scheduled run decides for the business, so that call does count there."""
    rule = _rule(unique, every=14)
    customer = _customer(unique, "Private call", account_manager=manager)
    _call(customer, days_ago=20)
    author = make_user(unique, "privatecaller")
    with as_user(author):
        call = _call(customer, days_ago=1)
        call.is_private = 1
        call.save()
        assert overdue_follow_ups(rule.name) == []
    with as_user(manager):
        rows = overdue_follow_ups(rule.name)
    assert [r["customer"] for r in rows] == [customer]
    assert str(rows[0]["last_contact"])[:10] == days_from_today(-20)
    assert run_rule(rule.name) == []


def test_follow_up_task_tells_the_last_contact_its_assignee_may_read(ctx, unique, manager):
    """A private call of another user, older than the rule allows, leaves the customer
    overdue; the task's description gives the assignee the contact they may read."""
    rule = _rule(unique, every=14)
    customer = _customer(unique, "Task text", account_manager=manager)
    _call(customer, days_ago=30)
    with as_user(make_user(unique, "taskcaller")):
        call = _call(customer, days_ago=20)
        call.is_private = 1
        call.save()
    run_rule(rule.name)
    [task] = _tasks(customer, rule.name)
    assert days_from_today(-30) in task["description"]
    assert days_from_today(-20) not in task["description"]


def test_follow_ups_page_lists_the_overdue_customers(ctx, client, unique):
    from lowcode import auth
    rule = lowcode.get_doc({"doctype": "Follow-up Rule", "rule_name": f"Page rule {unique}", "every_n_days": 7,
                            "customer_filters": json.dumps([["customer_name", "like", f"%{unique}%"]])}).insert()
    lowcode.get_doc({"doctype": "Customer", "customer_name": f"Silent {unique}"}).insert()
    ctx.db.commit()
    session = auth.start_session("Administrator", desk=True)
    ctx.db.commit()
    client.cookies["sid"] = session.sid
    html = client.get("/app/follow-ups").content.decode()
    section = html.split(rule.name, 1)[1].split("</section>", 1)[0]
    assert f"Silent {unique}" in section
