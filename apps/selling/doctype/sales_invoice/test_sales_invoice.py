"""Sales Invoice: the status rule by hand, the due date, stock taken out on submit and
refused when short (naming the row), and the daily Overdue sweep."""
import pytest

import lowcode
from lowcode.exceptions import ValidationError

from selling.doctype.sales_invoice.sales_invoice import invoice_status, mark_overdue
from selling.tests.helpers import field, invoice, make_customer, make_product, receive, stock_qty


def test_status_rule():
    assert invoice_status(0, 100, 100, None) == "Draft"
    assert invoice_status(2, 100, 100, None) == "Cancelled"
    assert invoice_status(1, 100, 0, "2020-01-01") == "Paid"
    assert invoice_status(1, 100, 100, "2031-01-01", on="2030-12-31") == "Unpaid"
    assert invoice_status(1, 100, 40, "2031-01-01", on="2030-12-31") == "Partly Paid"
    assert invoice_status(1, 100, 40, "2031-01-01", on="2031-01-02") == "Overdue"


def test_due_date_defaults_to_the_posting_date_and_may_not_precede_it(ctx):
    p = make_product()
    inv = invoice(make_customer().name, [{"product": p, "qty": 1}], posting_date="2031-03-01")
    assert (inv.due_date, inv.outstanding_amount, inv.status) == ("2031-03-01", 100, "Draft")
    with pytest.raises(ValidationError) as err:
        invoice(make_customer().name, [{"product": p, "qty": 1}], posting_date="2031-03-01", due_date="2031-02-01")
    assert err.value.field == "due_date"


def test_stock_goes_out_on_submit_and_a_shortage_names_the_row(ctx):
    a, b = make_product(), make_product()
    receive(a, 4)
    receive(b, 1)
    short = invoice(make_customer().name, [{"product": a, "qty": 2}, {"product": b, "qty": 1},
                                           {"product": b, "qty": 1}])  # b: 2 wanted, 1 in stock
    with pytest.raises(ValidationError, match=f"Row 2: 2 of {b} needed, only 1 in stock") as err:
        short.submit()
    assert err.value.field == "items"
    assert (stock_qty(a), stock_qty(b)) == (4, 1)  # nothing moved
    assert lowcode.db.get_value("Sales Invoice", short.name, "docstatus") == 0
    inv = invoice(make_customer().name, [{"product": a, "qty": 3}]).submit()
    assert stock_qty(a) == 1  # 4 - 3
    inv.cancel()
    assert stock_qty(a) == 4


def test_daily_sweep_marks_late_invoices_overdue(ctx):
    p = make_product()
    receive(p, 1)
    inv = invoice(make_customer().name, [{"product": p, "qty": 1}]).submit()
    assert field("Sales Invoice", inv.name, "status") == "Unpaid"
    lowcode.db.sql("UPDATE `tabSales Invoice` SET `due_date`='2020-01-01' WHERE `name`=%s", (inv.name,))
    mark_overdue()
    assert field("Sales Invoice", inv.name, "status") == "Overdue"
