"""Numbers: Int, Float, Currency, Percent, Rating, Check."""
import math

from ..exceptions import DataError
from .base import FieldType, ORDERED_OPERATORS, register, ascii_digits


class Number(FieldType):
    column = "decimal"
    numeric = True
    text_like = False
    comparable = True
    ltr = True
    control_template = "controls/number.html"
    #: the column holds 21 digits before the point: enough for any amount in rials
    limit = 1e21
    operators = ORDERED_OPERATORS
    json_schema = {"type": "number", "exclusiveMinimum": -limit, "exclusiveMaximum": limit}

    def coerce(self, value, df):
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return float(value)
        if isinstance(value, (int, float)):
            number = float(value)
        else:
            try:
                number = float(ascii_digits(str(value)).replace(",", "").replace("٬", "").strip())
            except ValueError:
                raise self.error(df, f"{value!r} is not a number")
        if math.isnan(number) or math.isinf(number):
            raise self.error(df, f"{value!r} is not a finite number")
        if abs(number) >= self.limit:
            raise self.error(df, f"{value!r} is too large (at most {self.limit:.0e})")
        return number

    def validate(self, value, df):
        if value is not None and df.get("non_negative") and value < 0:
            raise self.error(df, "must not be negative")

    def format(self, value, df, prefs):
        from ..desk.formatting import decimals, format_number, is_number
        if not is_number(value):
            return str(value)  # a form shown again with what was typed, and its error
        return format_number(value, prefs, decimals(value, df, self.default_decimals(prefs)))

    def default_decimals(self, prefs):
        """Decimals shown when the field has no precision; None: as many as the value needs."""
        return None

    def parse_input(self, value, df, prefs):
        return number_input(value)

    def input_value(self, value, df):
        # canonical (ASCII, no grouping, read back as typed), without a trailing ".0" (a
        # quantity 2.0 is "2") and never rounded (repr: the shortest text that reads back)
        from ..desk.formatting import is_number
        if isinstance(value, bool) or not is_number(value):
            return value
        number = float(value)
        return str(int(number)) if number.is_integer() and abs(number) < 2 ** 53 else repr(number)


def number_input(value):
    """A number typed in the desk: ASCII digits, no grouping separators."""
    return ascii_digits(str(value)).replace("٬", "").replace(",", "").strip() or None


@register
class Float(Number):
    name = "Float"


@register
class Currency(Number):
    name = "Currency"
    amount = True

    def default_decimals(self, prefs):
        from ..desk.formatting import currency_precision
        return currency_precision(prefs.currency)

    def format(self, value, df, prefs):
        from ..desk.formatting import is_number
        text = super().format(value, df, prefs)
        return f"{text} {prefs.currency}".strip() if is_number(value) else text


@register
class Percent(Number):
    name = "Percent"

    def format(self, value, df, prefs):
        from ..desk.formatting import is_number
        text = super().format(value, df, prefs)
        return text + "%" if is_number(value) else text


@register
class Int(Number):
    name = "Int"
    groupable = True
    column = "int"
    average_type = "Float"
    json_schema = {"type": "integer", "minimum": -(2**31 - 1), "maximum": 2**31 - 1}

    def coerce(self, value, df):
        number = super().coerce(value, df)
        if number is None:
            return None
        if number != int(number):
            raise self.error(df, f"{value!r} is not a whole number")
        if abs(number) > 2**31 - 1:
            raise self.error(df, f"{value!r} is out of range")
        return int(number)

    def format(self, value, df, prefs):
        from ..desk.formatting import format_number, is_number
        return format_number(value, prefs, 0) if is_number(value) else str(value)


@register
class Rating(Number):
    """A fraction between 0 and 1 (3 of 5 stars is 0.6), as Frappe stores it."""
    name = "Rating"
    groupable = True
    json_schema = {"type": "number", "minimum": 0, "maximum": 1}
    ltr = False
    control_template = "controls/rating.html"

    def validate(self, value, df):
        if value is not None and not 0 <= value <= 1:
            raise self.error(df, f"rating {value} must be between 0 and 1")

    def format(self, value, df, prefs):
        from ..desk.formatting import is_number
        if not is_number(value):
            return str(value)
        stars = round(float(value) * 5)
        return "★" * stars + "☆" * (5 - stars)

    def input_value(self, value, df):
        return value


@register
class Check(FieldType):
    name = "Check"
    groupable = True
    column = "int"
    nullable = False  # NOT NULL DEFAULT the field's (column_type)
    operators = frozenset(["=", "!=", "in", "not in", "is"])
    json_schema = {"type": "integer", "enum": [0, 1]}
    text_like = False
    control_when_read_only = True
    control_template = "controls/check.html"
    own_label = True
    absent_input = 0
    grid_template = "controls/grid/check.html"
    filter_template = "controls/filter/check.html"
    _TRUE = {"1", "true", "yes", "on"}
    _FALSE = {"0", "false", "no", "off", ""}

    def group_label(self, value, df, prefs):
        from django.utils.translation import gettext as _
        return _("Yes") if value not in (None, "", 0, "0") else _("No")

    def coerce(self, value, df):
        if value is None:
            return 0
        if isinstance(value, bool) or value in (0, 1):
            return int(value)
        text = str(value).strip().lower()
        if text in self._TRUE:
            return 1
        if text in self._FALSE:
            return 0
        raise self.error(df, f"{value!r} is not a yes/no value (use 0 or 1)")

    def default(self, df):
        return self.coerce(df.get("default") or 0, df)

    def parse_input(self, value, df, prefs):
        # a checked box posts "1": the document holds 1 at once, as rules evaluated before
        # the save (depends_on, workflow conditions) expect; what is not yes/no stays as
        # posted and the save refuses it naming the field
        try:
            return self.coerce(value, df)
        except DataError:
            return value

    def column_type(self, df, db):
        # The column's default is the field's, as in Frappe: documents that exist when a
        # Check field is added read as a new one would (an upgrade adding a "match by
        # e-mail, on by default" setting must not switch it off).
        return super().column_type(df, db) + f" NOT NULL DEFAULT {1 if str(df.get('default')).strip() == '1' else 0}"

    def format(self, value, df, prefs):
        from ..desk.formatting import is_number
        if not is_number(value):
            return str(value)
        return "✓" if int(float(value)) else ""
