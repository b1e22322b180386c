"""Warnings before a breach, breaches found by the scheduler, escalation rules and crises:
each fires once, however often the scheduler runs. Times by hand on a Monday-Friday
09:00-17:00 week (2026-12-07 is a Monday)."""
from types import SimpleNamespace

import pytest

import lowcode
from lowcode.context import local

from service_app import escalation, sla
from service_app.tests.helpers import make_agent, make_customer, make_team, tag
from service_app.tests.sla_helpers import (H, at, clock, make_group, make_priority, make_sla,  # noqa: F401
                                           sla_case, stored)


def notifications(user, case):
    """The SLA alerts about the case (not the notice of its assignment)."""
    return local.db.sql("SELECT `subject` FROM `tabNotification Log` WHERE `for_user`=%s AND `document_name`=%s "
                        "AND `type`='Alert' ORDER BY `creation`", (user, case), pluck=True)


def events(case):
    return sorted(local.db.sql("SELECT `event`, `target` FROM `tabCase SLA Log` WHERE `case`=%s", (case,)))


@pytest.fixture
def setting(ctx, unique, clock):
    """An agent in a team with a manager, a customer group with an agreement: first
    response in 1h, resolution in 8h, warnings at 80%."""
    group, normal, urgent = make_group(), make_priority(50), make_priority(40)
    agent, manager, backup = (make_agent(unique, n) for n in ("agent", "manager", "backup"))
    team = make_team([agent, backup], manager=manager)
    make_sla({normal: (1 * H, 8 * H), urgent: (1800, 4 * H)}, customer_group=group, warn_at_percent=80)
    clock.set("2026-12-07 09:00")
    case = sla_case(customer=make_customer(customer_group=group).name, priority=normal, service_team=team,
                    assigned_to=agent)
    return SimpleNamespace(case=case.name, agent=agent, manager=manager, backup=backup, team=team, group=group,
                           normal=normal, urgent=urgent)


def test_a_warning_then_a_breach_each_once(setting):
    s = setting
    escalation.check_service_levels(at("2026-12-07 09:40"))  # 67% of the first hour: nothing yet
    assert events(s.case) == []
    agreement = lowcode.get_doc("Service Level Agreement", stored(s.case).service_level_agreement)
    agreement.enabled = 0
    agreement.save()
    escalation.check_service_levels(at("2026-12-07 09:50"))  # a disabled agreement warns nobody
    assert events(s.case) == []
    agreement.enabled = 1
    agreement.save()
    for _ in range(2):  # 50 minutes = 83%: one warning, however many runs
        escalation.check_service_levels(at("2026-12-07 09:50"))
    assert events(s.case) == [("Warning", "First Response")]
    assert len(notifications(s.agent, s.case)) == len(notifications(s.manager, s.case)) == 1
    assert "SLA warning" in notifications(s.agent, s.case)[0]

    for _ in range(2):  # due at 10:00; at 11:30 it is 1.5 working hours late
        escalation.check_service_levels(at("2026-12-07 11:30"))
    assert events(s.case) == [("Breach", "First Response"), ("Warning", "First Response")]
    assert len(notifications(s.agent, s.case)) == len(notifications(s.manager, s.case)) == 2
    case = stored(s.case)
    assert (case.response_breached, case.breach_duration, case.agreement_status) == (1, 1.5 * H, "Failed")
    escalation.check_service_levels(at("2026-12-07 17:30"))  # the overrun grows in working time only
    assert stored(s.case).breach_duration == 7 * H


def test_the_resolution_warning_counts_working_time_and_skips_paused_cases(setting):
    s = setting
    sla.mark_first_response(s.case, "2026-12-07 09:05:00")
    # 80% of 8h = 6h24m of working time after Monday 09:00: Monday 15:24
    escalation.check_service_levels(at("2026-12-07 15:20"))
    assert events(s.case) == []
    escalation.check_service_levels(at("2026-12-07 15:30"))
    assert events(s.case) == [("Warning", "Resolution")]
    case = stored(s.case)
    case.status = "Waiting on Customer"
    case.save(ignore_permissions=True)
    escalation.check_service_levels(at("2026-12-09 12:00"))  # long past due, but the clock is stopped
    assert events(s.case) == [("Warning", "Resolution")]


