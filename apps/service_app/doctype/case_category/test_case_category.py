"""Case Categories: named by their name (unique), a parent category must exist, a case
takes only an existing category, and Support Agents read categories but only a Support
Manager adds them over REST."""
import json

import pytest

import lowcode
from lowcode.exceptions import DuplicateEntryError, LinkValidationError

from crm_app.tests.helpers import body, refresh, token
from service_app.tests.helpers import make_agent, make_case, tag


def _category(**values):
    return lowcode.get_doc(dict({"doctype": "Case Category", "category_name": f"Billing {tag()}"}, **values)).insert()


def test_named_by_its_name_under_an_existing_parent(ctx):
    parent = _category()
    child = _category(parent_category=parent.name)
    assert child.name == child.category_name
    assert lowcode.db.get_value("Case Category", child.name, "parent_category") == parent.name
    with pytest.raises(LinkValidationError) as e:
        _category(parent_category=f"Nowhere {tag()}")
    assert e.value.field == "parent_category"


def test_the_name_is_unique(ctx):
    name = f"Refunds {tag()}"
    _category(category_name=name)
    with pytest.raises(DuplicateEntryError):
        _category(category_name=name)


def test_a_case_takes_only_an_existing_category(ctx):
    category = _category().name
    assert make_case(category=category).category == category
    with pytest.raises(LinkValidationError) as e:
        make_case(category=f"Nowhere {tag()}")
    assert e.value.field == "category"


def test_agents_read_managers_add(ctx, client, unique):
    category = _category().name
    agent = token(make_agent(unique))
    manager = token(make_agent(unique, "lead", roles=("Support Manager",)))
    refresh(ctx)
    assert client.get(f"/api/resource/Case Category/{category}", **agent).status_code == 200
    payload = json.dumps({"category_name": f"New {unique}"})
    denied = client.post("/api/resource/Case Category", payload, content_type="application/json", **agent)
    assert denied.status_code == 403, body(denied)
    created = client.post("/api/resource/Case Category", payload, content_type="application/json", **manager)
    assert created.status_code == 200, body(created)
    refresh(ctx)
    assert lowcode.db.exists("Case Category", f"New {unique}")
