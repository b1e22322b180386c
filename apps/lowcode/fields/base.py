"""The FieldType base class and the registry the type modules (and apps) fill.

A type is the whole unit: its column, coercion, validation, filter operators, OpenAPI
schema, traits (``numeric``, ``text_like``, ...), display format, desk input parsing and
desk control template. Code elsewhere asks the registry (``types_where("numeric")``)
instead of listing type names.

The engine's types register with ``@register``; an app's types are named in its hooks.py
(``field_types = ["my_app.fields.Phone"]``) and are known on the sites that install it.
"""
import functools
from collections.abc import Mapping

import markupsafe

from ..exceptions import DataError

TEXT_OPERATORS = frozenset(["=", "!=", "like", "not like", "in", "not in", "is"])
ORDERED_OPERATORS = frozenset(["=", "!=", ">", "<", ">=", "<=", "in", "not in", "is", "between"])

_LOCAL_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")

#: the traits a type declares (class attributes), for types_where()
TRAITS = ("numeric", "text_like", "long_text", "indexable", "may_be_unique", "comparable", "dated", "link",
          "groupable", "ltr", "layout", "table", "amount", "read_only", "bulk_settable", "control_when_read_only",
          "multiselect", "timed", "options_field", "option_list", "rich_text")

_core = {}


class Registry(Mapping):
    """name -> FieldType instance: the engine's types, then the current site's apps' types
    (the ``field_types`` hook). Outside a site only the engine's types are known."""

    def _site(self):
        from ..context import local
        if not local or not getattr(local, "site", None) or getattr(local, "db", None) is None:
            return {}
        from ..apps import get_hooks
        # No try here: a site being created has no Installed App table yet and get_hooks
        # already reads that as "only the engine"; an installed app whose hooks.py or types
        # fail to load is an error to report, not a site that silently lacks its types.
        paths = list(get_hooks("field_types"))
        if local.flags.get("installing_app"):  # an app's DocTypes may use its own types
            paths += get_hooks("field_types", app_name=local.flags.installing_app)
        return _app_types(tuple(dict.fromkeys(paths))) if paths else {}

    def __getitem__(self, name):
        try:
            return _core[name]
        except KeyError:
            return self._site()[name]

    def get(self, name, default=None):
        found = _core.get(name)
        return found if found is not None else self._site().get(name, default)

    def __contains__(self, name):
        return name in _core or name in self._site()

    def __iter__(self):
        yield from _core
        yield from (n for n in self._site() if n not in _core)

    def __len__(self):
        return len(set(_core) | set(self._site()))


registry = Registry()


@functools.lru_cache(maxsize=64)
def _app_types(paths):
    from ..apps import get_attr
    types = {}
    for path in paths:
        cls = get_attr(path)
        if not (isinstance(cls, type) and issubclass(cls, FieldType) and cls.name):
            raise TypeError(f"field_types: {path!r} is not a FieldType subclass with a name")
        types[cls.name] = cls()
    return types


def register(cls):
    _core[cls.name] = cls()
    _core_where.cache_clear()
    return cls


def get_fieldtype(name):
    return registry.get(name)


def types_where(trait, value=True):
    """The names of the known types whose ``trait`` is ``value``: ``types_where("numeric")``."""
    if trait not in TRAITS:
        raise ValueError(f"unknown field type trait {trait!r}")
    site = registry._site()
    found = _core_where(trait, value)
    if site:
        found |= frozenset(name for name, t in site.items() if name not in _core and getattr(t, trait) == value)
    return found


