"""Dates and times, stored as ISO text on every engine: Date, Datetime, Time, Duration.

Values arrive Gregorian and ISO from the API; the desk converts Jalali input before
it gets here."""
import datetime
import re

from dateutil import parser as date_parser

from .base import FieldType, ORDERED_OPERATORS, register, ascii_digits
from .numeric import Number


class Temporal(FieldType):
    operators = ORDERED_OPERATORS | {"like", "not like"}
    fmt = None
    text_like = False
    comparable = True
    ltr = True

    def parse(self, text):
        raise NotImplementedError

    def coerce(self, value, df):
        if value is None or value == "":
            return None
        if isinstance(value, (datetime.date, datetime.time)):
            return self.from_object(value)
        try:
            return self.from_object(self.parse(ascii_digits(str(value)).strip()))
        except (ValueError, OverflowError):
            raise self.error(df, f"{value!r} is not a valid {self.name.lower()} ({self.fmt_hint})")

    def coerce_filter(self, value, df):
        if isinstance(value, str) and "%" in value:
            return value  # a LIKE pattern
        return self.coerce(value, df)


@register
class Date(Temporal):
    name = "Date"
    dated = True
    groupable = True
    operators = Temporal.operators | {"timespan"}  # dynamic dates, lowcode/timespan.py
    column = "date"
    fmt_hint = "YYYY-MM-DD"
    grid_template = "controls/grid/date.html"
    filter_template = "controls/filter/date.html"
    json_schema = {"type": "string", "format": "date"}
    control_template = "controls/date.html"

    def format(self, value, df, prefs):
        from ..desk.formatting import format_date
        return format_date(value, prefs)

    def parse_input(self, value, df, prefs):
        from ..desk.formatting import parse_date_input
        return parse_date_input(value, prefs)

    def parse_filter_input(self, value, df, prefs):
        return self.parse_input(value, df, prefs)  # typed (or picked) in the user's calendar

    def parse(self, text):
        return datetime.date.fromisoformat(text[:10]) if len(text) >= 10 else datetime.date.fromisoformat(text)

    def from_object(self, value):
        if isinstance(value, datetime.datetime):
            value = value.date()
        return value.isoformat()

    def default(self, df):
        if df.get("default") == "Today":
            return datetime.date.today().isoformat()
        return super().default(df)


@register
class Datetime(Temporal):
    name = "Datetime"
    dated = True
    operators = Temporal.operators | {"timespan"}
    column = "datetime_seconds"  # creation/modified keep microseconds; user datetimes do not
    fmt_hint = "YYYY-MM-DD HH:MM:SS"
    timed = True
    grid_template = "controls/grid/date.html"
    json_schema = {"type": "string", "format": "date-time"}
    control_template = "controls/date.html"

    def format(self, value, df, prefs):
        from ..desk.formatting import format_datetime
        return format_datetime(value, prefs)

    def parse_input(self, value, df, prefs):
        from ..desk.formatting import parse_date_input
        text = ascii_digits(str(value).strip()).replace("T", " ")
        if not text:
            return None
        date_part, _, time_part = text.partition(" ")
        return f"{parse_date_input(date_part, prefs)} {time_part or '00:00'}".strip()

    def parse(self, text):
        return date_parser.isoparse(text)

    def from_object(self, value):
        if isinstance(value, datetime.datetime):
            if value.tzinfo is not None:
                value = value.astimezone().replace(tzinfo=None)
            return value.strftime("%Y-%m-%d %H:%M:%S")
        return datetime.datetime.combine(value, datetime.time()).strftime("%Y-%m-%d %H:%M:%S")

    def default(self, df):
        if df.get("default") in ("Now", "now"):
            return datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        return super().default(df)


@register
class Time(Temporal):
    name = "Time"
    column = "time"
    fmt_hint = "HH:MM:SS"
    json_schema = {"type": "string", "format": "time"}
    control_template = "controls/time.html"

    def format(self, value, df, prefs):
        from ..desk.formatting import digits
        return digits(str(value)[:5], prefs)

    def parse(self, text):
        return datetime.time.fromisoformat(text)

    def from_object(self, value):
        return value.strftime("%H:%M:%S")


_DURATION_RE = re.compile(r"^\s*(?:(\d+)d)?\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s)?\s*$")


@register
class Duration(FieldType):
    """A length of time in seconds; accepts 90, '1h 30m' or '01:30:00'."""
    name = "Duration"
    column = "decimal"
    operators = ORDERED_OPERATORS
    json_schema = {"type": "number", "minimum": 0, "exclusiveMaximum": Number.limit, "description": "seconds"}
    numeric = True
    text_like = False
    comparable = True
    ltr = True
    control_template = "controls/number.html"
    input_value = Number.input_value
    parse_input = Number.parse_input

    def format(self, value, df, prefs):
        from ..desk.formatting import digits, is_number
        if not is_number(value):
            return str(value)
        seconds = int(float(value))
        return digits(f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}", prefs)

    def coerce(self, value, df):
        if value is None or value == "":
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            seconds = float(value)
        else:
            text = ascii_digits(str(value)).strip()
            seconds = self._parse(text)
            if seconds is None:
                raise self.error(df, f"{value!r} is not a duration (seconds, '1h 30m' or 'HH:MM:SS')")
        if seconds < 0:
            raise self.error(df, "a duration cannot be negative")
        if not seconds < Number.limit:  # also NaN and infinity: the column's range, as for numbers
            raise self.error(df, f"{value!r} is too long a duration")
        return seconds

    @staticmethod
    def _parse(text):
        try:
            return float(text)
        except ValueError:
            pass
        if ":" in text:
            parts = text.split(":")
            if len(parts) in (2, 3) and all(p.isdecimal() for p in parts):
                h, m, s = ([0] * (3 - len(parts))) + [int(p) for p in parts]
                return float(h * 3600 + m * 60 + s)
            return None
        match = _DURATION_RE.match(text)
        if match and any(match.groups()):
            d, h, m, s = (int(g or 0) for g in match.groups())
            return float(d * 86400 + h * 3600 + m * 60 + s)
        return None
