"""How values look to a user and how their input is read back: Gregorian or Jalali
dates, Latin or Persian digits, numbers and currency per locale.

Stored values stay canonical (ISO dates, floats); only the desk converts."""
import datetime
import math

import jdatetime
import markupsafe
from babel.numbers import get_currency_precision
from django.utils import formats, numberformat, translation

from ..fields.base import ascii_digits
from ..utils import round_half_up

_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
RTL_LANGUAGES = ("fa", "he", "ar")
_NO_ISOLATES = dict.fromkeys(range(0x2066, 0x206A))  # LRI, RLI, FSI, PDI (see isolate)


class Prefs:
    """A user's display preferences (from their User record)."""
    __slots__ = ("lang", "calendar", "local_digits", "currency")

    def __init__(self, lang="en", calendar="Gregorian", local_digits=False, currency=""):
        self.lang = lang if lang in ("en", "fa", "he") else "en"
        self.calendar = calendar if calendar in ("Gregorian", "Jalali") else "Gregorian"
        self.local_digits = bool(local_digits)
        self.currency = currency or ""

    @property
    def rtl(self):
        return self.lang in RTL_LANGUAGES

    @property
    def jalali(self):
        return self.calendar == "Jalali"


def digits(text, prefs):
    text = str(text)
    return text.translate(_PERSIAN_DIGITS) if prefs.local_digits else text


def format_date(value, prefs):
    if not value:
        return ""
    try:
        d = datetime.date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)  # not a date (a form shown again with what was typed, and its error)
    if prefs.jalali:
        try:
            return digits(jdatetime.date.fromgregorian(date=d).strftime("%Y/%m/%d"), prefs)
        except ValueError:
            pass  # outside the Jalali years jdatetime knows (before 622 or after 9377): shown as ISO
    return digits(d.isoformat(), prefs)


def format_datetime(value, prefs):
    if not value:
        return ""
    text = str(value)
    return (format_date(text[:10], prefs) + " " + digits(text[11:16], prefs)).strip()


def number_format(prefs):
    """What the desk's scripts need to show numbers as format_number does (the page
    carries it: base.html's data-number-format): separators, the currency and its
    decimals, local digits. The scripts format with Intl.NumberFormat."""
    with translation.override(prefs.lang):
        return {"decimal": formats.get_format("DECIMAL_SEPARATOR"),
                "group": formats.get_format("THOUSAND_SEPARATOR") or ",",
                "currency": prefs.currency, "currency_precision": currency_precision(prefs.currency),
                "local_digits": prefs.local_digits}


def month_of(value, prefs):
    """The month a date falls in, in the user's calendar, as a sortable "YYYY-MM" key:
    "1405-09" for a Jalali user, "2026-12" otherwise; "" for no date. Figures "by month"
    group by it, so a Jalali user's months run from the 1st of the Jalali month."""
    if not value:
        return ""
    d = datetime.date.fromisoformat(str(value)[:10])
    if prefs.jalali:
        j = jdatetime.date.fromgregorian(date=d)
        return "%04d-%02d" % (j.year, j.month)
    return "%04d-%02d" % (d.year, d.month)


def month_label(key, prefs):
    """A month_of key as people read it: "آذر ۱۴۰۵", "Dec 2026"."""
    year, month = int(key[:4]), int(key[5:7])
    start = jdatetime.date(year, month, 1).togregorian() if prefs.jalali else datetime.date(year, month, 1)
    return period_label(start.isoformat(), "Monthly", prefs)


def period_label(value, interval, prefs):
    """A chart axis label for the period starting on ``value`` (ISO): its month and year
    for months and quarters ("آذر ۱۴۰۵", "Dec 2026"), its year for years, else the date;
    in the user's calendar and digits."""
    d = datetime.date.fromisoformat(str(value)[:10])
    if interval not in ("Monthly", "Quarterly", "Yearly"):
        return format_date(d, prefs)
    if prefs.jalali:
        j = jdatetime.date.fromgregorian(date=d)
        names = jdatetime.date.j_months_fa if prefs.lang == "fa" else jdatetime.date.j_months_en
        year, month = j.year, names[j.month - 1]
    else:
        from babel.dates import format_date as babel_date
        year, month = d.year, babel_date(d, "MMM", locale=prefs.lang)
    return digits(year if interval == "Yearly" else f"{month} {year}", prefs)


def format_number(value, prefs, decimals=None):
    if value is None or value == "":
        return ""
    if decimals is not None and _is_number(value):
        value = round_half_up(value, decimals)
    with translation.override(prefs.lang):
        # Group by thousands in every language (Django's Persian locale turns grouping
        # off), with the language's own separators.
        text = numberformat.format(value, formats.get_format("DECIMAL_SEPARATOR"), decimal_pos=decimals,
                                   grouping=3, thousand_sep=formats.get_format("THOUSAND_SEPARATOR") or ",",
                                   force_grouping=True, use_l10n=True)
    return digits(text, prefs)


_NUMBER_TYPES = ("Check", "Int", "Float", "Percent", "Currency", "Rating", "Duration")
#: most decimals a Float or Percent without its own precision is shown with
FLOAT_DECIMALS = 6


def currency_precision(currency):
    """Decimals an amount in ``currency`` is shown with: the currency's minor unit
    (CLDR's, through babel: 0 for the Rial, 2 for the dollar or shekel); the Toman
    (IRT, not an ISO code) has none either; 2 when no currency is set."""
    if not currency:
        return 2
    return 0 if currency.upper() == "IRT" else get_currency_precision(currency.upper())


