"""How values look to a user and how their input is read back: Gregorian or Jalali
dates, Latin or Persian digits, numbers and currency per locale.

Stored values stay canonical (ISO dates, floats); only the desk converts."""
import datetime
import math

import jdatetime
from django.utils import formats, numberformat, translation

from ..fields.base import ascii_digits

_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
RTL_LANGUAGES = ("fa", "he", "ar")


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


def format_number(value, prefs, decimals=None):
    if value is None or value == "":
        return ""
    with translation.override(prefs.lang):
        # Group by thousands in every language (Django's Persian locale turns grouping
        # off), with the language's own separators.
        text = numberformat.format(value, formats.get_format("DECIMAL_SEPARATOR"), decimal_pos=decimals,
                                   grouping=3, thousand_sep=formats.get_format("THOUSAND_SEPARATOR") or ",",
                                   force_grouping=True, use_l10n=True)
    return digits(text, prefs)


_NUMBER_TYPES = ("Check", "Int", "Float", "Percent", "Currency", "Rating", "Duration")


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
        return format_number(value, prefs, 2) + ("%" if ftype == "Percent" else "")
    if ftype == "Currency":
        amount = format_number(value, prefs, 0 if prefs.currency in ("IRR", "IRT") else 2)
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


def parse_date_input(text, prefs):
    """A date typed in the desk -> ISO. Jalali users type YYYY/MM/DD in their calendar;
    ISO input (YYYY-MM-DD) is always taken as Gregorian."""
    text = ascii_digits((text or "").strip())
    if not text:
        return None
    if prefs.jalali and "/" in text:
        try:
            y, m, d = (int(p) for p in text.split("/")[:3])
            return jdatetime.date(y, m, d).togregorian().isoformat()
        except (ValueError, OverflowError):
            return text  # not a Jalali date: the field's own check refuses it, by name
    return text


def parse_input(value, df, prefs):
    """Desk form input -> the value the field type coerces (ISO dates, ASCII digits)."""
    if value is None:
        return None
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
