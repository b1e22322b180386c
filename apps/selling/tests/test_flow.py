"""Quotation -> Sales Order -> Sales Invoice -> Payment Entry, with every figure
computed by hand: net (before tax), tax, gross (with tax), outstanding, the statuses on
the way, partial payments, an over-allocation refused, and cancels that give back stock
and outstanding amounts."""
import pytest

import lowcode
from lowcode.exceptions import ValidationError

from selling.tests.helpers import (accepted_quotation, field, invoice, invoice_from, make_customer, make_product,
                                   make_quotation, make_sales_order, order_from, payment, payment_for, receive,
                                   stock_qty)


def world():
    customer = make_customer().name
    a, b = make_product(rate=100), make_product(rate=250)
    receive(a, 10)
    receive(b, 5)
    # a: 3 x 100 = 300 less 10 % = 270; b: 2 x 250 = 500; total 770; less the additional
    # discount 20 = net 750; VAT 9 % of 750 = 67.50, levy 1 % = 7.50; gross 750 + 75 = 825
    quotation = accepted_quotation(customer, [{"product": a, "qty": 3, "discount_percentage": 10},
                                             {"product": b, "qty": 2}],
                                   discount_amount=20, taxes=[{"description": "VAT", "rate": 9},
                                                              {"description": "Levy", "rate": 1}])
    return customer, a, b, quotation


def test_the_whole_flow_with_figures_by_hand(ctx):
    customer, a, b, quotation = world()
    assert (quotation.net_total, quotation.grand_total) == (750, 825)
    order = order_from(quotation)
    assert (order.customer, order.quotation, order.status, order.docstatus) == (customer, quotation.name, "Draft", 0)
    assert [(i.product, i.qty, i.amount) for i in order.items] == [(a, 3, 270), (b, 2, 500)]
    assert (order.total, order.net_total, order.total_taxes, order.grand_total) == (770, 750, 75, 825)
    order.submit()
    assert (order.status, order.per_billed) == ("To Bill", 0)  # as submitted, and as stored:
    assert (field("Sales Order", order.name, "status"), field("Sales Order", order.name, "per_billed")) == (
        "To Bill", 0)

    inv = invoice_from(order)
    assert (inv.sales_order, inv.net_total, inv.grand_total, inv.status) == (order.name, 750, 825, "Draft")
    assert [t.tax_amount for t in inv.taxes] == [67.5, 7.5]
    assert (stock_qty(a), stock_qty(b)) == (10, 5)  # a draft moves no stock
    inv.submit()
    assert (field("Sales Invoice", inv.name, "status"), field("Sales Invoice", inv.name, "outstanding_amount")) == (
        "Unpaid", 825)
    assert (stock_qty(a), stock_qty(b)) == (7, 3)  # 10 - 3, 5 - 2
    assert (field("Sales Order", order.name, "status"), field("Sales Order", order.name, "per_billed")) == (
        "Completed", 100)

    first = payment(customer, 300, [(inv.name, 300)]).submit()
    assert (field("Sales Invoice", inv.name, "status"), field("Sales Invoice", inv.name, "outstanding_amount")) == (
        "Partly Paid", 525)  # 825 - 300
    second = payment_for(inv.name)  # the mapped payment takes what is left
    assert (second.paid_amount, [r.allocated_amount for r in second.references]) == (525, [525])
    second.submit()
    assert (field("Sales Invoice", inv.name, "status"), field("Sales Invoice", inv.name, "outstanding_amount")) == (
        "Paid", 0)

    # back out: the second payment, then the first, then the invoice (its goods return), then the order
    lowcode.get_doc("Payment Entry", second.name).cancel()
    assert (field("Sales Invoice", inv.name, "status"), field("Sales Invoice", inv.name, "outstanding_amount")) == (
        "Partly Paid", 525)
    with pytest.raises(ValidationError, match=first.name):  # still paid by the first payment
        lowcode.get_doc("Sales Invoice", inv.name).cancel()
    lowcode.get_doc("Payment Entry", first.name).cancel()
    assert field("Sales Invoice", inv.name, "outstanding_amount") == 825
    with pytest.raises(ValidationError, match=inv.name):  # the order is billed by the invoice
        lowcode.get_doc("Sales Order", order.name).cancel()
    lowcode.get_doc("Sales Invoice", inv.name).cancel()
    assert field("Sales Invoice", inv.name, "status") == "Cancelled"
    assert (stock_qty(a), stock_qty(b)) == (10, 5)
    assert (field("Sales Order", order.name, "status"), field("Sales Order", order.name, "per_billed")) == (
        "To Bill", 0)
    lowcode.get_doc("Sales Order", order.name).cancel()
    assert field("Sales Order", order.name, "status") == "Cancelled"


