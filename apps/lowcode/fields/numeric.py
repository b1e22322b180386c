"""Numbers: Int, Float, Currency, Percent, Rating, Check."""
import math

from .base import FieldType, ORDERED_OPERATORS, register, ascii_digits


class Number(FieldType):
    column = "decimal"
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


@register
class Float(Number):
    name = "Float"


@register
class Currency(Number):
    name = "Currency"


@register
class Percent(Number):
    name = "Percent"


@register
class Int(Number):
    name = "Int"
    column = "int"
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


@register
class Rating(Number):
    """A fraction between 0 and 1 (3 of 5 stars is 0.6), as Frappe stores it."""
    name = "Rating"
    json_schema = {"type": "number", "minimum": 0, "maximum": 1}

    def validate(self, value, df):
        if value is not None and not 0 <= value <= 1:
            raise self.error(df, f"rating {value} must be between 0 and 1")


@register
class Check(FieldType):
    name = "Check"
    column = "int"
    operators = frozenset(["=", "!=", "in", "not in", "is"])
    json_schema = {"type": "integer", "enum": [0, 1]}
    _TRUE = {"1", "true", "yes", "on"}
    _FALSE = {"0", "false", "no", "off", ""}

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
