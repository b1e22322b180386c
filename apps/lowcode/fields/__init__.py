"""Field types: one class per type, each registered under its Frappe name.

A field type knows its database column, how to coerce and validate a value, which
filter operators make sense on it, and how to describe itself in OpenAPI. Adding a
type means adding one class in one of the modules below.
"""
from .base import FieldType, registry, get_fieldtype, LAYOUT_TYPES, TABLE_TYPES  # noqa: F401
from . import text, numeric, temporal, choice, links, tables, files, structured, layout  # noqa: F401,E402

__all__ = ["FieldType", "registry", "get_fieldtype"]
