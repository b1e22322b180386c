"""Territories: a tree by parent_territory. Named by their name, Country by default; the
parent must exist; a territory cannot go below itself or its own sub-territories (the
branch would leave the tree); a parent with sub-territories is not deleted; only a Sales
Manager edits the tree over REST. Which leads a territory manager sees is tested in
crm_app/tests/test_crm_permissions.py."""
import pytest

import lowcode
from lowcode.exceptions import LinkExistsError, LinkValidationError, ValidationError

from crm_app.tests.helpers import body, make_territory, make_user, refresh, token


def test_named_by_its_name_a_country_by_default(ctx, unique):
    name = make_territory(f"Iran {unique}", is_group=1)
    assert name == f"Iran {unique}"
    assert lowcode.db.get_value("Territory", name, ["territory_type", "is_group"]) == ("Country", 1)


def test_the_parent_must_exist(ctx, unique):
    with pytest.raises(LinkValidationError) as e:
        make_territory(f"Orphan {unique}", parent=f"Nowhere {unique}")
    assert e.value.field == "parent_territory"


def test_no_loops_in_the_tree(ctx, unique):
    country = make_territory(f"Country {unique}", is_group=1)
    province = make_territory(f"Province {unique}", parent=country, is_group=1)
    city = make_territory(f"City {unique}", parent=province)
    for new_parent in (country, city):   # itself; its own grandchild
        doc = lowcode.get_doc("Territory", country)
        doc.parent_territory = new_parent
        with pytest.raises(ValidationError) as e:
            doc.save()
        assert e.value.field == "parent_territory", new_parent
    assert lowcode.db.get_value("Territory", country, "parent_territory") is None
    moved = lowcode.get_doc("Territory", city)   # a move to another branch is fine
    moved.parent_territory = country
    moved.save()
    assert lowcode.db.get_value("Territory", city, "parent_territory") == country


def test_a_parent_with_sub_territories_is_not_deleted(ctx, unique):
    parent = make_territory(f"Parent {unique}", is_group=1)
    make_territory(f"Child {unique}", parent=parent)
    with pytest.raises(LinkExistsError):
        lowcode.delete_doc("Territory", parent)
    assert lowcode.db.exists("Territory", parent)


def test_only_a_sales_manager_edits_the_tree_over_rest(ctx, client, unique):
    territory = make_territory(f"Rest {unique}")
    rep = token(make_user(unique, "terrep"))
    manager = token(make_user(unique, "terboss", roles=("Sales Manager",)))
    refresh(ctx)
    payload = '{"territory_type": "City"}'
    denied = client.put(f"/api/resource/Territory/{territory}", payload, content_type="application/json", **rep)
    assert denied.status_code == 403, body(denied)
    assert client.get(f"/api/resource/Territory/{territory}", **rep).status_code == 200
    allowed = client.put(f"/api/resource/Territory/{territory}", payload, content_type="application/json", **manager)
    assert allowed.status_code == 200, body(allowed)
    refresh(ctx)
    assert lowcode.db.get_value("Territory", territory, "territory_type") == "City"
