"""Stock Entry: receipts and issues move the product's stock level; cancelling gives
it back; an issue beyond the stock is refused."""
import pytest

import lowcode
from lowcode.exceptions import ValidationError

from selling.tests.helpers import make_product, receive, stock_qty


def issue(product, qty):
    return lowcode.get_doc({"doctype": "Stock Entry", "purpose": "Material Issue",
                            "items": [{"product": product, "qty": qty}]}).insert()


def test_receipts_issues_and_cancels(ctx):
    p = make_product()
    first = receive(p, 10)
    receive(p, 2.5)
    out = issue(p, 4).submit()
    assert stock_qty(p) == 8.5  # 10 + 2.5 - 4
    out.cancel()
    assert stock_qty(p) == 12.5
    first.cancel()
    assert stock_qty(p) == 2.5
    with pytest.raises(ValidationError, match=f"Row 1: 3 of {p} needed, only 2.5 in stock"):
        issue(p, 3).submit()
    assert stock_qty(p) == 2.5