@functools.lru_cache(maxsize=None)
def _core_where(trait, value):
    return frozenset(name for name, t in _core.items() if getattr(t, trait) == value)


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
    #: the column may hold NULL (its default): an INSERT leaves out an empty value
    nullable = True

    # -- traits (see types_where) --
    #: a quantity: summed, averaged and charted (reports, number cards)
    numeric = False
    #: stored as text: "is not set" also matches "" and "like" makes sense
    text_like = True
    #: a long text column: not indexed, not unique
    long_text = False
    indexable = True
    may_be_unique = True
    #: ordered values: "next/previous record" and ranges work on them
    comparable = False
    #: a day on the calendar: calendar views, time series, date-offset notifications
    dated = False
    #: names another document (its title and badge are shown beside it)
    link = False
    #: few distinct values: a report may group rows by it
    groupable = False
    #: shown left to right even in Persian or Hebrew text (numbers, dates, phone numbers)
    ltr = False
    #: shapes the form and stores nothing (breaks, static HTML)
    layout = False
    #: rows of a child DocType
    table = False
    #: rows the form may show as one checkbox per value (Table MultiSelect)
    multiselect = False
    #: a sum of money (a Kanban column's total)
    amount = False
    #: shown, never edited (Read Only)
    read_only = False
    #: the list's "set value on the selected records" offers it
    bulk_settable = True
    #: the control stays (disabled) when the field is read-only instead of plain text
    control_when_read_only = False
    #: the type an average of its values has (an Int's average has decimals); None: its own
    average_type = None
    #: the value is sanitised HTML, printed as it is (Text Editor)
    rich_text = False
    #: the values are the lines of ``options`` (a Select): offered as a list, shown translated
    option_list = False
    #: what a desk form that posts nothing for the field means (an unchecked checkbox posts
    #: nothing: 0); None leaves the field as it is
    absent_input = None
    #: ``options`` names another field of the DocType (a Dynamic Link's: the one holding its target)
    options_field = False
    #: a moment with its time of day (calendar events at an hour, record order by the second)
    timed = False
    #: a layout break starts a "tab", "section" or "column" of the form (desk/layout.py)
    starts = None
    #: the desk control: a template in desk/templates (or an app's templates folder) that
    #: gets df, value, name, id, cls, ro and ftype; the label comes before it unless
    #: ``own_label``
    control_template = "controls/data.html"
    own_label = False
    #: a read-only field on the form (df, value): text in the user's locale, or a link, ...
    read_only_template = "controls/read_only/text.html"
    #: a cell of a child table's grid (df, value, name, editable)
    grid_template = "controls/grid/data.html"
    #: a standard filter of the list, kanban and calendar (df, args, fid, dl, label, ...)
    filter_template = "controls/filter/data.html"

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

    def validate_definition(self, df, doctype, known_doctypes):
        """Check a field's definition before its DocType is written; raise ValueError saying
        what is wrong (meta.validate_definition names the DocType and the field).
        ``doctype`` is the DocType's definition (its ``name`` and ``fields``);
        ``known_doctypes`` maps every DocType name to whether it is a child table."""
        if df.get("default") not in (None, ""):
            try:
                self.default(df)  # a type's own keywords ("Today") are its default()'s to read
            except Exception as e:  # noqa: BLE001 - reported as a definition error
                raise ValueError(f"default {df['default']!r} is invalid: {e}") from None

    def kind(self, df):
        """What the text is, when the field says (a Data field's options: Email, Phone,
        URL, Name), else None: ``kind(df) == "Email"`` finds the e-mail fields."""
        return None

    def coerce_filter(self, value, df):
        """A filter value from a client: coerce as a field value, naming the field on error."""
        return self.coerce(value, df)

    # -- the desk: display and input (locale helpers live in desk/formatting.py) --

    def format(self, value, df, prefs):
        """Display text of a stored value (not empty) in the user's locale ``prefs``."""
        return str(value)

    def group_label(self, value, df, prefs):
        """A value as the heading of its group (a pivot table's row or column): format()."""
        return self.format(value, df, prefs)

    def display(self, value, df, prefs):
        """format() as desk HTML: escaped, and isolated left to right for ``ltr`` types."""
        from ..desk.formatting import ltr_html
        text = self.format(value, df, prefs)
        return ltr_html(text) if self.ltr else markupsafe.escape(text)

    def parse_input(self, value, df, prefs):
        """Text typed in the desk -> the value coerce() takes (ISO dates, ASCII digits)."""
        return value

    def parse_filter_input(self, value, df, prefs):
        """A standard filter's text (the input of its ``filter_template``) -> the value
        filtered on; as typed unless the widget speaks the user's locale (a date)."""
        return value

    def input_value(self, value, df):
        """A stored value as a form's input holds it."""
        return value
