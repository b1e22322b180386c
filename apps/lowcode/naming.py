"""Document names: ``field:<fieldname>``, naming series (``LEAD-.YYYY.-.#####``),
``naming_series:``, ``format:...``, ``hash``, ``autoincrement`` and ``prompt``.

Series counters live in ``tabSeries``; the database increments them under a row
lock held until commit, so concurrent inserts never share a number. A number whose
name is already taken (a document renamed or imported onto it) is skipped, under the
same lock, so one such name never blocks every later insert; renaming a document onto
a future number of its series also moves the counter past it."""
import bisect
import contextlib
import datetime
import re

from .context import local
from .database.base import table
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
        doc.name = next_free_name(f"autoincrement:{meta.name}", str, meta.name)
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


_DATE_PARTS = {"YY": "%y", "YYYY": "%Y", "MM": "%m", "DD": "%d", "MON": "%b"}


def _date_part(part, when):
    code = _DATE_PARTS.get(part)
    return None if code is None else when.strftime(code).upper()


def _series_prefix(pattern, doc=None):
    """('LEAD-2026-', 5) for 'LEAD-.YYYY.-.#####': the counter's key and its digits."""
    when = datetime.date.today()
    digits, parts = None, []
    for part in pattern.split("."):
        if part and set(part) == {"#"}:
            digits = len(part)
            break
        value = _date_part(part, when)
        if value is None and doc is not None and part.startswith("{") and part.endswith("}"):
            value = str(doc.get(part[1:-1]) or "")
        parts.append(part if value is None else value)
    return "".join(parts), digits or 5


def make_autoname(pattern, doc=None):
    """'LEAD-.YYYY.-.#####' -> 'LEAD-2026-00001'. The counter is per prefix, so it
    restarts each year when the prefix carries the year."""
    prefix, digits = _series_prefix(pattern, doc)
    return next_free_name(prefix, lambda number: f"{prefix}{number:0{digits}d}", doc.doctype if doc else None)


# A jam of more taken names than this in a row is not an accident: say so.
_MAX_SKIPS = 1000


def next_free_name(key, make, doctype=None):
    """``make(n)`` for the series ``key``'s next number ``n`` whose name ``doctype`` has not
    taken yet. The first increment locks the counter row until commit, so the numbers
    skipped here are as safely ours as the one we keep."""
    db = local.db
    blocks = local.cache.get(_BLOCKS)
    if blocks is not None and doctype is not None:
        return _name_from_block(blocks, key, make, doctype)
    for _ in range(_MAX_SKIPS):
        name = make(db.next_series_value(key))
        if doctype is None or not db.exists(doctype, name):
            return name
    raise ValidationError(f"{doctype}: the next {_MAX_SKIPS} names of series {key!r} are all taken; "
                          "set the series' current number past them", field="name")


# -- numbers taken in blocks (a Data Import) ------------------------------------------------------
# A Data Import names thousands of documents in one job: one counter increment and one
# "is this name free?" query per document were two of its five statements a row. Inside
# series_blocks() a series hands out numbers from a pool it fills a block at a time, with
# one increment and one query. The pool's numbers stay ours after a commit (the counter
# is past them). A rollback puts back the numbers of the documents it undid, and takes
# out those of the blocks it undid (their increment is gone). What is left at the end
# is given back when no one took a number after it, so an import leaves no gap.
_BLOCKS = "naming.series_blocks"


@contextlib.contextmanager
def series_blocks(size=100):
    """Within, named inserts take their series numbers ``size`` at a time. Give the
    unused ones back (``give_back_series_blocks``) in the transaction that commits last."""
    saved = local.cache.get(_BLOCKS)
    local.cache[_BLOCKS] = {"size": int(size), "pools": {}}
    try:
        yield
    finally:
        if saved is None:
            local.cache.pop(_BLOCKS, None)
        else:
            local.cache[_BLOCKS] = saved


