"""Item Prices: product, price list and rate are mandatory, both links must exist, and a
validity ending before it starts is refused naming valid_upto (such a price would never
apply). Which price a quotation line takes is tested in doctype/quotation/test_quotation.py."""
import pytest

import lowcode
from lowcode.exceptions import LinkValidationError, MandatoryError, ValidationError

from crm_app.tests.helpers import body, make_product, make_user, refresh, tag, token


def _price_list():
    return lowcode.get_doc({"doctype": "Price List", "price_list_name": f"PL {tag()}"}).insert().name


def _item_price(**values):
    return lowcode.get_doc(dict({"doctype": "Item Price"}, **values)).insert()


@pytest.mark.parametrize("missing", ["product", "price_list", "rate"])
def test_product_price_list_and_rate_are_mandatory(ctx, missing):
    values = {"product": make_product(), "price_list": _price_list(), "rate": 10}
    del values[missing]
    with pytest.raises(MandatoryError) as e:
        _item_price(**values)
    assert e.value.field == missing


def test_links_must_exist(ctx):
    with pytest.raises(LinkValidationError) as e:
        _item_price(product=f"P-missing-{tag()}", price_list=_price_list(), rate=10)
    assert e.value.field == "product"


def test_a_validity_ending_before_it_starts_is_refused(ctx):
    product, price_list = make_product(), _price_list()
    with pytest.raises(ValidationError) as e:
        _item_price(product=product, price_list=price_list, rate=10, valid_from="2026-05-10", valid_upto="2026-05-09")
    assert e.value.field == "valid_upto"
    assert lowcode.db.count("Item Price", {"product": product}) == 0
    one_day = _item_price(product=product, price_list=price_list, rate=10, valid_from="2026-05-10",
                          valid_upto="2026-05-10")
    assert str(one_day.valid_upto) == "2026-05-10"


def test_a_sales_user_cannot_set_prices_over_rest(ctx, client, unique):
    product, price_list = make_product(), _price_list()
    rep = token(make_user(unique, "iprep"))
    refresh(ctx)
    denied = client.post("/api/resource/Item Price",
                         '{"product": "%s", "price_list": "%s", "rate": 1}' % (product, price_list),
                         content_type="application/json", **rep)
    assert denied.status_code == 403, body(denied)
    assert lowcode.db.count("Item Price", {"product": product}) == 0
