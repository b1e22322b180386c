"""The demo SLA set-up: holidays, the default agreement on the Iranian week, the Tel Aviv
team on the Israeli week, escalation rules, and running cases timed; twice is harmless."""
import lowcode
from lowcode.context import local
from lowcode.workflow import apply_workflow

from service_app import sla_demo
from service_app.tests.helpers import make_case


def test_the_demo_sla_set_up_is_complete_and_idempotent(ctx):
    if local.db.exists("Service Level Agreement", sla_demo.AGREEMENT):
        lowcode.delete_doc("Service Level Agreement", sla_demo.AGREEMENT)  # only inside this test's transaction
    local.db.sql("UPDATE `tabService Level Agreement` SET `default_service_level_agreement`=0")
    if not local.db.exists("Service Team", "Tel Aviv Support"):
        lowcode.get_doc({"doctype": "Service Team", "team_name": "Tel Aviv Support"}).insert()
    local.db.sql("UPDATE `tabService Team` SET `working_week`=NULL WHERE `name`='Tel Aviv Support'")
    running, waiting = make_case(), make_case()
    apply_workflow(waiting, "Start")
    apply_workflow(lowcode.get_doc("Case", waiting.name), "Wait on Customer")
    assert not lowcode.get_doc("Case", running.name).service_level_agreement  # no agreement yet

    result = sla_demo.generate()
    assert result["backdated"] >= 1
    agreement = lowcode.get_doc("Service Level Agreement", sla_demo.AGREEMENT)
    assert agreement.default_service_level_agreement == 1
    assert {r.workday for r in agreement.support_and_resolution} == {
        "Saturday", "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday"}
    team = lowcode.get_doc("Service Team", "Tel Aviv Support")
    assert (team.working_week, team.holiday_list) == ("Israel", "Israel public holidays")
    assert len(lowcode.get_doc("Holiday List", "Iran public holidays").holidays) > 20
    case = lowcode.get_doc("Case", running.name)
    assert (case.service_level_agreement, case.priority) == (sla_demo.AGREEMENT, "Medium")
    assert case.response_by and case.opened_on < case.response_by
    assert local.db.exists("Case Escalation Rule", "Resolution two hours late")
    assert not lowcode.get_doc("Case", waiting.name).service_level_agreement  # paused cases are not backdated

    holidays_before = local.db.sql("SELECT COUNT(*) FROM `tabHoliday`")[0][0]
    sla_demo.generate()  # again: nothing doubled
    assert local.db.sql("SELECT COUNT(*) FROM `tabHoliday`")[0][0] == holidays_before
