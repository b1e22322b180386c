"""Small helpers shared across the engine (names, times, hashes)."""
import datetime
import decimal
import re
import secrets

_SCRUB_RE = re.compile(r"[^0-9a-zA-Z_]+")


def scrub(text):
    """'Sales Order Item' -> 'sales_order_item' (module and folder names)."""
    return _SCRUB_RE.sub("_", text.strip().lower().replace(" ", "_").replace("-", "_")).strip("_")


def route_for(doctype):
    """DocType name -> desk route: 'Sales Order' -> 'sales-order'."""
    return doctype.strip().lower().replace(" ", "-").replace("_", "-")


def now():
    return datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S.%f")


def now_datetime():
    return datetime.datetime.now()


def today():
    return datetime.date.today().isoformat()


def generate_hash(length=10):
    return secrets.token_hex((length + 1) // 2)[:length]


class Obj(dict):
    """A dict whose keys read as attributes; missing keys read as None (field
    definitions, flags)."""

    # dict's own methods, not Python functions calling them: field definitions are read
    # this way millions of times in a big import (a frame per read was 7% of its time).
    __getattr__ = dict.get
    __setattr__ = dict.__setitem__


def cint(value, default=0):
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return default


def as_list(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple, set)):
        return list(value)
    return [value]


def round_half_up(value, decimals):
    """``value`` rounded to ``decimals`` places, halves away from zero, on the float's
    exact value: what the browser's Intl.NumberFormat and toFixed do, so an amount the
    desk's scripts show live reads as the saved one (desk/formatting.py shows numbers
    with it; Django's numberformat alone would cut 1234.5 Rial to 1,234). A Decimal."""
    exact = value if isinstance(value, (int, float, decimal.Decimal)) else decimal.Decimal(str(value).strip())
    return _EXACT.quantize(decimal.Decimal(exact), decimal.Decimal(1).scaleb(-decimals))


#: room for any float's digits (about 10^308) when rounding it
_EXACT = decimal.Context(prec=400, rounding=decimal.ROUND_HALF_UP)
