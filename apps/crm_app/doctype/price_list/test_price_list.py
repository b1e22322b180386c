"""Price Lists: named by their name (unique), enabled and in IRR by default, the
default price list of CRM Settings prices a quotation that names none, and only a Sales
Manager may create one over REST."""
import pytest

import lowcode
from lowcode.exceptions import DuplicateEntryError

from crm_app.tests.helpers import body, make_customer, make_product, make_user, refresh, tag, token


def _price_list(**values):
    return lowcode.get_doc(dict({"doctype": "Price List", "price_list_name": f"PL {tag()}"}, **values)).insert()


def test_defaults_and_name(ctx):
    price_list = _price_list()
    assert price_list.name == price_list.price_list_name
    assert (price_list.currency, price_list.enabled, price_list.is_default) == ("IRR", 1, 0)


def test_the_name_is_unique(ctx):
    name = f"PL {tag()}"
    _price_list(price_list_name=name)
    with pytest.raises(DuplicateEntryError):
        _price_list(price_list_name=name)


def test_the_default_price_list_prices_a_quotation_naming_none(ctx):
    price_list = _price_list().name
    product = make_product(rate=500)
    lowcode.get_doc({"doctype": "Item Price", "product": product, "price_list": price_list, "rate": 420}).insert()
    settings = lowcode.get_doc("CRM Settings")
    settings.default_price_list = price_list
    settings.save()
    quotation = lowcode.get_doc({"doctype": "Quotation", "party_name": make_customer().name,
                                 "items": [{"product": product, "qty": 1}]}).insert()
    assert quotation.price_list == price_list
    assert float(quotation.items[0].rate) == 420


def test_only_a_sales_manager_creates_one_over_rest(ctx, client, unique):
    rep = token(make_user(unique, "plrep"))
    manager = token(make_user(unique, "plboss", roles=("Sales Manager",)))
    refresh(ctx)
    name = f"PL {tag()}"
    payload = '{"price_list_name": "%s"}' % name
    denied = client.post("/api/resource/Price List", payload, content_type="application/json", **rep)
    assert denied.status_code == 403, body(denied)
    created = client.post("/api/resource/Price List", payload, content_type="application/json", **manager)
    assert created.status_code == 200, body(created)
    refresh(ctx)
    assert lowcode.db.get_value("Price List", name, "currency") == "IRR"
