"""SLA clocks: working-time arithmetic against hand-computed times, and a case's due
times, pause, response, resolution and breaches as it moves through its workflow.

Calendar used by hand below: 2026-12-07 is a Monday; 2026-11-30 a Monday; 2027-01-29 a
Friday."""
import datetime
import json

import pytest

import lowcode
from lowcode import client as api_client
from lowcode.exceptions import LinkValidationError, PermissionError, ValidationError
from lowcode.tests.desk_helpers import login
from lowcode.workflow import apply_workflow

from crm_app.tests.helpers import as_user
from service_app import sla
from service_app.sla import WEEKS, WorkingCalendar
from service_app.tests.helpers import make_agent, make_customer, make_team, tag
from service_app.tests.sla_helpers import (H, WEEKDAYS_9_TO_5, at, clock, make_group, make_priority,  # noqa: F401
                                           make_sla, sla_case, stored)

# -- working-time arithmetic (pure) ------------------------------------------------------------

def test_adding_working_time_within_a_day_and_across_days():
    cal = WorkingCalendar(WEEKDAYS_9_TO_5)
    assert cal.add(at("2026-12-07 10:00"), 4 * H) == at("2026-12-07 14:00")
    assert cal.add(at("2026-12-07 15:00"), 4 * H) == at("2026-12-08 11:00")  # 2h Monday + 2h Tuesday
    assert cal.add(at("2026-12-07 07:00"), 0) == at("2026-12-07 09:00")  # the first working moment
    assert cal.add(at("2026-12-07 17:00"), 8 * H) == at("2026-12-08 17:00")  # ends exactly at closing
    assert cal.between(at("2026-12-07 15:00"), at("2026-12-08 11:00")) == 4 * H
    assert cal.between(at("2026-12-08 11:00"), at("2026-12-07 15:00")) == 0


def test_a_weekend_is_skipped():
    cal = WorkingCalendar(WEEKDAYS_9_TO_5)
    assert cal.add(at("2026-12-11 16:00"), 2 * H) == at("2026-12-14 10:00")  # Fri 1h, Mon 1h
    assert cal.add(at("2026-12-12 12:00"), 1 * H) == at("2026-12-14 10:00")  # from a Saturday
    assert cal.between(at("2026-12-11 16:00"), at("2026-12-14 10:00")) == 2 * H


def test_a_holiday_is_skipped():
    cal = WorkingCalendar(WEEKDAYS_9_TO_5, holidays=["2026-12-08"])
    assert cal.add(at("2026-12-07 15:00"), 4 * H) == at("2026-12-09 11:00")  # Tuesday off
    assert cal.between(at("2026-12-07 15:00"), at("2026-12-09 11:00")) == 4 * H


def test_a_due_time_crossing_a_month_boundary():
    cal = WorkingCalendar(WEEKDAYS_9_TO_5)
    assert cal.add(at("2026-11-30 16:00"), 10 * H) == at("2026-12-02 10:00")  # 1h + 8h + 1h
    # Friday 29 January 2027: 2h, the weekend, Monday 1 February: 4h
    assert cal.add(at("2027-01-29 15:00"), 6 * H) == at("2027-02-01 13:00")
    assert cal.between(at("2027-01-29 15:00"), at("2027-02-01 13:00")) == 6 * H


def test_iranian_weeks_friday_off_and_thursday_optional_half_day():
    iran = WorkingCalendar(WEEKS["Iran"])  # Saturday-Wednesday 08:00-16:00
    assert iran.add(at("2026-12-09 15:00"), 3 * H) == at("2026-12-12 10:00")  # Wed 1h, Sat 2h
    half = WorkingCalendar(WEEKS["Iran (Thursday half-day)"])  # plus Thursday 08:00-13:00
    assert half.add(at("2026-12-09 15:00"), 3 * H) == at("2026-12-10 10:00")  # Wed 1h, Thu 2h
    assert half.add(at("2026-12-10 12:00"), 2 * H) == at("2026-12-12 09:00")  # Thu 1h, Fri off, Sat 1h
    assert half.between(at("2026-12-10 00:00"), at("2026-12-12 00:00")) == 5 * H


def test_israeli_week_friday_and_saturday_off():
    israel = WorkingCalendar(WEEKS["Israel"])  # Sunday-Thursday 09:00-17:00
    assert israel.add(at("2026-12-10 16:00"), 2 * H) == at("2026-12-13 10:00")  # Thu 1h, Sun 1h
    assert israel.between(at("2026-12-11 09:00"), at("2026-12-12 17:00")) == 0  # Friday and Saturday


