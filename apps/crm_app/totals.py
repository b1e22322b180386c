"""Line and document totals shared by Opportunity and Quotation."""
from lowcode.context import local


def round_money(value):
    return round(float(value or 0), 2)


def default_rate(product, price_list=None):
    if price_list:
        rows = local.db.sql("SELECT `rate` FROM `tabItem Price` WHERE `product`=%s AND `price_list`=%s "
                            "ORDER BY `valid_from` DESC LIMIT 1", (product, price_list))
        if rows:
            return float(rows[0][0])
    return float(local.db.get_value("Product", product, "standard_rate") or 0)


def set_item_amounts(doc, price_list=None):
    total = 0.0
    for item in doc.get("items") or []:
        if item.rate in (None, "") and item.product:
            item.rate = default_rate(item.product, price_list)
        if not item.description and item.product:
            item.description = local.db.get_value("Product", item.product, "product_name")
        gross = float(item.qty or 0) * float(item.rate or 0)
        item.amount = round_money(gross * (1 - float(item.discount_percentage or 0) / 100))
        total += item.amount
    doc.total = round_money(total)
    return doc.total
