"""Products: named by their code (unique), the unit defaults to Nos, the name is
mandatory, and a Sales User reads the catalogue over REST but cannot add to it or change
it (a Sales Manager can)."""
import json

import pytest

import lowcode
from lowcode.exceptions import DuplicateEntryError, MandatoryError

from crm_app.tests.helpers import body, make_product, make_user, ok, refresh, tag, token


def test_named_by_its_code_with_the_default_unit(ctx):
    code = f"P-{tag()}"
    assert make_product(rate=120, product_code=code) == code
    stored = lowcode.get_doc("Product", code)
    assert (stored.product_name, stored.uom, float(stored.standard_rate), stored.disabled) == (
        f"Product {code}", "Nos", 120.0, 0)


def test_the_code_is_unique(ctx):
    code = f"P-{tag()}"
    make_product(product_code=code)
    with pytest.raises(DuplicateEntryError):
        make_product(product_code=code)


def test_the_name_is_mandatory(ctx):
    with pytest.raises(MandatoryError) as e:
        lowcode.get_doc({"doctype": "Product", "product_code": f"P-{tag()}"}).insert()
    assert e.value.field == "product_name"


def test_a_sales_user_reads_but_does_not_edit_the_catalogue(ctx, client, unique):
    product = make_product(rate=10)
    rep = token(make_user(unique, "catrep"))
    manager = token(make_user(unique, "catboss", roles=("Sales Manager",)))
    refresh(ctx)
    assert ok(client.get(f"/api/resource/Product/{product}", **rep))["data"]["product_code"] == product
    code = f"P-{tag()}"
    new = json.dumps({"product_code": code, "product_name": "Sneaky"})
    denied = client.post("/api/resource/Product", new, content_type="application/json", **rep)
    assert denied.status_code == 403, body(denied)
    denied = client.put(f"/api/resource/Product/{product}", '{"standard_rate": 1}', content_type="application/json",
                        **rep)
    assert denied.status_code == 403, body(denied)
    assert ok(client.post("/api/resource/Product", new, content_type="application/json", **manager))["data"][
        "name"] == code
    refresh(ctx)
    assert float(lowcode.db.get_value("Product", product, "standard_rate")) == 10
