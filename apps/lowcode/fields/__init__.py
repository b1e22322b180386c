"""Field types: one class per type, each registered under its Frappe name.

A field type is the whole unit: its database column, how to coerce and validate a value,
which filter operators make sense on it, its OpenAPI schema, its traits (numeric,
text-like, long text, ...: ask ``types_where``, never list type names), how the desk shows
it (``format``/``display``), reads it back (``parse_input``) and its control template.
Adding a type means adding one class in one of the modules below, or in an app named by
its ``field_types`` hook.
"""
from .base import FieldType, registry, get_fieldtype, types_where, TRAITS  # noqa: F401
from . import text, numeric, temporal, choice, links, tables, files, structured, layout  # noqa: F401,E402

__all__ = ["FieldType", "registry", "get_fieldtype", "types_where"]
