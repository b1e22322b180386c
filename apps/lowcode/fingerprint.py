"""A site's fingerprint: per table its row count and a hash of all its rows, per file
(public and private) its SHA-256. Two fingerprints are equal when the data is, which is
how a restore is verified (`lowcode fingerprint`, tests/test_backups.py).

Values are normalised so SQLite and MariaDB answers compare (Decimal('12.500') and 12.5
are one number; datetimes as ISO text; bytes as hex). The table hash is the sum of the
rows' SHA-256 modulo 2^256: independent of row order, so neither the engines' collations
nor a table without a primary key change it, and a table of any size is read in one
streaming pass without sorting."""
import datetime
import decimal
import hashlib
import json
import os
import re

from .caches import META_VERSION_KEY

_FILE_FOLDERS = ("public/files", "private/files")
_BATCH = 5000


def table_names(db):
    if db.db_type == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite!_%' ESCAPE '!'"
    else:
        sql = "SELECT table_name FROM information_schema.tables WHERE table_schema=DATABASE() " \
              "AND table_type='BASE TABLE'"
    return sorted(db.sql(sql, pluck=True))


def _quoted(name):
    return "`" + name.replace("`", "``") + "`"


# A time with a fraction of a second: MariaDB's datetime(6) answers "10:15:30.000000" where
# SQLite keeps the text written, "10:15:30".
_FRACTION = re.compile(r"^(\d{4}-\d\d-\d\d[ T])?\d\d:\d\d:\d\d\.\d+$")


def _normal(value):
    if isinstance(value, str):
        return value.rstrip("0").rstrip(".") if _FRACTION.match(value) else value
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float, decimal.Decimal)):
        number = decimal.Decimal(str(value)) if isinstance(value, float) else decimal.Decimal(value)
        return format(number.normalize(), "f") if number else "0"
    if isinstance(value, (datetime.datetime, datetime.time)):
        return _normal(value.isoformat(**({"sep": " "} if isinstance(value, datetime.datetime) else {}),
                                       timespec="microseconds"))
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    return str(value)


def table_fingerprint(db, name):
    """(row count, hex hash) of one table, read in batches."""
    cursor = db.sql_cursor(f"SELECT * FROM {_quoted(name)}")
    columns = [d[0] for d in cursor.description]
    order = sorted(range(len(columns)), key=lambda i: columns[i])
    count, total = 0, 0
    while True:
        rows = cursor.fetchmany(_BATCH)
        if not rows:
            break
        for row in rows:
            if name == "tabSeries" and row[columns.index("name")] == META_VERSION_KEY:
                continue  # the metadata version, which a restore moves on on purpose
            text = json.dumps([[columns[i], _normal(row[i])] for i in order], ensure_ascii=False)
            total = (total + int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest(), "big")) % (1 << 256)
            count += 1
    return count, format(total, "064x")


def site_files(root):
    """(path relative to the site, full path) of every public and private file."""
    for sub in _FILE_FOLDERS:
        top = os.path.join(root, sub)
        for folder, dirs, names in os.walk(top):
            dirs.sort()
            for n in sorted(names):
                full = os.path.join(folder, n)
                yield os.path.relpath(full, root).replace(os.sep, "/"), full


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fingerprint(db, root):
    """{"tables": {table: {"rows": n, "hash": hex}}, "files": {relative path: sha256}}."""
    tables = {}
    for name in table_names(db):
        rows, digest = table_fingerprint(db, name)
        tables[name] = {"rows": rows, "hash": digest}
    return {"tables": tables, "files": {rel: file_sha256(full) for rel, full in site_files(root)}}


def differences(before, after):
    """Readable lines for every table and file that differs between two fingerprints."""
    out = []
    for kind in ("tables", "files"):
        a, b = before.get(kind, {}), after.get(kind, {})
        for key in sorted(set(a) | set(b)):
            if key not in b:
                out.append(f"{kind[:-1]} {key}: missing")
            elif key not in a:
                out.append(f"{kind[:-1]} {key}: not in the first")
            elif a[key] != b[key]:
                detail = (f"{a[key]['rows']} rows vs {b[key]['rows']}" if kind == "tables" and
                          a[key]["rows"] != b[key]["rows"] else "content differs")
                out.append(f"{kind[:-1]} {key}: {detail}")
    return out
