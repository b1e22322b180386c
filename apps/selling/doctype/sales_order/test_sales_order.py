"""Sales Order: its totals are the quotation's (crm_app/totals.py), made over REST from an
accepted quotation by a salesperson, refused for a blocked customer and a delivery date
before the order."""
import pytest

import lowcode
from lowcode.exceptions import ValidationError
from lowcode.testing.http import body, ok, post_json, token

from crm_app.tests.helpers import as_user, make_user
from selling.tests.helpers import accepted_quotation, make_customer, make_product


def test_totals_as_a_quotation_computes_them(ctx):
    p = make_product(rate=40)
    # 5 x 40 = 200 less 5 % = 190; net 190 - 10 = 180; tax 10 % = 18; gross 198
    order = lowcode.get_doc({"doctype": "Sales Order", "customer": make_customer().name, "delivery_date": "2031-01-01",
                             "items": [{"product": p, "qty": 5, "discount_percentage": 5}], "discount_amount": 10,
                             "taxes": [{"description": "VAT", "rate": 10}]}).insert()
    assert (order.items[0].rate, order.total, order.net_total, order.total_taxes, order.grand_total) == (
        40, 190, 180, 18, 198)
    assert (order.status, order.per_billed) == ("Draft", 0)


def test_bad_dates_and_blocked_customers_are_refused(ctx):
    p = make_product()
    with pytest.raises(ValidationError) as err:
        lowcode.get_doc({"doctype": "Sales Order", "customer": make_customer().name, "transaction_date": "2031-02-01",
                         "delivery_date": "2031-01-01", "items": [{"product": p, "qty": 1}]}).insert()
    assert err.value.field == "delivery_date"
    blocked = make_customer(is_blocked=1, blocked_reason="unpaid bills").name
    with pytest.raises(ValidationError, match="unpaid bills"):
        lowcode.get_doc({"doctype": "Sales Order", "customer": blocked, "delivery_date": "2031-01-01",
                         "items": [{"product": p, "qty": 1}]}).insert()


def test_a_salesperson_makes_the_order_over_rest(ctx, client, unique):
    seller = make_user(unique, "seller", roles=("Sales User",))
    with as_user(seller):
        quotation = accepted_quotation(make_customer().name, [{"product": make_product(rate=70), "qty": 2}])
    headers = token(seller)
    lowcode.db.commit()
    data = ok(post_json(client, "/api/method/selling.doctype.sales_order.sales_order.make_sales_order",
                        {"source_name": quotation.name}, **headers))["message"]
    assert (data["quotation"], data["net_total"], data["owner"], data["docstatus"]) == (quotation.name, 140, seller, 0)
    r = post_json(client, "/api/method/frappe.client.submit",
                  {"doc": {"doctype": "Sales Order", "name": data["name"]}}, **headers)
    assert r.status_code == 200, r.content
    assert lowcode.db.get_value("Sales Order", data["name"], "status") == "To Bill"


def test_the_mapper_refuses_bad_and_repeated_requests(ctx, client, unique):
    seller = make_user(unique, "seller", roles=("Sales User",))
    with as_user(seller):
        quotation = accepted_quotation(make_customer().name, [{"product": make_product(), "qty": 1}])
    headers = token(seller)
    lowcode.db.commit()
    url = "/api/method/selling.doctype.sales_order.sales_order.make_sales_order"
    r = post_json(client, url, {"source_name": [1]}, **headers)
    assert r.status_code == 400 and "source_name" in body(r)["message"]
    assert post_json(client, url, {"source_name": f"QTN-none-{unique}"}, **headers).status_code == 404
    first = ok(post_json(client, url, {"source_name": quotation.name}, **headers))["message"]["name"]
    r = post_json(client, url, {"source_name": quotation.name}, **headers)
    assert r.status_code == 417 and first in body(r)["message"]
    lowcode.db.rollback()
    assert lowcode.get_count("Sales Order", filters={"quotation": quotation.name}) == 1
