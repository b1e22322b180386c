"""The selling app in the desk: the next document of the flow from a form's button
(shown to the roles that make it), the Product form's stock level, and the Selling
workspace on the home page in the user's language."""
import re

import lowcode
from lowcode.testing.http import login

from crm_app.tests.helpers import as_user, make_user
from selling.tests.helpers import accepted_quotation, invoice, make_customer, make_product, receive, stock_qty


def action_index(html, label):
    found = re.search(r'name="_action" value="app:(\d+)"[^>]*>' + re.escape(label) + "<", html)
    return found and found.group(1)


def test_make_the_order_and_the_invoice_from_the_forms(ctx, client, unique):
    seller = make_user(unique, "seller", roles=("Sales User",))
    accountant = make_user(unique, "acc", roles=("Accounts User",))
    p = make_product(rate=30)
    with as_user(seller):
        quotation = accepted_quotation(make_customer().name, [{"product": p, "qty": 2}])
    csrf = login(ctx, client, seller)
    index = action_index(client.get(f"/app/quotation/{quotation.name}").content.decode(), "Make sales order")
    assert index is not None
    r = client.post(f"/app/quotation/{quotation.name}", {"csrf_token": csrf, "_action": f"app:{index}"})
    assert r.status_code == 302
    order = lowcode.get_all("Sales Order", filters={"quotation": quotation.name}, pluck="name")[0]
    assert r["Location"].startswith(f"/app/sales-order/{order}")
    ctx.db.rollback()
    lowcode.get_doc("Sales Order", order).submit()
    # the salesperson may not bill: no button; the accountant has it
    login(ctx, client, seller)
    assert action_index(client.get(f"/app/sales-order/{order}").content.decode(), "Make sales invoice") is None
    csrf = login(ctx, client, accountant)
    html = client.get(f"/app/sales-order/{order}").content.decode()
    index = action_index(html, "Make sales invoice")
    r = client.post(f"/app/sales-order/{order}", {"csrf_token": csrf, "_action": f"app:{index}"})
    assert r.status_code == 302
    ctx.db.rollback()
    inv = lowcode.get_all("Sales Invoice", filters={"sales_order": order}, fields=["name", "net_total", "owner"])[0]
    assert (inv["net_total"], inv["owner"]) == (60, accountant)  # 2 x 30
    assert r["Location"].startswith(f"/app/sales-invoice/{inv['name']}")


def test_the_product_form_shows_its_stock(ctx, client, unique):
    p = make_product()
    receive(p, 42)
    login(ctx, client, "Administrator")
    html = client.get(f"/app/product/{p}").content.decode()
    assert re.search(r'id="f-stock_qty"[^>]*data-readonly><bdi dir="ltr">42</bdi>', html)  # shown, not editable


def test_the_selling_workspace_in_persian(ctx, client, unique):
    accountant = make_user(unique, "acc", roles=("Accounts User",))
    lowcode.db.set_value("User", accountant, "language", "fa")
    seller = make_user(unique, "seller", roles=("Sales User",))
    invoice(make_customer().name, [{"product": make_product(), "qty": 1}])
    login(ctx, client, accountant)
    html = client.get("/app").content.decode()
    section = html[html.index('data-workspace="Selling"'):]
    section = section[:section.index("</section>")]
    assert "فروش و انبار" in section and "صورت‌حساب‌های فروش" in section and "/app/sales-invoice" in section
    assert "/app/stock-entry" not in section  # not theirs
    login(ctx, client, seller)
    html = client.get("/app").content.decode()
    section = html[html.index('data-workspace="Selling"'):]
    section = section[:section.index("</section>")]
    assert "/app/sales-order" in section and "/app/sales-invoice" not in section


def test_submit_an_invoice_and_its_payment_in_the_desk(ctx, client, unique):
    accountant = make_user(unique, "acc", roles=("Accounts User",))
    p = make_product(rate=25)
    receive(p, 1)
    one, two = make_customer().name, make_customer().name
    with as_user(accountant):
        short = invoice(one, [{"product": p, "qty": 2}])
        inv = invoice(two, [{"product": p, "qty": 1}])
    csrf = login(ctx, client, accountant)
    r = client.post(f"/app/sales-invoice/{short.name}", {"csrf_token": csrf, "_action": "submit",
                                                         "modified": str(short.modified)})
    assert r.status_code == 417 and f"Row 1: 2 of {p} needed, only 1 in stock" in r.content.decode()
    html = client.get(f"/app/sales-invoice/{inv.name}").content.decode()
    assert 'value="submit"' in html
    r = client.post(f"/app/sales-invoice/{inv.name}", {"csrf_token": csrf, "_action": "submit",
                                                       "modified": str(inv.modified)})
    assert r.status_code == 302, r.content.decode()[:500]
    ctx.db.rollback()
    assert (lowcode.db.get_value("Sales Invoice", inv.name, "status"), stock_qty(p)) == ("Unpaid", 0)
    html = client.get(f"/app/sales-invoice/{inv.name}").content.decode()
    r = client.post(f"/app/sales-invoice/{inv.name}", {"csrf_token": csrf,
                                                       "_action": f"app:{action_index(html, 'Make payment')}"})
    payment = r["Location"].split("/app/payment-entry/")[1].split("?")[0]
    ctx.db.rollback()
    modified = lowcode.db.get_value("Payment Entry", payment, "modified")
    r = client.post(f"/app/payment-entry/{payment}", {"csrf_token": csrf, "_action": "submit",
                                                      "modified": str(modified)})
    assert r.status_code == 302, r.content.decode()[:500]
    ctx.db.rollback()
    assert lowcode.db.get_value("Sales Invoice", inv.name, ["status", "outstanding_amount"]) == ("Paid", 0)