def give_back_series_blocks():
    """Return the unused numbers at the end of each pool to its series, when its counter
    still ends there (no one took a number after them); the pools are spent either way."""
    blocks = local.cache.get(_BLOCKS)
    if not blocks:
        return
    pools, blocks["pools"] = blocks["pools"], {}
    for key, pool in pools.items():
        free, top = pool["free"], pool["top"]
        if top is None:  # its only block was rolled back
            continue
        first = top + 1
        while free and free[-1] == first - 1:  # the unbroken run of free numbers up to the top
            first = free.pop()
        if first <= top:
            local.db.sql("UPDATE `tabSeries` SET `current`=%s WHERE `name`=%s AND `current`=%s",
                         (first - 1, key, top))


def _name_from_block(blocks, key, make, doctype):
    pool = blocks["pools"].setdefault(key, {"free": [], "top": None})
    for _ in range(_MAX_SKIPS):
        if not pool["free"]:
            _reserve_block(pool, blocks["size"], key, make, doctype)
        if pool["free"]:
            number = pool["free"].pop(0)

            def unused():  # its document was rolled back: hand the number out again
                if pool["top"] is not None and number <= pool["top"] and number not in pool["free"]:
                    bisect.insort(pool["free"], number)
            local.db.after_rollback(unused)
            return make(number)
    raise ValidationError(f"{doctype}: the next {_MAX_SKIPS} blocks of series {key!r} are all taken; "
                          "set the series' current number past them", field="name")


def _reserve_block(pool, size, key, make, doctype):
    db = local.db
    top = int(db.next_series_value(key, step=size))
    names = {make(n): n for n in range(top - size + 1, top + 1)}
    taken = set(db.sql(f"SELECT `name` FROM {table(doctype)} WHERE `name` IN ({', '.join(['%s'] * len(names))})",
                       list(names), pluck=True))
    before = pool["top"]
    pool["free"] += [n for name, n in names.items() if name not in taken]
    pool["top"] = top

    def undone():  # the increment was rolled back: the block's numbers are no longer ours
        pool["free"] = [n for n in pool["free"] if n < top - size + 1]
        pool["top"] = before
    db.after_rollback(undone)


def series_number(doc, name):
    """(counter key, number) when ``name`` is a name of ``doc``'s own naming series
    (``LEAD-2026-00042`` of ``LEAD-.YYYY.-.#####``), else None."""
    autoname = (doc.meta.autoname or "").strip()
    if autoname.startswith("naming_series:"):
        pattern = doc.get("naming_series") or ""
    elif autoname and ("#" in autoname or "." in autoname) and ":" not in autoname:
        pattern = autoname
    elif autoname == "autoincrement" or doc.meta.naming_rule == "Autoincrement":
        # isascii: str.isdigit() also takes superscripts ("²"), which int() refuses
        return (f"autoincrement:{doc.doctype}", int(name)) if name.isascii() and name.isdigit() else None
    else:
        return None
    if not pattern:
        return None
    prefix, digits = _series_prefix(pattern, doc)
    rest = name[len(prefix):] if name.startswith(prefix) else ""
    # exactly as the series writes its numbers (so "LEAD-2026-042" is not number 42)
    if rest.isascii() and rest.isdigit() and len(rest) <= 18 and f"{int(rest):0{digits}d}" == rest:
        return prefix, int(rest)
    return None


def advance_series_past(doc, name):
    """After a rename onto ``name``: when it is one of the next numbers of the
    document's series, the counter moves to it (never back), so the series does not
    hand it out again. A number far ahead is left alone (next_free_name steps over it
    should the series ever get there): a rename must not push a shared counter to the
    end of its range."""
    found = series_number(doc, name)
    if found is None:
        return
    key, number = found
    db = local.db
    rows = db.sql("SELECT `current` FROM `tabSeries` WHERE `name`=%s", (key,))
    current = int(rows[0][0]) if rows else 0
    if not current < number <= current + _MAX_SKIPS:
        return
    if rows:
        db.sql("UPDATE `tabSeries` SET `current`=%s WHERE `name`=%s AND `current`<%s", (number, key, number))
    else:
        db.set_series_value(key, number)


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
        parts = name.split("\0")
        name = next_free_name(prefix, lambda number: f"{number:0{counter_digits}d}".join(parts), doc.doctype)
    return name
