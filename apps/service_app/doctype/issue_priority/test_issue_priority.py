"""Issue Priorities: named by the priority (unique); the rank orders them, rank 1 the
most urgent: an escalation raises a case to the next more urgent ranked priority (the
same at the top; an unranked case gets the least urgent ranked one); a case's priority
must exist; agents read priorities, only a Support Manager adds one over REST."""
import random

import pytest

import lowcode
from lowcode.exceptions import DuplicateEntryError, LinkValidationError
from lowcode.testing.http import error, ok, post_json

from crm_app.tests.helpers import refresh, token
from service_app.escalation import next_priority
from service_app.tests.helpers import make_agent, make_case, tag


def _priority(rank=None, **values):
    return lowcode.get_doc(dict({"doctype": "Issue Priority", "priority_name": f"P {tag()}", "rank": rank},
                                **values)).insert().name


def test_named_by_the_priority_which_is_unique(ctx):
    name = _priority(priority_name=f"Urgent {tag()}")
    assert name.startswith("Urgent ")
    with pytest.raises(DuplicateEntryError):
        _priority(priority_name=name)


def test_escalation_moves_up_the_ranks(ctx):
    # Far below any other test's ranks, so no other priority lies between these.
    base = -random.randint(10**6, 10**9)
    urgent, high, normal = _priority(base), _priority(base + 1), _priority(base + 2)
    assert next_priority(normal) == high
    assert next_priority(high) == urgent
    unranked = _priority()
    assert next_priority(unranked) not in (unranked, None)  # the least urgent ranked one


def test_a_cases_priority_must_exist(ctx):
    priority = _priority(50)
    assert make_case(priority=priority).priority == priority
    with pytest.raises(LinkValidationError) as e:
        make_case(priority=f"Whenever {tag()}")
    assert e.value.field == "priority"


def test_agents_read_managers_add(ctx, client, unique):
    agent = token(make_agent(unique))
    manager = token(make_agent(unique, "boss", roles=("Support Manager",)))
    refresh(ctx)
    error(post_json(client, "/api/resource/Issue Priority", {"priority_name": f"Agent {unique}"}, **agent), 403)
    # Committed for the whole session: unranked, so no later test's escalation or crisis picks it.
    ok(post_json(client, "/api/resource/Issue Priority", {"priority_name": f"Boss {unique}",
                                                          "description": "made by a manager"}, **manager))
    data = ok(client.get(f"/api/resource/Issue Priority/Boss {unique}", **agent))["data"]
    assert (data["description"], data["rank"]) == ("made by a manager", None)