def test_round_the_clock_hours_and_bad_hours():
    always = WorkingCalendar([(d, "00:00:00", "00:00:00") for d in sla.WEEKDAYS])  # 00:00 to midnight
    assert always.add(at("2026-12-11 22:00"), 4 * H) == at("2026-12-12 02:00")
    with pytest.raises(ValidationError):
        WorkingCalendar([("Monday", "17:00:00", "09:00:00")])
    with pytest.raises(ValidationError) as err:
        WorkingCalendar([])
    assert err.value.field == "support_and_resolution"
    with pytest.raises(ValidationError) as err:  # every day a holiday: no due time, an error
        WorkingCalendar([("Monday", "09:00:00", "17:00:00")],
                        holidays=[datetime.date(2027, 1, 4) + datetime.timedelta(weeks=w) for w in range(200)]
                        ).add(at("2027-01-01 00:00"), H)
    assert err.value.field == "holiday_list"


# -- the case's clocks ---------------------------------------------------------------------------

def test_due_times_pause_response_and_a_late_resolution(ctx, clock):
    group, normal = make_group(), make_priority(50)
    agreement = make_sla({normal: (1 * H, 8 * H)}, customer_group=group).name
    customer = make_customer(customer_group=group).name
    clock.set("2026-12-07 10:00")
    case = sla_case(customer=customer, priority=normal)
    assert case.service_level_agreement == agreement
    assert (case.opened_on, case.response_by, case.resolution_by, case.agreement_status) == (
        "2026-12-07 10:00:00", "2026-12-07 11:00:00", "2026-12-08 10:00:00", "First Response Due")

    clock.set("2026-12-07 10:30")
    apply_workflow(case, "Start")  # leaving Open is the first response
    case = stored(case)
    assert (case.first_responded_on, case.first_response_time, case.agreement_status) == (
        "2026-12-07 10:30:00", 1800, "Resolution Due")
    assert not case.response_breached

    clock.set("2026-12-07 16:00")
    apply_workflow(case, "Wait on Customer")
    case = stored(case)
    assert (case.on_hold_since, case.agreement_status) == ("2026-12-07 16:00:00", "Paused")

    clock.set("2026-12-08 11:00")  # paused 1h on Monday + 2h on Tuesday
    apply_workflow(case, "Customer Replied")
    case = stored(case)
    assert (case.on_hold_since, case.total_hold_time) == (None, 3 * H)
    assert case.resolution_by == "2026-12-08 13:00:00"  # 8h + 3h paused after Monday 10:00
    assert case.agreement_status == "Resolution Due"

    clock.set("2026-12-08 14:00")
    case.resolution_details = "Replaced the router"
    case.save()
    apply_workflow(stored(case), "Resolve")
    case = stored(case)
    assert case.resolution_date == "2026-12-08 14:00:00"
    assert case.resolution_time == 9 * H  # 7h Monday + 5h Tuesday - 3h paused
    assert (case.resolution_breached, case.response_breached, case.breach_duration) == (1, 0, 1 * H)
    assert case.agreement_status == "Failed"

    clock.set("2026-12-09 10:00")  # closing later changes none of it
    apply_workflow(case, "Close")
    case = stored(case)
    assert (case.resolution_date, case.resolution_time, case.agreement_status) == (
        "2026-12-08 14:00:00", 9 * H, "Failed")


def test_met_in_time_is_fulfilled_and_a_holiday_pushes_the_due_time(ctx, clock):
    group, normal = make_group(), make_priority(50)
    make_sla({normal: (2 * H, 4 * H)}, customer_group=group, holidays=["2026-12-08"])
    clock.set("2026-12-07 15:00")
    case = sla_case(customer=make_customer(customer_group=group).name, priority=normal)
    assert (case.response_by, case.resolution_by) == ("2026-12-07 17:00:00", "2026-12-09 11:00:00")
    clock.set("2026-12-09 10:00")
    case.resolution_details = "Explained the invoice"
    case.status = "Resolved"
    case.save(ignore_permissions=True)
    case = stored(case)
    assert (case.first_responded_on, case.first_response_time) == ("2026-12-09 10:00:00", 3 * H)
    assert (case.response_breached, case.resolution_breached) == (1, 0)
    assert (case.breach_duration, case.agreement_status) == (1 * H, "Failed")


