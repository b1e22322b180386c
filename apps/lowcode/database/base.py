"""The engine-independent part of a database connection: queries, transactions,
read-only mode, after-commit callbacks and the shape of the DDL the schema module asks for."""
import functools
import re

from ..exceptions import ReadOnlyError

_IDENT_RE = re.compile(r"^[A-Za-z0-9_ \-]+$")


def quote(identifier):
    """Back-quote an identifier taken from metadata; refuse anything else."""
    if not _IDENT_RE.match(identifier or ""):
        raise ValueError(f"Illegal identifier {identifier!r}")
    return f"`{identifier}`"


def table(doctype):
    return quote("tab" + doctype)


@functools.lru_cache(maxsize=1024)
def _insert_sql(doctype, columns):
    """The INSERT of a row of these columns: the same few for every document of a DocType,
    so each is quoted and joined once, not once per row (a Data Import writes 100k)."""
    return (f"INSERT INTO {table(doctype)} ({', '.join(quote(c) for c in columns)}) "
            f"VALUES ({', '.join(['%s'] * len(columns))})")


class Database:
    db_type = None
    #: how the schema module asks for a column type, e.g. 'varchar(140)'; each engine maps it
    unique_violation = ()

    def __init__(self, conf, site_path):
        self.conf = conf
        self.site_path = site_path
        self.conn = None
        self.in_transaction = False
        self.read_only = False
        self._after_commit = []
        self._after_rollback = []
        self._savepoints = {}
        self.transaction_writes = 0
        self.connect()

    # -- connection --------------------------------------------------------------
    def connect(self):
        raise NotImplementedError

    def close(self):
        if self.conn is not None:
            try:
                if self.in_transaction:
                    self.rollback()
            finally:
                self.conn.close()
                self.conn = None

    # -- queries -----------------------------------------------------------------
    def _execute(self, query, values):
        raise NotImplementedError

    def sql(self, query, values=(), as_dict=False, pluck=False):
        """Run a query and return its rows: tuples, dicts (``as_dict``) or the first
        column (``pluck``). Values are bound parameters, never formatted in."""
        cursor = self._execute(query, values)
        if cursor.description is None:
            return []
        rows = cursor.fetchall()
        if pluck:
            return [r[0] for r in rows]
        if as_dict:
            cols = [d[0] for d in cursor.description]
            return [dict(zip(cols, r)) for r in rows]
        return rows

    def sql_cursor(self, query, values=()):
        return self._execute(query, values)

    def executemany(self, query, rows):
        raise NotImplementedError

    def insert_row(self, doctype, row):
        self._execute(_insert_sql(doctype, tuple(row)), list(row.values()))

    def bulk_insert(self, doctype, columns, rows):
        self.executemany(
            f"INSERT INTO {table(doctype)} ({', '.join(quote(c) for c in columns)}) "
            f"VALUES ({', '.join(['%s'] * len(columns))})",
            rows,
        )

    def get_value(self, doctype, name, fieldname):
        rows = self.sql(f"SELECT {quote(fieldname)} FROM {table(doctype)} WHERE `name`=%s", (name,))
        return rows[0][0] if rows else None

    def exists(self, doctype, name):
        return bool(self.sql(f"SELECT 1 FROM {table(doctype)} WHERE `name`=%s", (name,)))

    # -- read-only mode ----------------------------------------------------------
    def set_read_only(self, read_only):
        """Refuse every write on this connection (``True``) until set back, enforced by
        the database itself: GET, HEAD and OPTIONS requests run so, since a link on
        another site can make a logged-in browser send them. A write then raises
        ReadOnlyError (HTTP 405), whichever code path tries it: a GET never writes.
        Call it between units of work (no open transaction); it costs nothing when the
        mode does not change."""
        read_only = bool(read_only)
        if read_only == self.read_only:
            return
        if self.in_transaction:
            raise RuntimeError("set_read_only() between transactions only: commit or roll back first")
        self._set_read_only(read_only)
        self.read_only = read_only

    def _set_read_only(self, read_only):
        raise NotImplementedError

    def refuse_write(self, exc):
        """Raise ReadOnlyError when ``exc`` is the engine refusing a write in read-only
        mode; otherwise return, and the caller re-raises ``exc``."""
        if self.read_only and self._is_read_only_refusal(exc):
            raise ReadOnlyError("This request only reads and cannot change data (a GET request "
                                "never writes): send the change as POST") from exc

    def _is_read_only_refusal(self, exc):
        raise NotImplementedError

    # -- transactions ------------------------------------------------------------
    def begin(self, write=True):
        """Start the unit of work of a request, job or command. ``write`` says whether it
        means to write (on SQLite it takes the write lock up front); it never lifts
        the read-only mode (set_read_only)."""
        if self.in_transaction:
            return
        self._begin(write and not self.read_only)
        self.in_transaction = True
        self.transaction_writes = 0

    def _begin(self, write):
        raise NotImplementedError

    def commit(self):
        # Without autocommit every statement runs in a transaction, begun or not.
        self.conn.commit()
        self.in_transaction = False
        self.transaction_writes = 0
        callbacks, self._after_commit = self._after_commit, []
        self._after_rollback = []
        for fn in callbacks:
            fn()

    def rollback(self):
        self.conn.rollback()
        self.in_transaction = False
        self.transaction_writes = 0
        callbacks, self._after_rollback = self._after_rollback, []
        self._after_commit = []
        for fn in callbacks:
            fn()

    def after_commit(self, fn):
        """Run ``fn`` once the current transaction commits (dropped on rollback)."""
        self._after_commit.append(fn)

    def after_rollback(self, fn):
        self._after_rollback.append(fn)

    def savepoint(self, name):
        self._execute(f"SAVEPOINT {quote(name)}", ())
        self._savepoints[name] = (len(self._after_commit), len(self._after_rollback))

    def rollback_to_savepoint(self, name):
        """Undo the work since the savepoint, with what it queued: its after-commit
        callbacks (jobs, mails) are dropped and its after-rollback ones (removing a
        written file) run now."""
        self._execute(f"ROLLBACK TO SAVEPOINT {quote(name)}", ())
        commits, rollbacks = self._savepoints.get(name, (len(self._after_commit), len(self._after_rollback)))
        del self._after_commit[commits:]
        undone, self._after_rollback[rollbacks:] = self._after_rollback[rollbacks:], []
        for fn in undone:
            fn()

    def release_savepoint(self, name):
        self._execute(f"RELEASE SAVEPOINT {quote(name)}", ())
        self._savepoints.pop(name, None)

    # -- schema introspection and DDL (engine specific) -------------------------
    def column_sql_type(self, kind, length=None):
        raise NotImplementedError

    def table_exists(self, doctype):
        raise NotImplementedError

    def get_columns(self, doctype):
        """{column name: declared type (lower case)} of an existing table."""
        raise NotImplementedError

    def get_indexes(self, doctype):
        """{index name: (unique, [columns])}."""
        raise NotImplementedError

    def create_table(self, doctype, columns, indexes):
        raise NotImplementedError

    def add_columns(self, doctype, columns):
        raise NotImplementedError

    def change_column_type(self, doctype, column, sql_type):
        raise NotImplementedError

    def add_index(self, doctype, index_name, columns, unique=False):
        u = "UNIQUE " if unique else ""
        self._execute(
            f"CREATE {u}INDEX {quote(index_name)} ON {table(doctype)} "
            f"({', '.join(quote(c) for c in columns)})", ())

    def drop_index(self, doctype, index_name):
        raise NotImplementedError

    def next_series_value(self, key, digits_unused=None, step=1):
        """Increment (by ``step``) and return the counter of a naming series, holding the
        row lock until commit so concurrent inserts never get the same number."""
        raise NotImplementedError

    def set_series_value(self, key, value):
        raise NotImplementedError

    def is_unique_violation(self, exc):
        raise NotImplementedError

    def is_missing_table(self, exc):
        raise NotImplementedError

    def client_value_error(self, exc):
        """A DataError (417, naming the column where the engine says it) when ``exc`` is
        the database refusing a value a client sent, else None. Each engine adds its own
        cases; text no driver can encode (a lone UTF-16 surrogate) is refused by all."""
        if isinstance(exc, UnicodeEncodeError) and "surrogates" in str(exc):
            from ..exceptions import DataError
            return DataError("a text value holds an unpaired UTF-16 surrogate (not valid Unicode)")
        return None

    def database_size(self):
        return None
