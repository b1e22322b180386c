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


__all__ = ["Database", "connect"]
