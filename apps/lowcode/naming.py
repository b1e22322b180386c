"""Document names: ``field:<fieldname>``, naming series (``LEAD-.YYYY.-.#####``),
``naming_series:``, ``format:...``, ``hash``, ``autoincrement`` and ``prompt``.

Series counters live in ``tabSeries``; the database increments them under a row
lock held until commit, so concurrent inserts never share a number."""
import datetime
import re

from .context import local
from .exceptions import MandatoryError, ValidationError
from .utils import generate_hash

_FORMAT_RE = re.compile(r"\{([^{}]+)\}")


def set_new_name(doc):
    meta = doc.meta
    if meta.istable:
        doc.name = doc.name or generate_hash(10)
        return
    if doc.flags.name_set and doc.name:
        return
    controller_autoname = getattr(type(doc), "autoname", None)
    if callable(controller_autoname):
        controller_autoname(doc)
        if doc.name:
            return
    autoname = (meta.autoname or "").strip()
    rule = meta.naming_rule
    newname = doc.get("__newname")
    if autoname == "prompt" or rule == "Set by user":
        name = newname or doc.name
        if not name:
            raise MandatoryError(f"{meta.name}: a name is required", field="name")
        doc.name = str(name).strip()
    elif autoname.startswith("field:"):
        fieldname = autoname[6:]
        value = doc.get(fieldname)
        if value in (None, ""):
            df = meta.get_field(fieldname)
            label = (df and df.label) or fieldname
            raise MandatoryError(f"{label} is required: it names the {meta.name}", field=fieldname)
        doc.name = str(value).strip()
    elif autoname.startswith("naming_series:"):
        series = doc.get("naming_series")
        if not series:
            raise MandatoryError("Naming Series is required", field="naming_series")
        doc.name = make_autoname(series, doc)
    elif autoname.startswith("format:"):
        doc.name = _format_name(autoname[7:], doc)
    elif autoname == "autoincrement" or rule == "Autoincrement":
        doc.name = str(local.db.next_series_value(f"autoincrement:{meta.name}"))
    elif autoname == "hash" or rule == "Random":
        doc.name = generate_hash(10)
    elif autoname and ("#" in autoname or "." in autoname):
        doc.name = make_autoname(autoname, doc)
    elif not doc.name:
        doc.name = newname or generate_hash(10)
    if not doc.name:
        raise ValidationError(f"{meta.name}: could not set a name")
    check_name(doc.name, meta.name)


#: The `name` column's length on every table (and Link columns'): longer names are
#: refused on both engines alike (MariaDB would refuse them, SQLite store them).
NAME_LENGTH = 140


def check_name(name, doctype):
    if len(name) > NAME_LENGTH:
        raise ValidationError(f"{doctype}: a name is at most {NAME_LENGTH} characters, this one has {len(name)}",
                              field="name")


def _date_part(part, when):
    return {"YY": when.strftime("%y"), "YYYY": when.strftime("%Y"), "MM": when.strftime("%m"),
            "DD": when.strftime("%d"), "MON": when.strftime("%b").upper()}.get(part)


def make_autoname(pattern, doc=None):
    """'LEAD-.YYYY.-.#####' -> 'LEAD-2026-00001'. The counter is per prefix, so it
    restarts each year when the prefix carries the year."""
    when = datetime.date.today()
    prefix, digits, parts = "", None, []
    for part in pattern.split("."):
        if part and set(part) == {"#"}:
            digits = len(part)
            break
        value = _date_part(part, when)
        if value is None and doc is not None and part.startswith("{") and part.endswith("}"):
            value = str(doc.get(part[1:-1]) or "")
        parts.append(part if value is None else value)
    prefix = "".join(parts)
    digits = digits or 5
    number = local.db.next_series_value(prefix)
    return f"{prefix}{number:0{digits}d}"


def _format_name(template, doc):
    when = datetime.date.today()

    def sub(match):
        token = match.group(1)
        if set(token) == {"#"}:
            return None  # filled after
        value = _date_part(token, when)
        return value if value is not None else str(doc.get(token) or "")

    out, counter_digits = [], None
    for piece in re.split(r"(\{[^{}]+\})", template):
        m = _FORMAT_RE.fullmatch(piece)
        if not m:
            out.append(piece)
        elif set(m.group(1)) == {"#"}:
            counter_digits = len(m.group(1))
            out.append("\0")
        else:
            out.append(sub(m))
    name = "".join(out)
    if counter_digits:
        prefix = name.split("\0")[0]
        name = name.replace("\0", f"{local.db.next_series_value(prefix):0{counter_digits}d}")
    return name
