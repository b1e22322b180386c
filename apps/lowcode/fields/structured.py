"""Structured values: JSON documents and colours."""
import json
import re

from .base import FieldType, register

_COLOR_RE = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")


@register
class JSON(FieldType):
    name = "JSON"
    column = "json"
    operators = frozenset(["is", "like", "not like"])
    json_schema = {}
    converts_from_db = True

    def coerce(self, value, df):
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError as e:
                raise self.error(df, f"not valid JSON ({e.msg} at position {e.pos})")
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            raise self.error(df, "value cannot be stored as JSON")
        return value

    def to_db(self, value, df):
        return None if value is None else json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    def from_db(self, value, df):
        if isinstance(value, str) and value:
            return json.loads(value)
        return value

    def coerce_filter(self, value, df):
        return value


@register
class Color(FieldType):
    name = "Color"

    def validate(self, value, df):
        if value and not _COLOR_RE.match(value):
            raise self.error(df, f"{value!r} is not a colour like #1e90ff")
