"""Stock in one warehouse, kept simple and correct under cancel: every movement is a
Stock Ledger Entry (a signed quantity, the voucher that made it); cancelling the voucher
marks its entries cancelled; a product's stock level (``stock_qty`` on Product, a Custom
Field from fixtures/) is the sum of its entries that count, recomputed from the ledger
after every movement, never adjusted by increments."""
from collections import defaultdict

import lowcode
from lowcode.exceptions import ValidationError


def stock_level(product):
    rows = lowcode.db.sql("SELECT COALESCE(SUM(`actual_qty`), 0) FROM `tabStock Ledger Entry` "
                          "WHERE `product`=%s AND `is_cancelled`=0", (product,))
    return float(rows[0][0] or 0)


def _refresh(products):
    for product in sorted(set(products)):
        lowcode.db.sql("UPDATE `tabProduct` SET `stock_qty`=%s WHERE `name`=%s", (stock_level(product), product))


def _wanted(rows):
    wanted = defaultdict(float)
    for row in rows:
        wanted[row.product] += float(row.qty or 0)
    return wanted


def check_available(rows):
    """Before a voucher taking ``rows`` out is written: refused, naming the first row of
    a product that would fall below zero (its rows added up)."""
    wanted = _wanted(rows)
    for product in sorted(wanted):  # one order of locks: two vouchers never wait on each other
        lowcode.db.get_value("Product", product, "name", for_update=True)  # the level cannot move under us
    for row in rows:
        have = stock_level(row.product)
        if wanted[row.product] > have:
            raise ValidationError(f"Row {row.idx}: {wanted[row.product]:g} of {row.product} needed, "
                                  f"only {have:g} in stock", field="items")


def post(voucher, rows, sign):
    """The ledger entries of a submitted voucher: ``rows`` with product and qty, ``sign``
    +1 for stock coming in, -1 going out (checked by check_available before the submit)."""
    for row in rows:
        lowcode.get_doc({"doctype": "Stock Ledger Entry", "product": row.product, "posting_date": voucher.posting_date,
                         "actual_qty": sign * float(row.qty or 0), "voucher_type": voucher.doctype,
                         "voucher_no": voucher.name}).insert(ignore_permissions=True)
    _refresh(_wanted(rows))


def cancel(voucher):
    """The voucher's entries stop counting."""
    products = lowcode.db.sql("SELECT DISTINCT `product` FROM `tabStock Ledger Entry` WHERE `voucher_type`=%s "
                              "AND `voucher_no`=%s", (voucher.doctype, voucher.name), pluck=True)
    lowcode.db.sql("UPDATE `tabStock Ledger Entry` SET `is_cancelled`=1 WHERE `voucher_type`=%s AND `voucher_no`=%s",
                   (voucher.doctype, voucher.name))
    _refresh(products)


def keep_stock_qty(doc, method=None):
    """Product validate (doc_events): the stock level comes from the ledger only, whatever
    a form or REST client sends."""
    if doc.meta.has_field("stock_qty"):
        doc.stock_qty = 0 if doc.is_new() else stock_level(doc.name)
