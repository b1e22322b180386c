"""Quotation entry in the desk: the price a chosen product brings (GET
crm_app.totals.item_details: the price list's Item Price on the date, else the product's
standard rate; only for who may read the product), the form's live-totals script on the
page with the number format it needs, computed cells shown formatted, and amounts rounded
as the browser rounds them (halves away from zero) both when saved and when shown. The
live figures themselves are compared with the saved document in the browser test
(tests/e2e/test_quotation_e2e.py)."""
import pytest

import lowcode
from lowcode.desk.formatting import Prefs, format_value, number_format
from lowcode.tests.desk_helpers import login
from lowcode.utils import round_half_up

from crm_app.tests.helpers import body, make_customer, make_product, make_user, ok, refresh, tag, token

URL = "/api/method/crm_app.totals.item_details"


def _price_list():
    return lowcode.get_doc({"doctype": "Price List", "price_list_name": f"PL {tag()}"}).insert().name


def test_a_product_brings_its_price_list_rate_else_its_standard_rate(ctx, client, unique):
    product = make_product(rate=700, uom="Box")
    other = make_product(rate=55)
    price_list = _price_list()
    lowcode.get_doc({"doctype": "Item Price", "product": product, "price_list": price_list, "rate": 1250,
                     "valid_from": "2026-01-01"}).insert()
    auth = token(make_user(unique, "seller"))
    refresh(ctx)
    got = ok(client.get(URL, {"product": product, "price_list": price_list, "date": "2026-02-01"}, **auth))["message"]
    assert got == {"rate": 1250.0, "description": f"Product {product}", "uom": "Box"}
    # before the price is valid, and on a product without one: the standard rate
    assert ok(client.get(URL, {"product": product, "price_list": price_list, "date": "2025-12-31"},
                         **auth))["message"]["rate"] == 700.0
    assert ok(client.get(URL, {"product": other, "price_list": price_list}, **auth))["message"]["rate"] == 55.0


def test_item_details_refuses_bad_input_and_unreadable_records(ctx, client, unique):
    product = make_product(rate=10)
    seller, outsider = token(make_user(unique, "seller")), token(make_user(unique, "outsider", roles=("Support Agent",)))
    refresh(ctx)
    response = client.get(URL, {}, **seller)
    assert response.status_code == 400 and "product" in body(response)["message"]
    response = client.get(URL, {"product": product, "date": "someday"}, **seller)
    assert response.status_code == 400 and "date" in body(response)["message"]
    assert client.get(URL, {"product": "NO-SUCH-PRODUCT"}, **seller).status_code == 404
    assert client.get(URL, {"product": product, "price_list": "No such list"}, **seller).status_code == 404
    assert client.get(URL, {"product": product}, **outsider).status_code == 403
    assert client.get(URL, {"product": product}).status_code == 403  # a guest
    assert client.post(URL, {"product": product}, **seller).status_code in (403, 405)  # GET only


def test_the_quotation_form_carries_its_script_and_the_number_format(ctx, client, unique):
    product = make_product(rate=100)
    q = lowcode.get_doc({"doctype": "Quotation", "party_name": make_customer().name,
                         "items": [{"product": product, "qty": 3, "rate": 1234.5}]}).insert()
    login(ctx, client, "Administrator")
    html = client.get(f"/app/quotation/{q.name}").content.decode()
    assert "crm_app/quotation_form.js" in html
    assert "data-number-format='{" in html and '"currency_precision":' in html
    # the line's amount: posted as it is, shown formatted
    assert f'name="items-1-amount" value="3703.5"' in html
    assert 'data-for="items-1-amount"><bdi dir="ltr">3,703.5' in html
    lead_form = client.get("/app/lead/new").content.decode()
    assert "quotation_form.js" not in lead_form


@pytest.mark.parametrize("value,decimals,shown", [(1.005, 2, "1.00"), (0.125, 2, "0.13"), (-2.5, 0, "-3"),
                                                  (1234.5, 0, "1235"), (2.675, 2, "2.67")])
def test_rounding_is_the_browsers(value, decimals, shown):
    """As JavaScript's toFixed and Intl.NumberFormat: halves away from zero on the float's
    exact value (1.005 is a little less than 1.005)."""
    assert str(round_half_up(value, decimals)) == shown


def test_amounts_show_rounded_not_cut():
    assert format_value(1234.5, {"fieldtype": "Currency"}, Prefs("fa", currency="IRR")) == "1,235 IRR"
    assert format_value(0.125, {"fieldtype": "Currency"}, Prefs("en", currency="USD")) == "0.13 USD"
    assert number_format(Prefs("fa", local_digits=True, currency="IRR")) == {
        "decimal": ".", "group": ",", "currency": "IRR", "currency_precision": 0, "local_digits": True}
