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

    def validate_definition(self, df, doctype, known_doctypes):
        options = df.get("options")
        if not options:
            raise ValueError(f"a {self.name} field needs options (the child DocType)")
        if options not in known_doctypes:
            raise ValueError(f"{self.name} of missing DocType {options!r}")
        if not known_doctypes[options]:
            raise ValueError(f"{options!r} is not a child table (istable)")


@register
class TableMultiSelect(Table):
    name = "Table MultiSelect"
    multiselect = True
