"""Help Categories: the name is a path segment of the public page (/kb/category/<name>),
so a slash is refused; a category cannot be its own parent and its parent must exist
(each refused naming the field); agents read categories, only a Support Manager adds one
over REST. Articles and pages are tested in doctype/help_article/test_help_article.py."""
import pytest

import lowcode
from lowcode.exceptions import LinkValidationError, ValidationError
from lowcode.testing.http import error, ok, post_json

from crm_app.tests.helpers import refresh, token
from service_app.tests.helpers import make_agent, tag


def _category(**values):
    return lowcode.get_doc(dict({"doctype": "Help Category", "category_name": f"Billing {tag()}"}, **values)).insert()


def test_a_slash_in_the_name_is_refused(ctx):
    with pytest.raises(ValidationError) as e:
        _category(category_name=f"Billing/Refunds {tag()}")
    assert e.value.field == "category_name"


def test_the_parent_exists_and_is_not_itself(ctx):
    parent = _category()
    child = _category(parent_category=parent.name)
    assert lowcode.db.get_value("Help Category", child.name, "parent_category") == parent.name
    child.parent_category = child.name
    with pytest.raises(ValidationError) as e:
        child.save()
    assert e.value.field == "parent_category"
    with pytest.raises(LinkValidationError) as e:
        _category(parent_category=f"Nowhere {tag()}")
    assert e.value.field == "parent_category"


def test_agents_read_managers_add(ctx, client, unique):
    agent = token(make_agent(unique))
    manager = token(make_agent(unique, "boss", roles=("Support Manager",)))
    refresh(ctx)
    error(post_json(client, "/api/resource/Help Category", {"category_name": f"Agent {unique}"}, **agent), 403)
    ok(post_json(client, "/api/resource/Help Category", {"category_name": f"Boss {unique}"}, **manager))
    assert client.get(f"/api/resource/Help Category/Boss {unique}", **agent).status_code == 200
