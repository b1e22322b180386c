"""Database access: one connection class per engine behind one interface.

SQL is written once, with ``%s`` placeholders and back-quoted identifiers (both
engines accept them); identifiers only ever come from metadata, values only ever
travel as bound parameters.
"""
from .base import Database


def connect(conf, site_path):
    """Open a connection for a site's config (``db_type`` sqlite|mariadb)."""
    db_type = conf.get("db_type", "sqlite")
    if db_type == "sqlite":
        from .sqlite import SQLiteDatabase
        return SQLiteDatabase(conf, site_path)
    if db_type == "mariadb":
        from .mariadb import MariaDBDatabase
        return MariaDBDatabase(conf, site_path)
    raise ValueError(f"Unknown db_type {db_type!r} (expected sqlite or mariadb)")


def error_kind(exc):
    """What a driver's exception means for a client: "duplicate" (a unique value
    taken), "lock_timeout" or "deadlock" (retry), "connection" (the database is not
    reachable), "schema" (a table or column is missing), "database" (any other driver
    error), or None when ``exc`` is no database error. Works without a connection (the
    one that failed may be gone)."""
    module = type(exc).__module__ or ""
    if module.startswith(("MySQLdb", "_mysql")):
        from .mariadb import error_kind as kind
    elif module.startswith("sqlite3"):
        from .sqlite import error_kind as kind
    else:
        return None
    return kind(exc)


__all__ = ["Database", "connect", "error_kind"]
