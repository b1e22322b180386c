"""Values a client sends, read and checked in one place: whole numbers within bounds
and JSON text. Every entry point (REST resources, methods, desk views, the query
layer) reads them through here, so a bad value is always a 4xx naming the parameter,
never a 500 from deeper down (``int('abc')``, a 10**20 LIMIT the database refuses, a
RecursionError from JSON nested a thousand levels)."""
import json
import re

from .exceptions import BadRequest, ValidationError

#: The largest row limit or offset accepted. 0 still means "all rows" (Frappe's idiom);
#: larger values are refused rather than clamped so a client learns its mistake, and no
#: value reaches SQL that an engine cannot take (10**20 failed in LIMIT on both).
MAX_ROWS = 2**31 - 1

#: Deeper JSON is refused: no document, filter or JSON field needs it, and recursive
#: code (json itself, filters, JSON fields) would otherwise hit Python's recursion limit.
MAX_JSON_DEPTH = 64

# A lone UTF-16 surrogate (JSON "\ud800") decodes in Python but cannot be encoded as
# UTF-8, so no database driver can store or compare it.
_SURROGATE = re.compile("[\ud800-\udfff]")


def integer(value, name, default=None, minimum=None, maximum=None, error=BadRequest):
    """A whole number from a query string, form field or JSON ('20', 20, 20.0);
    ``default`` when missing or empty."""
    if value is None or value == "":
        return default
    number = None
    if isinstance(value, bool):
        pass
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float):
        number = int(value) if value.is_integer() else None
    elif isinstance(value, str):
        text = value.strip()
        try:
            number = int(text)
        except ValueError:
            try:
                as_float = float(text)
            except ValueError:
                as_float = None
            if as_float is not None and as_float.is_integer():
                number = int(as_float)
    if number is None:
        shown = value if not isinstance(value, str) or len(value) <= 40 else value[:40] + "..."
        raise error(f"{name} must be a whole number, got {shown!r}", field=name)
    if minimum is not None and number < minimum:
        raise error(f"{name} must be at least {minimum}, got {number}", field=name)
    if maximum is not None and number > maximum:
        raise error(f"{name} must be at most {maximum}, got {number}", field=name)
    return number


def row_count(value, name, default=0, error=BadRequest):
    """A limit or offset: 0 .. MAX_ROWS."""
    return integer(value, name, default=default, minimum=0, maximum=MAX_ROWS, error=error)


def loads(text, name, error=BadRequest):
    """JSON text from a client -> value, refused (naming ``name``) when it is not JSON,
    is nested deeper than MAX_JSON_DEPTH or holds text no database can store."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise error(f"{name}: JSON nested more than {MAX_JSON_DEPTH} levels deep", field=name)
    except ValueError as e:  # JSONDecodeError, or UnicodeDecodeError for bytes
        raise error(f"{name}: not valid JSON ({getattr(e, 'msg', None) or 'not UTF-8 text'})", field=name)
    check_json(value, name, error)
    return value


def check_json(value, name, error=BadRequest):
    """Refuse structures nested deeper than MAX_JSON_DEPTH, and lone surrogates in text."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise error(f"{name}: text with an unpaired UTF-16 surrogate (not valid Unicode)", field=name)
        elif isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise error(f"{name}: JSON nested more than {MAX_JSON_DEPTH} levels deep", field=name)
            if isinstance(item, dict):
                stack.extend((k, depth) for k in item)
                stack.extend((v, depth + 1) for v in item.values())
            else:
                stack.extend((v, depth + 1) for v in item)
    return value


def parse_json_arg(value, what):
    if isinstance(value, str):
        return loads(value, what, error=ValidationError)
    return value
