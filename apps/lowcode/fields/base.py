"""The FieldType base class and the registry the type modules fill."""
from ..exceptions import DataError

registry = {}

TEXT_OPERATORS = frozenset(["=", "!=", "like", "not like", "in", "not in", "is"])
ORDERED_OPERATORS = frozenset(["=", "!=", ">", "<", ">=", "<=", "in", "not in", "is", "between"])
LAYOUT_TYPES = frozenset(["Section Break", "Column Break", "Tab Break", "HTML"])
TABLE_TYPES = frozenset(["Table", "Table MultiSelect"])

_LOCAL_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


def register(cls):
    registry[cls.name] = cls()
    return cls


def get_fieldtype(name):
    return registry.get(name)


def ascii_digits(text):
    """Persian and Arabic-Indic digits -> ASCII, so '۱۲۳' is read as 123."""
    return text.translate(_LOCAL_DIGITS) if isinstance(text, str) else text


class FieldType:
    name = None
    #: column kind for Database.column_sql_type, or None when the type stores no column
    column = "varchar"
    operators = TEXT_OPERATORS
    json_schema = {"type": "string"}
    #: values read from the database need from_db (e.g. JSON text -> object)
    converts_from_db = False

    def column_type(self, df, db):
        return db.column_sql_type(self.column, self.length(df)) if self.column else None

    def length(self, df):
        return int(df.get("length") or 140)

    def error(self, df, message):
        return DataError(f"{df.get('label') or df['fieldname']}: {message}", field=df["fieldname"])

    def coerce(self, value, df):
        """Turn an incoming value into the canonical stored form, or raise DataError."""
        if value is None:
            return None
        if isinstance(value, (dict, list)):
            raise self.error(df, f"expected text, got {type(value).__name__}")
        return str(value)

    def validate(self, value, df):
        """Checks beyond the type itself (options, length); value is already coerced."""
        if self.column == "varchar" and isinstance(value, str) and len(value) > self.length(df):
            raise self.error(df, f"value is {len(value)} characters long, at most {self.length(df)} allowed")

    def from_db(self, value, df):
        return value

    def to_db(self, value, df):
        return value

    def is_empty(self, value):
        return value is None or value == "" or value == []

    def default(self, df):
        """The value a new document starts with (Frappe's ``default`` property)."""
        d = df.get("default")
        if d in (None, ""):
            return None
        return self.coerce(d, df)

    def coerce_filter(self, value, df):
        """A filter value from a client: coerce as a field value, naming the field on error."""
        return self.coerce(value, df)
