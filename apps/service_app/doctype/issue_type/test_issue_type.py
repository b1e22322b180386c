"""Issue Types: named by the type (unique, mandatory), a case's type must exist, agents
read types and only a Support Manager adds one over REST."""
import pytest

import lowcode
from lowcode.exceptions import DuplicateEntryError, LinkValidationError, MandatoryError
from lowcode.testing.http import error, ok, post_json

from crm_app.tests.helpers import refresh, token
from service_app.tests.helpers import make_agent, make_case, tag


def _type(**values):
    return lowcode.get_doc(dict({"doctype": "Issue Type", "issue_type_name": f"Bug {tag()}"}, **values)).insert()


def test_named_by_the_type_which_is_unique_and_mandatory(ctx):
    kind = _type()
    assert kind.name == kind.issue_type_name
    with pytest.raises(DuplicateEntryError):
        _type(issue_type_name=kind.name)
    with pytest.raises(MandatoryError) as e:
        _type(issue_type_name=None)
    assert e.value.field == "issue_type_name"


def test_a_cases_type_must_exist(ctx):
    kind = _type().name
    assert make_case(issue_type=kind).issue_type == kind
    with pytest.raises(LinkValidationError) as e:
        make_case(issue_type=f"Mystery {tag()}")
    assert e.value.field == "issue_type"


def test_agents_read_managers_add(ctx, client, unique):
    agent = token(make_agent(unique))
    manager = token(make_agent(unique, "boss", roles=("Support Manager",)))
    refresh(ctx)
    error(post_json(client, "/api/resource/Issue Type", {"issue_type_name": f"Agent {unique}"}, **agent), 403)
    ok(post_json(client, "/api/resource/Issue Type", {"issue_type_name": f"Boss {unique}"}, **manager))
    assert client.get(f"/api/resource/Issue Type/Boss {unique}", **agent).status_code == 200