def _decimals(value, df, default):
    """The field's own precision when it has one, else ``default``; ``default`` None
    means as many as the value needs (a quantity 2.0 is "2", 2.5 is "2.5")."""
    precision = df.get("precision")
    if precision not in (None, "") and str(precision).strip().isdigit():
        return int(precision)
    if default is not None:
        return default
    text = f"{float(value):.{FLOAT_DECIMALS}f}".rstrip("0")
    return len(text.partition(".")[2])


def _is_number(value):
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def format_value(value, df, prefs):
    """Display text for a field value (escaping is left to the template)."""
    ftype = df.get("fieldtype")
    if value is None or value == "":
        return ""
    if ftype == "Date":
        return format_date(value, prefs)
    if ftype == "Datetime" or df.get("fieldname") in ("creation", "modified"):
        return format_datetime(value, prefs)
    if ftype in _NUMBER_TYPES and not _is_number(value):
        return str(value)  # a form shown again with what was typed, and its error
    if ftype == "Check":
        return "✓" if int(value or 0) else ""
    if ftype == "Int":
        return format_number(value, prefs, 0)
    if ftype in ("Float", "Percent"):
        return format_number(value, prefs, _decimals(value, df, None)) + ("%" if ftype == "Percent" else "")
    if ftype == "Currency":
        amount = format_number(value, prefs, _decimals(value, df, currency_precision(prefs.currency)))
        return f"{amount} {prefs.currency}".strip()
    if ftype == "Rating":
        stars = round(float(value) * 5)
        return "★" * stars + "☆" * (5 - stars)
    if ftype == "Duration":
        seconds = int(float(value))
        return digits(f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}", prefs)
    if ftype == "Time":
        return digits(str(value)[:5], prefs)
    return str(value)


_INPUT_NUMBER_TYPES = ("Int", "Float", "Currency", "Percent", "Duration")


def input_value(value, df):
    """A value as a form's input holds it: a number canonical (ASCII, no grouping, read
    back as typed) and without a trailing ".0" (a quantity 2.0 is "2"), never rounded
    (repr: the shortest text that reads back as the same float); the rest as it is."""
    if value is None:
        return ""
    if df.get("fieldtype") in _INPUT_NUMBER_TYPES and not isinstance(value, bool) and _is_number(value):
        number = float(value)
        return str(int(number)) if number.is_integer() and abs(number) < 2 ** 53 else repr(number)
    return value


# -- right-to-left text: numbers keep their order ------------------------------------------------

#: the types whose text is a number, an amount, a date or a time: read left to right even
#: inside Persian or Hebrew text ("-4.7%" must not become "%4.7-")
_LTR_TYPES = ("Int", "Float", "Percent", "Currency", "Duration", "Date", "Datetime", "Time")


def isolate(text):
    """Plain text (a toast, a notification, a subject built in Python) with ``text`` as a
    left-to-right isolate (U+2066 ... U+2069), so a number, phone or amount keeps its
    order inside right-to-left text; empty stays empty."""
    text = "" if text is None else str(text)
    return f"\u2066{text}\u2069" if text else ""


def ltr_html(text):
    """HTML for ``text`` (escaped) in a left-to-right <bdi>: the template way of isolate()."""
    text = "" if text is None else str(text)
    return markupsafe.Markup('<bdi dir="ltr">%s</bdi>') % text if text else ""


def display_value(value, df, prefs):
    """format_value as desk HTML: numbers, amounts, percentages, dates and phone numbers
    isolated left to right (ltr_html); other text escaped as it is."""
    text = format_value(value, df, prefs)
    if df.get("fieldtype") in _LTR_TYPES or df.get("options") == "Phone" \
            or df.get("fieldname") in ("creation", "modified"):
        return ltr_html(text)
    return markupsafe.escape(text)


def date_placeholder(fieldtype, prefs):
    """The hint of a date (or datetime) input: the shape the user types, in their calendar."""
    text = digits("1405/01/01", prefs) if prefs.jalali else "YYYY-MM-DD"
    return text + (" " + digits("09:00", prefs) if fieldtype == "Datetime" else "")


def parse_date_input(text, prefs):
    """A date typed in the desk -> ISO. Jalali users type YYYY/MM/DD in their calendar;
    ISO input (YYYY-MM-DD) is always taken as Gregorian, as is YYYY/MM/DD from a
    Gregorian user."""
    text = ascii_digits((text or "").strip())
    if not text:
        return None
    try:
        y, m, d = (int(p) for p in text.replace("/", "-").split("-"))
        if prefs.jalali and "/" in text:
            return jdatetime.date(y, m, d).togregorian().isoformat()
        return datetime.date(y, m, d).isoformat()  # 2026/12/5 or 2026-12-5 typed by hand
    except (ValueError, OverflowError):
        return text  # not a date: the field's own check refuses it, by name


def parse_input(value, df, prefs):
    """Desk form input -> the value the field type coerces (ISO dates, ASCII digits)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.translate(_NO_ISOLATES)  # text copied from the desk may carry isolate marks
    ftype = df.get("fieldtype")
    if ftype == "Date":
        return parse_date_input(value, prefs)
    if ftype == "Datetime":
        text = ascii_digits(str(value).strip()).replace("T", " ")
        if not text:
            return None
        date_part, _, time_part = text.partition(" ")
        return f"{parse_date_input(date_part, prefs)} {time_part or '00:00'}".strip()
    if ftype in ("Int", "Float", "Currency", "Percent", "Duration", "Rating"):
        return ascii_digits(str(value)).replace("٬", "").replace(",", "").strip() or None
    return value
