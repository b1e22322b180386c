"""Field types: one class per type, each registered under its Frappe name.

A field type is the whole unit: its database column, how to coerce and validate a value,
which filter operators make sense on it, its OpenAPI schema, its traits (numeric,
text-like, long text, ...: ask ``types_where``, never list type names), how the desk shows
it (``format``/``display``), reads it back (``parse_input``) and its control template.
Adding a type means adding one module to this package (every module is imported, and
its ``@register`` classes are the engine's types), or one class in an app named by its
``field_types`` hook.
"""
import importlib
import pkgutil

from .base import FieldType, registry, get_fieldtype, types_where, TRAITS  # noqa: F401
from .links import link_target, links_to  # noqa: F401

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["FieldType", "registry", "get_fieldtype", "types_where", "link_target", "links_to"]
