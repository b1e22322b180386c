"""Line and document totals shared by Opportunity and Quotation."""
from lowcode.context import local
from lowcode.utils import today


def round_money(value):
    return round(float(value or 0), 2)


def default_rate(product, price_list=None, on=None):
    """The product's price on a date: the price list's price valid then, else the
    product's standard rate."""
    if price_list:
        on = on or today()
        rows = local.db.sql("SELECT `rate` FROM `tabItem Price` WHERE `product`=%s AND `price_list`=%s "
                            "AND (`valid_from` IS NULL OR `valid_from` <= %s) AND (`valid_upto` IS NULL OR "
                            "`valid_upto` >= %s) ORDER BY `valid_from` DESC LIMIT 1", (product, price_list, on, on))
        if rows:
            return float(rows[0][0])
    return float(local.db.get_value("Product", product, "standard_rate") or 0)


def set_item_amounts(doc, price_list=None, on=None):
    total = 0.0
    for item in doc.get("items") or []:
        if item.rate in (None, "") and item.product:
            item.rate = default_rate(item.product, price_list, on)
        if not item.description and item.product:
            item.description = local.db.get_value("Product", item.product, "product_name")
        gross = float(item.qty or 0) * float(item.rate or 0)
        item.amount = round_money(gross * (1 - float(item.discount_percentage or 0) / 100))
        total += item.amount
    doc.total = round_money(total)
    return doc.total
