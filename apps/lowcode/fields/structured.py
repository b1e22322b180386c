"""Structured values: JSON documents and colours."""
import json
import re

from .. import params
from ..exceptions import BadRequest
from .base import FieldType, register

_COLOR_RE = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")


@register
class JSON(FieldType):
    name = "JSON"
    column = "json"
    operators = frozenset(["is", "like", "not like"])
    json_schema = {}
    converts_from_db = True
    long_text = True
    indexable = False
    may_be_unique = False
    control_template = "controls/textarea.html"
    read_only_template = "controls/read_only/json.html"

    def coerce(self, value, df):
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                return params.loads(value, df["fieldname"])
            except BadRequest as e:
                raise self.error(df, e.message.split(": ", 1)[-1])
        try:
            params.check_json(value, df["fieldname"])
            json.dumps(value)
        except BadRequest as e:
            raise self.error(df, e.message.split(": ", 1)[-1])
        except (TypeError, ValueError, RecursionError):
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
    control_when_read_only = True
    control_template = "controls/color.html"

    def validate(self, value, df):
        if value and not _COLOR_RE.match(value):
            raise self.error(df, f"{value!r} is not a colour like #1e90ff")
