"""Payment Entry: allocations and what is left unallocated, checked again when it is
submitted (another payment may have paid the invoice since the draft was saved), and a
payment against a draft invoice refused."""
import pytest

from lowcode.exceptions import ValidationError

from selling.tests.helpers import field, invoice, make_customer, make_product, payment, receive


def test_allocations_are_checked_again_on_submit(ctx):
    customer = make_customer().name
    p = make_product(rate=80)
    receive(p, 1)
    inv = invoice(customer, [{"product": p, "qty": 1}]).submit()
    draft = payment(customer, 100, [(inv.name, 60)])
    assert (draft.total_allocated_amount, draft.unallocated_amount, draft.references[0].outstanding_amount) == (
        60, 40, 80)  # 100 paid - 60 allocated; the invoice owes 80
    payment(customer, 50, [(inv.name, 50)]).submit()  # 80 - 50 = 30 left
    with pytest.raises(ValidationError, match="allocated 60.0 is more than its outstanding 30.0"):
        draft.submit()
    assert field("Sales Invoice", inv.name, "outstanding_amount") == 30


def test_a_draft_invoice_cannot_be_paid(ctx):
    customer = make_customer().name
    inv = invoice(customer, [{"product": make_product(), "qty": 1}])
    with pytest.raises(ValidationError, match="is not submitted") as err:
        payment(customer, 100, [(inv.name, 100)])
    assert err.value.field == "references"


def test_a_payment_of_nothing_is_refused(ctx):
    with pytest.raises(ValidationError, match="more than 0") as err:
        payment(make_customer().name, 0, [])
    assert err.value.field == "paid_amount"
