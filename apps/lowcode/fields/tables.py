"""Child tables: rows of another DocType (``istable``) stored in its own table with
``parent``, ``parenttype`` and ``parentfield``. Table MultiSelect is the same storage
shown as a multi-select of the child's Link field."""
from ..exceptions import DataError
from .base import FieldType, register


@register
class Table(FieldType):
    name = "Table"
    column = None
    operators = frozenset()
    json_schema = {"type": "array", "items": {"type": "object"}}
    table = True

    def coerce(self, value, df):
        if value in (None, ""):
            return []
        if not isinstance(value, (list, tuple)):
            raise DataError(f"{df.get('label') or df['fieldname']}: expected a list of rows",
                            field=df["fieldname"])
        for row in value:
            if not isinstance(row, dict) and not hasattr(row, "as_dict"):
                raise DataError(f"{df.get('label') or df['fieldname']}: each row must be an object",
                                field=df["fieldname"])
        return list(value)

    def default(self, df):
        return []


@register
class TableMultiSelect(Table):
    name = "Table MultiSelect"
