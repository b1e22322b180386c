"""Line and document totals shared by Opportunity, Quotation and the selling app's
orders and invoices (items, additional discount, taxes: ``set_totals``), and the price a
product line starts with (also asked by the Quotation form, public/quotation_form.js,
which computes the same figures live: keep the two in step)."""
import datetime

import lowcode
from lowcode.context import local
from lowcode.exceptions import BadRequest, DoesNotExistError, PermissionError, ValidationError
from lowcode.permissions import role_access
from lowcode.utils import round_half_up, today

from crm_app.parties import settings


def round_money(value):
    """Two decimals, halves away from zero: as the form's script (toFixed) rounds."""
    return float(round_half_up(float(value or 0), 2))


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


def set_totals(doc, price_list=None, on=None):
    """A priced document's figures: its lines' amounts and ``total``, ``net_total`` (after
    the additional ``discount_amount``, before taxes), each tax row's ``tax_amount`` (its
    ``rate`` percent of the net total), ``total_taxes`` and ``grand_total`` (with taxes)."""
    net = set_item_amounts(doc, price_list, on)
    discount = float(doc.get("discount_amount") or 0)
    if discount > net:
        raise ValidationError(f"the additional discount {discount} exceeds the total {net}", field="discount_amount")
    base = net - discount
    doc.net_total = round_money(base)
    taxes = 0.0
    for tax in doc.get("taxes") or []:
        tax.tax_amount = round_money(base * float(tax.rate or 0) / 100)
        taxes += tax.tax_amount
    doc.total_taxes = round_money(taxes)
    doc.grand_total = round_money(base + taxes)


def _readable(doctype, name, fields=("name",)):
    """The record's fields if the user may read it (row rules applied in SQL); 403 when
    the user may read no record of the DocType, 404 when not this one."""
    if role_access(doctype, "read") is None:
        raise PermissionError(f"Not permitted to read {doctype}")
    rows = lowcode.get_list(doctype, fields=list(fields), filters=[["name", "=", name]], limit_page_length=1)
    if not rows:
        raise DoesNotExistError(f"{doctype} {name} not found")
    return rows[0]


@lowcode.whitelist(methods=["GET"])
def item_details(product: str = None, price_list: str = None, date: str = None):
    """What a quotation line starts with when its product is chosen: the rate from the
    price list (the default one when none is given) on the date (else the product's standard rate, as the save computes it:
    default_rate), its name as the description and its unit; for the user who may read
    the product and the price list. ``date``: ISO, or as the user's form shows it."""
    if not product:
        raise BadRequest("product is required", field="product")
    if date:
        # as the form holds it: ISO, or the Jalali user's YYYY/MM/DD (in their digits)
        from lowcode.desk.formatting import parse_date_input
        from lowcode.desk.render import prefs
        try:
            date = datetime.date.fromisoformat(parse_date_input(date, prefs())).isoformat()
        except ValueError:
            raise BadRequest(f"date {date!r} is not YYYY-MM-DD", field="date") from None
    item = _readable("Product", product, ("name", "product_name", "uom"))
    price_list = price_list or settings().default_price_list  # as Quotation.compute_totals
    if price_list:
        _readable("Price List", price_list)
    return {"rate": default_rate(product, price_list, date), "description": item["product_name"] or product,
            "uom": item["uom"]}
