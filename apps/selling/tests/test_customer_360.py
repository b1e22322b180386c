"""Purchases in the customer's 360° view (crm_app reads the customer_360_sections hook):
the submitted invoices with their lines, revenue net of tax, the invoiced total with
tax and what is outstanding, by hand; shown to who may read invoices, to nobody else."""
import lowcode

from crm_app.customer_360 import get_customer_360
from crm_app.tests.helpers import as_user, make_user
from lowcode.tests.desk_helpers import login
from selling.tests.helpers import invoice, make_customer, make_product, payment, receive


def world():
    customer = make_customer().name
    a, b = make_product(rate=100), make_product(rate=40)
    receive(a, 10)
    receive(b, 10)
    vat = [{"description": "VAT", "rate": 10}]
    # first: 2 x 100 = 200 net, 10 % VAT = 20, gross 220; paid 120, 100 outstanding
    first = invoice(customer, [{"product": a, "qty": 2}], taxes=vat, posting_date="2031-01-10").submit()
    payment(customer, 120, [(first.name, 120)]).submit()
    # second: 1 x 100 + 3 x 40 = 220 net, no tax, gross 220, all outstanding
    second = invoice(customer, [{"product": a, "qty": 1}, {"product": b, "qty": 3}], posting_date="2031-02-10").submit()
    invoice(customer, [{"product": a, "qty": 5}])  # a draft: no purchase
    invoice(customer, [{"product": b, "qty": 1}]).submit().cancel()  # cancelled: no purchase
    invoice(make_customer().name, [{"product": b, "qty": 1}]).submit()  # another customer's
    return customer, a, b, first.name, second.name


def section(customer):
    sections = [s for s in get_customer_360(customer)["sections"] if s["key"] == "purchases"]
    return sections[0] if sections else None


def test_purchase_history_and_figures_by_hand(ctx, unique):
    customer, a, b, first, second = world()
    manager = make_user(unique, "manager", roles=("Sales Manager", "Accounts Manager"))
    with as_user(manager):
        purchases = section(customer)
    assert [r["name"] for r in purchases["rows"]] == [second, first]  # newest first
    rows = {r["name"]: r for r in purchases["rows"]}
    assert rows[second]["items"] == f"{a} × 1, {b} × 3"
    assert (rows[first]["status"], rows[first]["net_total"], rows[first]["grand_total"],
            rows[first]["outstanding_amount"]) == ("Partly Paid", 200, 220, 100)
    figures = {f["key"]: f["value"] for f in purchases["figures"]}
    # net 200 + 220 = 420; gross 220 + 220 = 440; outstanding 100 + 220 = 320
    assert figures == {"revenue_net": 420, "invoiced_gross": 440, "outstanding": 320, "invoices": 2}


def test_no_section_without_invoice_read(ctx, unique):
    customer, a, b, first, second = world()
    for roles in (("Sales User",), ("Sales Manager",)):
        user = make_user(unique, "crm", roles=roles)
        with as_user(user):
            assert get_customer_360(customer)["customer"]["name"] == customer  # the view itself shows
            assert section(customer) is None


def test_the_360_page_shows_purchases_to_accounts_only(ctx, client, unique):
    customer, a, b, first, second = world()
    accountant = make_user(unique, "acc", roles=("Sales User", "Accounts User"))
    seller = make_user(unique, "seller", roles=("Sales User",))
    lowcode.db.commit()
    login(ctx, client, accountant)
    html = client.get(f"/app/customer-360/{customer}").content.decode()
    assert 'id="section-purchases"' in html and f'data-name="{first}"' in html and 'data-figure="revenue_net"' in html
    login(ctx, client, seller)
    r = client.get(f"/app/customer-360/{customer}")
    assert r.status_code == 200 and 'id="section-purchases"' not in r.content.decode()
    assert first not in r.content.decode()
