"""Stock Ledger Entry: one signed row per movement, marked cancelled with its voucher;
the Product's stock level follows the ledger whatever a client writes into it."""
import lowcode

from selling.tests.helpers import make_product, receive, stock_qty


def test_ledger_rows_and_the_product_level(ctx):
    p = make_product()
    entry = receive(p, 7)
    rows = lowcode.get_all("Stock Ledger Entry", fields=["actual_qty", "voucher_type", "voucher_no", "is_cancelled"],
                           filters={"product": p})
    assert rows == [{"actual_qty": 7, "voucher_type": "Stock Entry", "voucher_no": entry.name, "is_cancelled": 0}]
    product = lowcode.get_doc("Product", p)
    product.stock_qty = 1000  # a client cannot set it
    product.save()
    assert stock_qty(p) == 7
    entry.cancel()
    assert lowcode.get_all("Stock Ledger Entry", fields=["is_cancelled"], filters={"product": p}) == [
        {"is_cancelled": 1}]
    assert stock_qty(p) == 0
