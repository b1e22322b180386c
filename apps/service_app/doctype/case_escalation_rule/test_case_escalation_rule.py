"""Case Escalation Rules: named by the rule (unique), enabled and on the resolution by
default, the target is one of its options and every link (priority, teams, group,
users) must exist, each refused naming the field; agents read rules, only a Support
Manager adds one over REST. What a rule does when a case is late is tested in
service_app/tests/test_escalation.py."""
import pytest

import lowcode
from lowcode.exceptions import DuplicateEntryError, LinkValidationError, ValidationError
from lowcode.testing.http import error, ok, post_json

from crm_app.tests.helpers import refresh, token
from service_app.tests.helpers import make_agent, tag


def _rule(**values):
    return lowcode.get_doc(dict({"doctype": "Case Escalation Rule", "rule_name": f"Late {tag()}"}, **values)).insert()


def test_defaults_and_name(ctx):
    rule = _rule()
    assert rule.name == rule.rule_name
    assert (rule.enabled, rule.target, int(rule.after_minutes or 0), int(rule.raise_priority or 0)) == (
        1, "Resolution", 0, 0)
    with pytest.raises(DuplicateEntryError):
        _rule(rule_name=rule.name)


def test_the_target_is_one_of_its_options(ctx):
    with pytest.raises(ValidationError) as e:
        _rule(target="Lunch")
    assert e.value.field == "target"


@pytest.mark.parametrize("field", ["priority", "service_team", "customer_group", "reassign_to_user",
                                   "reassign_to_team", "notify_user"])
def test_links_must_exist(ctx, field):
    with pytest.raises(LinkValidationError) as e:
        _rule(**{field: f"nobody-{tag()}"})
    assert e.value.field == field


def test_agents_read_managers_add(ctx, client, unique):
    agent = token(make_agent(unique))
    manager = token(make_agent(unique, "boss", roles=("Support Manager",)))
    refresh(ctx)
    # Committed for the whole session: disabled, or every later test's late case would escalate.
    payload = {"rule_name": f"Rest {unique}", "target": "First Response", "after_minutes": 15, "enabled": 0}
    error(post_json(client, "/api/resource/Case Escalation Rule", payload, **agent), 403)
    ok(post_json(client, "/api/resource/Case Escalation Rule", payload, **manager))
    data = ok(client.get(f"/api/resource/Case Escalation Rule/Rest {unique}", **agent))["data"]
    assert (data["target"], data["after_minutes"], data["enabled"]) == ("First Response", 15, 0)