def test_a_priority_change_recomputes_the_due_times(ctx, clock):
    group, normal, urgent = make_group(), make_priority(50), make_priority(40)
    make_sla({normal: (4 * H, 16 * H), urgent: (1800, 2 * H)}, customer_group=group)
    clock.set("2026-12-07 09:00")
    case = sla_case(customer=make_customer(customer_group=group).name, priority=normal)
    assert case.response_by == "2026-12-07 13:00:00"
    clock.set("2026-12-07 09:10")
    case.priority = urgent
    case.save()
    case = stored(case)
    assert (case.response_by, case.resolution_by) == ("2026-12-07 09:30:00", "2026-12-07 11:00:00")


def test_an_agreement_for_a_group_covers_the_groups_below_it(ctx, clock):
    parent, normal = make_group(), make_priority(50)
    child = lowcode.get_doc({"doctype": "Customer Group", "customer_group_name": f"Child {tag()}",
                             "parent_customer_group": parent}).insert().name
    for_parent = make_sla({normal: (1 * H, 8 * H)}, customer_group=parent).name
    clock.set("2026-12-07 09:00")
    assert sla_case(customer=make_customer(customer_group=child).name, priority=normal
                    ).service_level_agreement == for_parent
    for_child = make_sla({normal: (2 * H, 8 * H)}, customer_group=child).name  # the nearest group wins
    assert sla_case(customer=make_customer(customer_group=child).name, priority=normal
                    ).service_level_agreement == for_child


def test_the_default_agreement_and_its_default_priority(ctx, clock):
    normal = make_priority(50)
    agreement = make_sla({normal: (1 * H, 2 * H)}, default_service_level_agreement=1, default_priority=normal).name
    clock.set("2026-12-07 09:00")
    case = sla_case(customer=make_customer(customer_group=make_group()).name)  # a group with no agreement
    assert (case.service_level_agreement, case.priority, case.response_by) == (
        agreement, normal, "2026-12-07 10:00:00")
    with pytest.raises(ValidationError) as err:  # one default only
        make_sla({normal: (H, H)}, default_service_level_agreement=1)
    assert err.value.field == "default_service_level_agreement"


def test_a_teams_working_hours_and_holidays_override_the_agreements(ctx, clock):
    group, normal = make_group(), make_priority(50)
    make_sla({normal: (2 * H, 8 * H)}, customer_group=group)
    team = lowcode.get_doc("Service Team", make_team())
    team.working_week = "Israel"
    team.save()
    assert [r.workday for r in lowcode.get_doc("Service Team", team.name).working_hours] == [
        "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday"]
    clock.set("2026-12-10 16:00")  # a Thursday
    case = sla_case(customer=make_customer(customer_group=group).name, priority=normal, service_team=team.name)
    assert case.response_by == "2026-12-13 10:00:00"  # Thursday 1h, Sunday 1h (Monday under the agreement)


def test_an_agents_reply_is_the_first_response(ctx, clock):
    group, normal = make_group(), make_priority(50)
    make_sla({normal: (1 * H, 8 * H)}, customer_group=group)
    clock.set("2026-12-07 09:00")
    case = sla_case(customer=make_customer(customer_group=group).name, priority=normal)
    lowcode.get_doc({"doctype": "Communication", "subject": "Re: your router", "sent_or_received": "Received",
                     "communication_date": "2026-12-07 09:10:00", "reference_doctype": "Case",
                     "reference_name": case.name}).insert()
    assert stored(case).first_responded_on is None  # the customer's own message is no response
    lowcode.get_doc({"doctype": "Communication", "subject": "Re: your router", "sent_or_received": "Sent",
                     "communication_date": "2026-12-07 09:20:00", "reference_doctype": "Case",
                     "reference_name": case.name}).insert()
    case = stored(case)
    assert (case.first_responded_on, case.first_response_time, case.status) == (
        "2026-12-07 09:20:00", 1200, "Open")
    sla.mark_first_response(case.name, "2026-12-07 09:40:00")  # the first one stays
    assert stored(case).first_responded_on == "2026-12-07 09:20:00"


def test_agreement_settings_are_checked(ctx):
    normal, other = make_priority(50), make_priority(51)
    with pytest.raises(ValidationError) as err:
        make_sla({normal: (H, H)}, default_priority=other)
    assert err.value.field == "default_priority"
    with pytest.raises(ValidationError) as err:
        make_sla({normal: (H, H)}, hours=[("Monday", "17:00:00", "09:00:00")])
    assert err.value.field == "end_time"
    agreement = make_sla({normal: (H, H)}, working_week="Iran (Thursday half-day)")
    assert [(r.workday, r.end_time) for r in agreement.support_and_resolution][-1] == ("Thursday", "13:00:00")



