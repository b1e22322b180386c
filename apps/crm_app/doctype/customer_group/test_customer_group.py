"""Customer Groups: named by their name (unique) under an existing parent group; a
customer takes only an existing group; an agreement for a group covers the groups below
it (service_app.sla.group_and_ancestors, nearest first, a loop cut short); a Sales User
reads the groups but does not keep them over REST."""
import pytest

import lowcode
from lowcode.exceptions import DuplicateEntryError, LinkValidationError
from lowcode.testing.http import error, ok, post_json

from crm_app.tests.helpers import make_customer, make_user, refresh, tag, token


def _group(**values):
    return lowcode.get_doc(dict({"doctype": "Customer Group", "customer_group_name": f"Retail {tag()}"},
                                **values)).insert()


def test_named_by_its_name_under_an_existing_parent(ctx):
    parent = _group()
    child = _group(parent_customer_group=parent.name)
    assert child.name == child.customer_group_name
    with pytest.raises(LinkValidationError) as e:
        _group(parent_customer_group=f"Nowhere {tag()}")
    assert e.value.field == "parent_customer_group"
    with pytest.raises(DuplicateEntryError):
        _group(customer_group_name=parent.name)


def test_a_customer_takes_only_an_existing_group(ctx):
    group = _group().name
    assert make_customer(customer_group=group).customer_group == group
    with pytest.raises(LinkValidationError) as e:
        make_customer(customer_group=f"Nowhere {tag()}")
    assert e.value.field == "customer_group"


def test_the_groups_above_nearest_first(ctx):
    from service_app.sla import group_and_ancestors
    top = _group().name
    middle = _group(parent_customer_group=top).name
    bottom = _group(parent_customer_group=middle).name
    assert group_and_ancestors(bottom) == [bottom, middle, top]
    lowcode.db.set_value("Customer Group", top, "parent_customer_group", bottom)  # a loop written behind our back
    assert group_and_ancestors(bottom) == [bottom, middle, top]


def test_a_sales_user_reads_but_does_not_keep_groups(ctx, client, unique):
    group = _group().name
    rep = token(make_user(unique, "grouprep"))
    refresh(ctx)
    assert ok(client.get(f"/api/resource/Customer Group/{group}", **rep))["data"]["name"] == group
    error(post_json(client, "/api/resource/Customer Group", {"customer_group_name": f"Mine {unique}"}, **rep), 403)
