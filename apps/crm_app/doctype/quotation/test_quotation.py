"""Quotations: totals (lines with qty, rate and discount %, an additional discount, tax
rows), the default rate (Price List's Item Price, else the product's standard rate),
valid_till (default from CRM Settings, never before the date), and the quotation
workflow by role. The lead and opportunity workflows are tested beside their DocTypes.

The quotation print / PDF is built by another engineer (Print Format) and is not
tested here."""
import datetime

import pytest

import lowcode
from lowcode.exceptions import ValidationError

from crm_app.tests.helpers import (as_user, days_from_today, make_customer, make_product, move, tag,
                                   team, today)  # noqa: F401 - team is a fixture


def _price_list(name=None):
    return lowcode.get_doc({"doctype": "Price List", "price_list_name": name or f"PL {tag()}"}).insert().name


def _item_price(product, price_list, rate, **values):
    return lowcode.get_doc(dict({"doctype": "Item Price", "product": product, "price_list": price_list,
                                 "rate": rate}, **values)).insert()


# -- totals -------------------------------------------------------------------------------------

def test_quotation_totals(ctx):
    customer = make_customer().name
    a, b, c = make_product(rate=1), make_product(rate=1), make_product(rate=1)
    q = lowcode.get_doc({
        "doctype": "Quotation", "party_name": customer, "transaction_date": "2025-03-01",
        "items": [{"product": a, "qty": 2, "rate": 100, "discount_percentage": 10},   # 180
                  {"product": b, "qty": 3, "rate": 50},                               # 150
                  {"product": c, "qty": 1.5, "rate": 33.33, "discount_percentage": 5}],  # 47.495 -> 47.5
        "discount_amount": 27.5,
        "taxes": [{"description": "VAT", "rate": 9}, {"description": "Municipal", "rate": 1}]}).insert()
    assert [float(i.amount) for i in q.items] == [180.0, 150.0, 47.5]
    assert float(q.total) == 377.5
    # taxes on the total after the additional discount: 350
    assert [float(t.tax_amount) for t in q.taxes] == [31.5, 3.5]
    assert float(q.total_taxes) == 35.0
    assert float(q.grand_total) == 385.0
    stored = lowcode.get_doc("Quotation", q.name)
    assert (float(stored.total), float(stored.total_taxes), float(stored.grand_total)) == (377.5, 35.0, 385.0)
    assert [float(t.tax_amount) for t in stored.taxes] == [31.5, 3.5]


def test_quotation_totals_follow_edits(ctx):
    product = make_product(rate=1)
    q = make_quotation_simple(product, qty=1, rate=1000, taxes=[{"description": "VAT", "rate": 10}])
    assert float(q.grand_total) == 1100
    q.items[0].qty = 2
    q.discount_amount = 500
    q.save()
    assert (float(q.total), float(q.total_taxes), float(q.grand_total)) == (2000, 150, 1650)


def make_quotation_simple(product, qty=1, rate=None, **values):
    item = {"product": product, "qty": qty}
    if rate is not None:
        item["rate"] = rate
    return lowcode.get_doc(dict({"doctype": "Quotation", "party_name": make_customer().name, "items": [item]},
                                **values)).insert()


def test_additional_discount_above_the_total_is_refused(ctx):
    product = make_product(rate=100)
    with pytest.raises(ValidationError) as e:
        make_quotation_simple(product, qty=1, discount_amount=101)
    assert e.value.field == "discount_amount"


def test_quotation_needs_items(ctx):
    with pytest.raises(lowcode.MandatoryError) as e:
        lowcode.get_doc({"doctype": "Quotation", "party_name": make_customer().name, "items": []}).insert()
    assert e.value.field == "items"


# -- default rates ------------------------------------------------------------------------------

def test_default_rate_from_the_price_list(ctx):
    product = make_product(rate=500)
    price_list = _price_list()
    _item_price(product, price_list, 450)
    q = make_quotation_simple(product, qty=2, price_list=price_list)
    assert float(q.items[0].rate) == 450 and float(q.total) == 900
    assert q.items[0].description == f"Product {product}"


def test_default_rate_falls_back_to_the_standard_rate(ctx):
    product = make_product(rate=500)
    price_list = _price_list()
    _item_price(make_product(rate=1), price_list, 99)   # another product's price
    with_list = make_quotation_simple(product, qty=1, price_list=price_list)
    without_list = make_quotation_simple(product, qty=1)
    assert float(with_list.items[0].rate) == 500
    assert float(without_list.items[0].rate) == 500


def test_explicit_rate_wins_over_the_price_list(ctx):
    product = make_product(rate=500)
    price_list = _price_list()
    _item_price(product, price_list, 450)
    q = make_quotation_simple(product, qty=1, rate=420, price_list=price_list)
    assert float(q.items[0].rate) == 420


def test_latest_valid_item_price_is_used(ctx):
    product = make_product(rate=500)
    price_list = _price_list()
    _item_price(product, price_list, 400, valid_from="2020-01-01")
    _item_price(product, price_list, 430, valid_from="2024-01-01")
    q = make_quotation_simple(product, qty=1, price_list=price_list)
    assert float(q.items[0].rate) == 430


def test_expired_or_future_item_prices_are_not_used(ctx):
    """An Item Price applies between valid_from and valid_upto: one that ended
    yesterday, or starts next month, is not today's price."""
    product = make_product(rate=500)
    price_list = _price_list()
    _item_price(product, price_list, 450, valid_from="2020-01-01")
    _item_price(product, price_list, 300, valid_from=days_from_today(-30), valid_upto=days_from_today(-1))
    _item_price(product, price_list, 999, valid_from=days_from_today(30))
    q = make_quotation_simple(product, qty=1, price_list=price_list)
    assert float(q.items[0].rate) == 450, "an expired or not yet valid Item Price was used"


# -- validity -----------------------------------------------------------------------------------

def test_valid_till_defaults_from_crm_settings(ctx):
    product = make_product(rate=10)
    settings = lowcode.get_doc("CRM Settings")
    settings.quotation_validity_days = 10
    settings.save()
    q = make_quotation_simple(product, transaction_date="2025-02-25")
    assert str(q.valid_till) == "2025-03-07"


def test_valid_till_default_is_thirty_days(ctx):
    product = make_product(rate=10)
    settings = lowcode.get_doc("CRM Settings")
    assert int(settings.quotation_validity_days) == 30
    q = make_quotation_simple(product)
    assert str(q.transaction_date) == today()
    expected = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
    assert str(q.valid_till) == expected


def test_explicit_valid_till_is_kept(ctx):
    q = make_quotation_simple(make_product(rate=10), transaction_date="2025-01-01", valid_till="2025-01-05")
    assert str(q.valid_till) == "2025-01-05"


def test_valid_till_before_the_date_is_refused(ctx):
    with pytest.raises(ValidationError) as e:
        make_quotation_simple(make_product(rate=10), transaction_date="2025-01-10", valid_till="2025-01-09")
    assert e.value.field == "valid_till"
    assert "Valid Till" in e.value.message


# -- workflows by role --------------------------------------------------------------------------


def test_quotation_workflow(ctx, team):
    with as_user(team["user"]):
        q = make_quotation_simple(make_product_as_admin())
        assert q.status == "Draft"
        move(q, "Send", "Reject", "Revise")
        assert q.status == "Draft"
        move(q, "Send", "Accept")
        q.reload()
        q.terms = "changed"
        with pytest.raises(lowcode.PermissionError):
            q.save()


def make_product_as_admin():
    with as_user("Administrator"):
        return make_product(rate=10)
