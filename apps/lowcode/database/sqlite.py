"""SQLite: the embedded default. WAL mode so readers never wait for the writer."""
import functools
import os
import re
import sqlite3

from .base import Database, quote, table

_TYPES = {
    "varchar": "TEXT", "text": "TEXT", "longtext": "TEXT", "int": "INTEGER",
    "bigint": "INTEGER", "decimal": "REAL", "date": "TEXT", "datetime": "TEXT", "datetime_seconds": "TEXT",
    "time": "TEXT", "json": "TEXT",
}

_PLACEHOLDER = re.compile(r"%s")


@functools.lru_cache(maxsize=4096)
def _to_qmark(query):
    # Our SQL carries no literals (values are parameters), so %s is always a placeholder;
    # a literal percent sign is written %% as with the MySQL driver.
    return _PLACEHOLDER.sub("?", query).replace("%%", "%")


_READ_PREFIXES = ("SELECT", "PRAGMA", "WITH", "EXPLAIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT")


def _is_write(query):
    return not query.lstrip()[:9].upper().startswith(_READ_PREFIXES)

# What a driver error means for a client (database.error_kind), by its message: the
# text travels on when _execute re-raises with the query appended.
_ERROR_KINDS = (("UNIQUE constraint failed", "duplicate"), ("database is locked", "lock_timeout"),
                ("database table is locked", "lock_timeout"), ("no such table", "schema"),
                ("no such column", "schema"), ("has no column named", "schema"),
                ("closed database", "connection"), ("unable to open database", "connection"),
                ("disk I/O error", "connection"))


def error_kind(exc):
    if not isinstance(exc, sqlite3.Error):
        return None
    text = str(exc)
    return next((kind for marker, kind in _ERROR_KINDS if marker in text), "database")


class SQLiteDatabase(Database):
    db_type = "sqlite"

    def connect(self):
        path = self.conf.get("db_file") or "site.sqlite3"
        if path != ":memory:" and not os.path.isabs(path):
            path = os.path.join(self.site_path, path)
        self.path = path
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                                    timeout=30)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA busy_timeout=30000")
        self.conn.execute("PRAGMA foreign_keys=OFF")
        self.conn.execute("PRAGMA cache_size=-65536")

    def _execute(self, query, values):
        if not self.in_transaction and _is_write(query):
            # Like MariaDB without autocommit: a write outside a transaction opens one and
            # stays uncommitted until commit(), so work after a commit can still roll back.
            # Reads stay outside, so an idle connection never holds the write lock.
            self.begin(write=True)
        try:
            return self.conn.execute(_to_qmark(query), tuple(values))
        except sqlite3.OperationalError as e:
            self.refuse_write(e)
            raise type(e)(f"{e} -- in: {query}") from e

    def executemany(self, query, rows):
        if not self.in_transaction:
            self.begin(write=True)
        try:
            self.conn.executemany(_to_qmark(query), rows)
        except sqlite3.OperationalError as e:
            self.refuse_write(e)
            raise

    def _is_read_only_refusal(self, exc):
        return exc.sqlite_errorcode == sqlite3.SQLITE_READONLY

    def _set_read_only(self, read_only):
        # query_only refuses every change to the database (DML, DDL, temp tables) with
        # SQLITE_READONLY, at once and inside a transaction too.
        self.conn.execute(f"PRAGMA query_only={'ON' if read_only else 'OFF'}")

    def _begin(self, write):
        # IMMEDIATE takes the write lock up front: a deferred transaction that reads and
        # then writes can deadlock against another writer (SQLITE_BUSY on upgrade).
        self.conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    def commit(self):
        if self.in_transaction:
            self.conn.execute("COMMIT")
            self.in_transaction = False
        callbacks, self._after_commit = self._after_commit, []
        self._after_rollback = []
        for fn in callbacks:
            fn()

    def rollback(self):
        if self.in_transaction:
            self.conn.execute("ROLLBACK")
            self.in_transaction = False
        callbacks, self._after_rollback = self._after_rollback, []
        self._after_commit = []
        for fn in callbacks:
            fn()

    # -- DDL ---------------------------------------------------------------------
    def column_sql_type(self, kind, length=None):
        return _TYPES[kind]

    def table_exists(self, doctype):
        return bool(self.sql("SELECT 1 FROM sqlite_master WHERE type='table' AND name=%s",
                             ("tab" + doctype,)))

    def get_columns(self, doctype):
        return {r[1]: (r[2] or "").lower() for r in self.sql(f"PRAGMA table_info({table(doctype)})")}

    def get_indexes(self, doctype):
        out = {}
        for row in self.sql(f"PRAGMA index_list({table(doctype)})"):
            name, unique = row[1], bool(row[2])
            cols = [r[2] for r in self.sql(f"PRAGMA index_info({quote(name)})")]
            out[name] = (unique, cols)
        return out

    def create_table(self, doctype, columns, indexes):
        cols = ",\n  ".join(f"{quote(c)} {t}" for c, t in columns)
        self._execute(f"CREATE TABLE {table(doctype)} (\n  {cols},\n  PRIMARY KEY (`name`))", ())
        for name, cols_, unique in indexes:
            self.add_index(doctype, name, cols_, unique)

    def add_columns(self, doctype, columns):
        for c, t in columns:
            self._execute(f"ALTER TABLE {table(doctype)} ADD COLUMN {quote(c)} {t}", ())

    def change_column_type(self, doctype, column, sql_type):
        # SQLite columns are dynamically typed: the declared type only sets affinity,
        # and every value we store is already coerced by its field type.
        return False

    def drop_index(self, doctype, index_name):
        self._execute(f"DROP INDEX IF EXISTS {quote(index_name)}", ())

    def next_series_value(self, key, digits_unused=None, step=1):
        rows = self.sql(
            "INSERT INTO `tabSeries` (`name`, `current`) VALUES (%s, %s) "
            "ON CONFLICT(`name`) DO UPDATE SET `current` = `current` + %s RETURNING `current`",
            (key, int(step), int(step)))
        return rows[0][0]

    def set_series_value(self, key, value):
        self.sql("INSERT INTO `tabSeries` (`name`, `current`) VALUES (%s, %s) "
                 "ON CONFLICT(`name`) DO UPDATE SET `current` = excluded.`current`", (key, value))

    def is_unique_violation(self, exc):
        return isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc)

    def is_missing_table(self, exc):
        return isinstance(exc, sqlite3.OperationalError) and "no such table" in str(exc)

    def client_value_error(self, exc):
        from ..exceptions import DataError
        text = str(exc)
        if isinstance(exc, OverflowError) and "SQLite" in text:
            return DataError("a number is too large to store or compare")
        if isinstance(exc, sqlite3.IntegrityError) and "datatype mismatch" in text or \
                isinstance(exc, sqlite3.ProgrammingError) and "binding parameter" in text:
            return DataError("a value is not of the type its field stores")
        return super().client_value_error(exc)

    def database_size(self):
        return os.path.getsize(self.path) if os.path.exists(self.path) else 0