def test_only_an_accepted_quotation_becomes_an_order(ctx):
    customer = make_customer().name
    draft = make_quotation(customer, [{"product": make_product(), "qty": 1}])
    with pytest.raises(ValidationError, match="Draft") as err:
        make_sales_order(draft.name)
    assert err.value.field == "source_name"


def test_over_allocation_is_refused_naming_the_row(ctx):
    customer = make_customer().name
    p = make_product(rate=100)
    receive(p, 5)
    # one: 2 x 100 = 200, no tax; two: 1 x 100 = 100 + 9 % = 109
    one = invoice(customer, [{"product": p, "qty": 2}]).submit()
    two = invoice(customer, [{"product": p, "qty": 1}], taxes=[{"description": "VAT", "rate": 9}]).submit()
    assert (one.grand_total, two.grand_total) == (200, 109)
    with pytest.raises(ValidationError, match=f"Row 2: Sales Invoice {two.name}: allocated 110.0 is more than "
                                              f"its outstanding 109.0") as err:
        payment(customer, 400, [(one.name, 200), (two.name, 110)])
    assert err.value.field == "references"
    with pytest.raises(ValidationError, match="more than the 250.0 paid") as err:
        payment(customer, 250, [(one.name, 200), (two.name, 100)])
    assert err.value.field == "paid_amount"
    other = invoice(make_customer().name, [{"product": p, "qty": 1}]).submit()
    with pytest.raises(ValidationError, match="Row 1: .* another customer's"):
        payment(customer, 100, [(other.name, 100)])
    # paid in two: 150 then 159 = 309 = 200 + 109
    pay = payment(customer, 150, [(one.name, 150)]).submit()
    assert (field("Sales Invoice", one.name, "status"), pay.unallocated_amount) == ("Partly Paid", 0)
    payment(customer, 200, [(one.name, 50), (two.name, 109)]).submit()  # 41 left unallocated
    assert [field("Sales Invoice", n, "status") for n in (one.name, two.name)] == ["Paid", "Paid"]


def test_an_invoice_past_its_due_date_is_overdue(ctx):
    customer = make_customer().name
    p = make_product(rate=50)
    receive(p, 2)
    inv = invoice(customer, [{"product": p, "qty": 1}], posting_date="2020-01-01", due_date="2020-01-31").submit()
    assert field("Sales Invoice", inv.name, "status") == "Overdue"
    payment(customer, 20, [(inv.name, 20)]).submit()
    assert (field("Sales Invoice", inv.name, "status"), field("Sales Invoice", inv.name, "outstanding_amount")) == (
        "Overdue", 30)  # 50 - 20, still late
    payment(customer, 30, [(inv.name, 30)]).submit()
    assert field("Sales Invoice", inv.name, "status") == "Paid"


def test_an_order_is_billed_once(ctx):
    customer, a, b, quotation = world()
    order = order_from(quotation).submit()
    invoice_from(order).submit()
    with pytest.raises(ValidationError, match="already billed"):
        invoice_from(order)
    # an invoice naming the order by hand cannot bill more than the order's 750 either
    extra = invoice(customer, [{"product": a, "qty": 1}], sales_order=order.name)
    with pytest.raises(ValidationError, match="has 0.0 left to bill") as err:
        extra.submit()
    assert err.value.field == "sales_order"
