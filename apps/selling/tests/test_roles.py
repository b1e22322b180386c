"""Roles separate the selling app's users from the CRM's in one desk (as ERPNext's):
Sales User makes orders, Accounts User invoices and payments, Stock User stock entries.
Each tried over REST with API tokens as the low role that should be refused: a CRM
salesperson reads no invoice (not the list, not one by name, not through a mapper),
and nobody writes the stock ledger."""
import json

import lowcode
from lowcode.testing.http import body, post_json, token

from crm_app.tests.helpers import make_user, refresh
from selling.tests.helpers import invoice, make_customer, make_product, receive

PE = "/api/method/selling.doctype.sales_invoice.sales_invoice.make_payment_entry"


def world(unique):
    customer = make_customer().name
    p = make_product(rate=10)
    receive(p, 3)
    inv = invoice(customer, [{"product": p, "qty": 1}]).submit()
    order = lowcode.get_doc({"doctype": "Sales Order", "customer": customer, "delivery_date": "2031-01-01",
                             "items": [{"product": p, "qty": 1}]}).insert()
    users = {role: make_user(unique, role.split()[0].lower(), roles=(role,))
             for role in ("Sales User", "Accounts User", "Stock User")}
    return customer, p, inv.name, order.name, users


def status(client, method, url, headers, payload=None):
    if method == "GET":
        return client.get(url, **headers).status_code
    if method == "PUT":
        return client.put(url, data=json.dumps(payload), content_type="application/json", **headers).status_code
    return post_json(client, url, payload or {}, **headers).status_code


def test_each_role_does_its_part_only(ctx, client, unique):
    customer, product, inv, order, users = world(unique)
    tokens = {role: token(user) for role, user in users.items()}
    refresh(ctx)
    new_invoice = {"customer": customer, "items": [{"product": product, "qty": 1}]}
    new_order = {"customer": customer, "delivery_date": "2031-01-01", "items": [{"product": product, "qty": 1}]}
    new_stock = {"purpose": "Material Receipt", "items": [{"product": product, "qty": 1}]}
    new_payment = {"party": customer, "paid_amount": 1, "references": [{"sales_invoice": inv, "allocated_amount": 1}]}
    cases = [  # (role, method, url, payload, expected status)
        ("Sales User", "GET", "/api/resource/Sales Invoice", None, 403),
        ("Sales User", "GET", f"/api/resource/Sales Invoice/{inv}", None, 403),
        ("Sales User", "POST", "/api/resource/Sales Invoice", new_invoice, 403),
        ("Sales User", "POST", "/api/resource/Payment Entry", new_payment, 403),
        ("Sales User", "POST", PE, {"source_name": inv}, 403),
        ("Sales User", "GET", "/api/resource/Stock Ledger Entry", None, 403),
        ("Sales User", "POST", "/api/resource/Stock Entry", new_stock, 403),
        ("Sales User", "GET", "/api/resource/Sales Order", None, 200),
        ("Sales User", "POST", "/api/resource/Sales Order", new_order, 200),
        ("Accounts User", "GET", f"/api/resource/Sales Invoice/{inv}", None, 200),
        ("Accounts User", "POST", "/api/resource/Sales Invoice", new_invoice, 200),
        # a submitted invoice's money moves only through payments
        ("Accounts User", "PUT", f"/api/resource/Sales Invoice/{inv}", {"outstanding_amount": 0}, 417),
        ("Accounts User", "POST", "/api/resource/Payment Entry", new_payment, 200),
        ("Accounts User", "GET", f"/api/resource/Sales Order/{order}", None, 200),
        ("Accounts User", "PUT", f"/api/resource/Sales Order/{order}", {"delivery_date": "2031-02-01"}, 403),
        ("Accounts User", "POST", "/api/resource/Stock Entry", new_stock, 403),
        # what an invoice's form links to: customers, products, price lists (read only)
        ("Accounts User", "GET", f"/api/resource/Customer/{customer}", None, 200),
        ("Accounts User", "GET", f"/api/resource/Product/{product}", None, 200),
        ("Accounts User", "GET", "/api/resource/Price List", None, 200),
        ("Accounts User", "PUT", f"/api/resource/Product/{product}", {"standard_rate": 1}, 403),
        ("Stock User", "GET", f"/api/resource/Product/{product}", None, 200),
        ("Stock User", "POST", "/api/resource/Stock Entry", new_stock, 200),
        ("Stock User", "GET", "/api/resource/Stock Ledger Entry", None, 200),
        ("Stock User", "POST", "/api/resource/Stock Ledger Entry",
         {"product": product, "posting_date": "2031-01-01", "actual_qty": 99, "voucher_type": "Stock Entry",
          "voucher_no": "x"}, 403),
        ("Stock User", "GET", "/api/resource/Sales Invoice", None, 403),
        ("Stock User", "POST", "/api/resource/Payment Entry", new_payment, 403),
    ]
    wrong = [f"{role} {method} {url}: {got} (want {want})" for role, method, url, payload, want in cases
             if (got := status(client, method, url, tokens[role], payload)) != want]
    assert not wrong, "\n".join(wrong)
    refused = client.get(f"/api/resource/Sales Invoice/{inv}", **tokens["Sales User"])
    assert body(refused)["exc_type"] == "PermissionError"


def test_a_salesperson_given_the_accounts_role_reads_invoices(ctx, client, unique):
    customer, product, inv, order, users = world(unique)
    both = make_user(unique, "both", roles=("Sales User", "Accounts User"))
    headers = token(both)
    refresh(ctx)
    names = [r["name"] for r in body(client.get(
        "/api/resource/Sales Invoice?filters=" + json.dumps([["customer", "=", customer]]), **headers))["data"]]
    assert names == [inv]