def test_one_row_of_targets_per_priority_and_one_default_agreement(ctx):
    normal = make_priority(50)
    twice = [{"priority": normal, "response_time": H, "resolution_time": 2 * H},
             {"priority": normal, "response_time": 2 * H, "resolution_time": 4 * H}]
    with pytest.raises(ValidationError) as err:
        lowcode.get_doc({"doctype": "Service Level Agreement", "service_level": f"SLA {tag()}", "priorities": twice,
                         "support_and_resolution": [{"workday": d, "start_time": s, "end_time": e}
                                                    for d, s, e in WEEKDAYS_9_TO_5]}).insert()
    assert err.value.field == "priorities"
    with pytest.raises(LinkValidationError) as err:
        make_sla({f"Whenever {tag()}": (H, H)})
    assert err.value.field == "priority"
    if not lowcode.db.exists("Service Level Agreement", {"default_service_level_agreement": 1}):
        make_sla({normal: (H, H)}, default_service_level_agreement=1)
    with pytest.raises(ValidationError) as err:
        make_sla({normal: (H, H)}, default_service_level_agreement=1)
    assert err.value.field == "default_service_level_agreement"

# -- who may change the SLA fields -------------------------------------------------------------------

def test_a_client_cannot_set_the_sla_fields(ctx, unique, clock):
    """The engine hands a client's values for read-only fields to the document (as Frappe
    does); the SLA module puts the stored ones back before its clocks run."""
    group, normal = make_group(), make_priority(50)
    make_sla({normal: (1 * H, 8 * H)}, customer_group=group)
    agent = make_agent(unique)
    customer = make_customer(customer_group=group).name
    clock.set("2026-12-07 10:00")
    with as_user(agent):
        case = api_client.insert_doc({"doctype": "Case", "subject": "Printer", "customer": customer,
                                      "priority": normal, "assigned_to": agent,
                                      "opened_on": "2026-01-01 00:00:00", "response_by": "2030-01-01 00:00:00",
                                      "agreement_status": "Fulfilled"})
        assert (case.opened_on, case.response_by, case.agreement_status) == (
            "2026-12-07 10:00:00", "2026-12-07 11:00:00", "First Response Due")
        api_client.update_doc("Case", case.name, {"subject": "Printer jams", "response_by": "2030-01-01 00:00:00",
                                                  "response_breached": 1, "total_hold_time": 99999,
                                                  "first_responded_on": "2026-12-07 10:01:00"})
    case = stored(case)
    assert case.subject == "Printer jams"
    assert (case.response_by, case.response_breached, case.total_hold_time, case.first_responded_on) == (
        "2026-12-07 11:00:00", 0, 0, None)
    agreement = lowcode.get_doc("Service Level Agreement", case.service_level_agreement)
    with as_user(agent):
        agreement.priorities[0].response_time = 99 * H
        with pytest.raises(PermissionError):
            agreement.save()


def test_the_rest_api_cannot_set_the_sla_fields_either(ctx, client, unique):
    """Over HTTP, as an agent: PUT /api/resource/Case/<name> with SLA values changes the
    subject only (the data is committed: the request has its own connection)."""
    group, normal = make_group(), make_priority(50)
    make_sla({normal: (1 * H, 8 * H)}, customer_group=group)
    agent = make_agent(unique)
    case = sla_case(customer=make_customer(customer_group=group).name, priority=normal, assigned_to=agent)
    csrf = login(ctx, client, agent)
    r = client.put(f"/api/resource/Case/{case.name}", json.dumps({
        "subject": "Printer jams", "response_by": "2030-01-01 00:00:00", "agreement_status": "Fulfilled",
        "response_breached": 1, "service_level_agreement": None, "opened_on": "2026-01-01 00:00:00",
        "total_hold_time": 99999, "first_responded_on": "2026-01-01 00:01:00"}),
        content_type="application/json", HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 200, r.content[:500]
    data = json.loads(r.content)["data"]
    assert (data["subject"], data["response_by"], data["agreement_status"], data["response_breached"]) == (
        "Printer jams", case.response_by, "First Response Due", 0)
    assert (data["opened_on"], data["total_hold_time"], data["first_responded_on"]) == (case.opened_on, 0, None)
    ctx.db.rollback()
    assert stored(case.name).service_level_agreement == case.service_level_agreement