def test_an_escalation_rule_reassigns_raises_the_priority_and_notifies_once(setting):
    s = setting
    rule = lowcode.get_doc({"doctype": "Case Escalation Rule", "rule_name": f"Late answer {tag()}",
                            "target": "First Response", "after_minutes": 30, "customer_group": s.group,
                            "reassign_to_user": s.backup, "raise_priority": 1}).insert().name
    lowcode.get_doc({"doctype": "Case Escalation Rule", "rule_name": f"Other group {tag()}",
                     "target": "First Response", "customer_group": make_group(), "raise_priority": 1}).insert()
    escalation.check_service_levels(at("2026-12-07 10:20"))  # 20 minutes late: breach, no escalation yet
    assert ("Escalation", "First Response") not in events(s.case)
    for _ in range(2):
        escalation.check_service_levels(at("2026-12-07 10:40"))
    assert events(s.case).count(("Escalation", "First Response")) == 1
    assert local.db.sql("SELECT `escalation_rule` FROM `tabCase SLA Log` WHERE `case`=%s AND `event`='Escalation'",
                        (s.case,), pluck=True) == [rule]
    case = stored(s.case)
    assert (case.assigned_to, case.priority) == (s.backup, s.urgent)
    assert case.response_by == "2026-12-07 09:30:00"  # the urgent priority's 30 minutes
    assert (case.response_breached, case.breach_duration) == (1, 4200)  # timed at the job's 10:40
    escalated = [n for n in notifications(s.backup, s.case) if "escalated" in n]
    assert len(escalated) == 1
    assert len([n for n in notifications(s.manager, s.case) if "escalated" in n]) == 1


def test_a_vip_customers_urgent_case_is_a_crisis_announced_once(ctx, unique, clock):
    top = make_priority(-1000)  # more urgent than any other priority on the shared site
    boss = make_agent(unique, "boss", roles=("Support Manager",))
    clock.set("2026-12-07 09:00")
    vip = make_customer(vip_tier="Gold").name
    calm = sla_case(customer=vip, urgency="Medium")
    assert not calm.is_crisis
    crisis = sla_case(customer=vip, urgency="High")
    assert (crisis.is_crisis, crisis.priority) == (1, top)
    assert [n for n in notifications(boss, crisis.name) if n.startswith("Crisis")] != []
    crisis.subject = "Still down"
    crisis.save()
    stored(crisis.name).save()
    crisis = stored(crisis.name)
    crisis.is_crisis = 0  # calmed down, then flared up again: still the one announcement
    crisis.save()
    crisis = stored(crisis.name)
    crisis.is_crisis = 1
    crisis.save()
    assert len(notifications(boss, crisis.name)) == 1
    assert events(crisis.name) == [("Crisis", None)]
    ordinary = sla_case(customer=make_customer().name, urgency="High")  # urgent, not a VIP
    assert not ordinary.is_crisis
    ordinary.is_crisis = 1  # the flag set by hand
    ordinary.save()
    assert stored(ordinary.name).priority == top
    assert len(notifications(boss, ordinary.name)) == 1
    assert lowcode.get_list("Case", filters={"is_crisis": 1, "status": ["!=", "Closed"],
                                             "name": ["in", [calm.name, crisis.name, ordinary.name]]},
                            pluck="name", order_by="name") == sorted([crisis.name, ordinary.name])


def test_a_case_that_cannot_be_checked_does_not_stop_the_others(setting):
    s = setting
    group, normal = make_group(), make_priority(50)
    broken = make_sla({normal: (1 * H, 8 * H)}, customer_group=group).name
    bad = sla_case(customer=make_customer(customer_group=group).name, priority=normal)
    # Working hours removed behind the agreement's back: its cases cannot be timed.
    local.db.sql("DELETE FROM `tabService Day` WHERE `parent`=%s", (broken,))
    escalation.check_service_levels(at("2026-12-07 11:30"))
    assert events(s.case) == [("Breach", "First Response")]
    assert events(bad.name) == []


def test_deleting_a_case_takes_its_sla_events_and_notifications_along(setting):
    """Neither the SLA log nor the notifications about a case (Dynamic Links) block its delete."""
    escalation.check_service_levels(at("2026-12-07 11:30"))
    assert events(setting.case) and notifications(setting.agent, setting.case)
    lowcode.delete_doc("Case", setting.case)
    assert not local.db.exists("Case", setting.case)
    assert events(setting.case) == [] and notifications(setting.agent, setting.case) == []


def test_the_scheduler_runs_the_check_every_five_minutes(ctx):
    rows = local.db.sql("SELECT `frequency`, `cron_format` FROM `tabScheduled Job Type` WHERE `method`=%s",
                        ("service_app.escalation.check_service_levels",))
    assert [tuple(r) for r in rows] == [("Cron", "*/5 * * * *")]
