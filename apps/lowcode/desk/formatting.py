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
    if decimals is not None and is_number(value):
        value = round_half_up(value, decimals)
    with translation.override(prefs.lang):
        # Group by thousands in every language (Django's Persian locale turns grouping
        # off), with the language's own separators.
        text = numberformat.format(value, formats.get_format("DECIMAL_SEPARATOR"), decimal_pos=decimals,
                                   grouping=3, thousand_sep=formats.get_format("THOUSAND_SEPARATOR") or ",",
                                   force_grouping=True, use_l10n=True)
    return digits(text, prefs)


#: most decimals a Float or Percent without its own precision is shown with
FLOAT_DECIMALS = 6


def currency_precision(currency):
    """Decimals an amount in ``currency`` is shown with: the currency's minor unit
    (CLDR's, through babel: 0 for the Rial, 2 for the dollar or shekel); the Toman
    (IRT, not an ISO code) has none either; 2 when no currency is set."""
    if not currency:
        return 2
    return 0 if currency.upper() == "IRT" else get_currency_precision(currency.upper())


def decimals(value, df, default):
    """The field's own precision when it has one, else ``default``; ``default`` None
    means as many as the value needs (a quantity 2.0 is "2", 2.5 is "2.5")."""
    precision = df.get("precision")
    if precision not in (None, "") and str(precision).strip().isdigit():
        return int(precision)
    if default is not None:
        return default
    text = f"{float(value):.{FLOAT_DECIMALS}f}".rstrip("0")
    return len(text.partition(".")[2])


def is_number(value):
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _fieldtype(df):
    from ..fields import get_fieldtype
    return get_fieldtype(df.get("fieldtype")) or get_fieldtype("Data")


def format_value(value, df, prefs):
    """Display text for a field value (escaping is left to the template): the field
    type's ``format``."""
    if value is None or value == "":
        return ""
    if df.get("fieldname") in ("creation", "modified"):
        return format_datetime(value, prefs)
    return _fieldtype(df).format(value, df, prefs)


def input_value(value, df):
    """A value as a form's input holds it (the field type's ``input_value``: a number
    canonical, 2 and not 2.0); the rest as it is."""
    if value is None:
        return ""
    return _fieldtype(df).input_value(value, df)


# -- right-to-left text: numbers keep their order ------------------------------------------------

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
    """format_value as desk HTML (the field type's ``display``): numbers, amounts,
    percentages, dates and phone numbers isolated left to right (ltr_html); other text
    escaped as it is."""
    if value is None or value == "":
        return markupsafe.escape("")
    if df.get("fieldname") in ("creation", "modified"):
        return ltr_html(format_value(value, df, prefs))
    return _fieldtype(df).display(value, df, prefs)


def date_placeholder(fieldtype, prefs):
    """The hint of a date (or datetime) input: the shape the user types, in their calendar."""
    text = digits("1405/01/01", prefs) if prefs.jalali else "YYYY-MM-DD"
    from ..fields import get_fieldtype
    timed = getattr(get_fieldtype(fieldtype), "timed", False)
    return text + (" " + digits("09:00", prefs) if timed else "")


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
    """Desk form input -> the value the field type coerces (the type's ``parse_input``:
    ISO dates, ASCII digits)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.translate(_NO_ISOLATES)  # text copied from the desk may carry isolate marks
    return _fieldtype(df).parse_input(value, df, prefs)
