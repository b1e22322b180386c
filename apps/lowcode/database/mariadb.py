"""MariaDB: the production engine (InnoDB, utf8mb4)."""
import re
import time

import MySQLdb
from MySQLdb.constants import CR, ER, FIELD_TYPE
from MySQLdb.converters import conversions

from .base import Database, quote, table

# Return temporal and decimal values in the same canonical form SQLite stores them
# (ISO strings, floats), so documents look the same on both engines with no per-value
# conversion in Python.
_CONV = dict(conversions)
_CONV.update({
    FIELD_TYPE.DATETIME: str, FIELD_TYPE.TIMESTAMP: str, FIELD_TYPE.DATE: str,
    FIELD_TYPE.TIME: str, FIELD_TYPE.NEWDECIMAL: float, FIELD_TYPE.DECIMAL: float,
})

_TYPES = {
    "varchar": "varchar({length})", "text": "text", "longtext": "longtext", "int": "int(11)",
    "bigint": "bigint(20)", "decimal": "decimal(30,9)", "date": "date",
    "datetime": "datetime(6)", "datetime_seconds": "datetime", "time": "time", "json": "longtext",
}


# Errors of a value the server refused (strict mode), and what to tell the client.
_VALUE_ERRORS = {
    ER.DATA_TOO_LONG: "the value is too long for this field",
    ER.WARN_DATA_OUT_OF_RANGE: "the value is out of range for this field",
    ER.DATA_OUT_OF_RANGE: "the value is out of range for this field",
    ER.TRUNCATED_WRONG_VALUE: "the value is not valid for this field",
    ER.TRUNCATED_WRONG_VALUE_FOR_FIELD: "the value is not valid for this field",
    ER.WARN_DATA_TRUNCATED: "the value is not valid for this field",
}
# "... for column `db`.`table`.`col` at row 1" or "... for column 'col' at row 1": the last part.
_COLUMN_RE = re.compile(r"for column (?:[`'][^`']*[`']\.)*[`']([^`']+)[`']")

# What a driver error means for a client (database.error_kind); MariaDB's own codes
# without a constant in the driver: 1927 connection killed, 1969 max_statement_time. A server
# shutting down (a restart) answers the statements still running with SERVER_SHUTDOWN.
_ERROR_KINDS = {
    ER.DUP_ENTRY: "duplicate", ER.LOCK_WAIT_TIMEOUT: "lock_timeout", 1969: "lock_timeout",
    ER.LOCK_DEADLOCK: "deadlock", ER.NO_SUCH_TABLE: "schema", ER.BAD_FIELD_ERROR: "schema",
    CR.SERVER_GONE_ERROR: "connection", CR.SERVER_LOST: "connection", CR.CONN_HOST_ERROR: "connection",
    CR.CONNECTION_ERROR: "connection", 1927: "connection", ER.SERVER_SHUTDOWN: "connection",
    CR.SERVER_LOST_EXTENDED: "connection",
}


# A statement that changes data or schema: counted per transaction, so reads after a write
# in the same request stay on the primary (database/replicas.py).
_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|ALTER|DROP|TRUNCATE|RENAME)\b", re.I).match

# An ALTER TABLE needs the table's metadata lock, which every statement on the table holds
# while it runs; and while the ALTER waits for it, every new statement on the table queues
# behind the ALTER. So each attempt waits at most DDL_WAIT seconds (ALTER ... WAIT n), the
# queue drains in between, and the ALTER is tried again until DDL_PATIENCE seconds have passed.
DDL_WAIT = 1
DDL_PATIENCE = 60.0


def error_kind(exc):
    if not isinstance(exc, MySQLdb.MySQLError):
        return None
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
    if isinstance(exc, MySQLdb.InterfaceError):
        return "connection"  # the connection is closed: (0, '')
    return _ERROR_KINDS.get(code, "database")


class MariaDBDatabase(Database):
    db_type = "mariadb"

    def connect(self):
        c = self.conf
        self.conn = MySQLdb.connect(
            host=c.get("db_host", "127.0.0.1"), port=int(c.get("db_port", 3306)),
            user=c["db_user"], passwd=c["db_password"], db=c["db_name"],
            charset="utf8mb4", use_unicode=True, conv=_CONV, autocommit=False,
            connect_timeout=int(c.get("db_connect_timeout", 10)),
        )
        cur = self.conn.cursor()
        cur.execute("SET SESSION sql_mode='STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'")
        cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")

    def _execute(self, query, values):
        cur = self.conn.cursor()
        if not self.read_only and _WRITE(query):
            self.transaction_writes += 1
        try:
            cur.execute(query, tuple(values) if values else None)
        except MySQLdb.Error as e:
            self.refuse_write(e)
            raise
        return cur

    def executemany(self, query, rows):
        self.transaction_writes += 1
        try:
            self.conn.cursor().executemany(query, rows)
        except MySQLdb.Error as e:
            self.refuse_write(e)
            raise

    def _is_read_only_refusal(self, exc):
        return bool(exc.args) and exc.args[0] == ER.CANT_EXECUTE_IN_READ_ONLY_TRANSACTION

    def _set_read_only(self, read_only):
        # The session's mode, not START TRANSACTION READ ONLY: DDL commits implicitly and
        # would run outside a read-only transaction, while a read-only session refuses it
        # too. It applies from the next transaction (none is open here) and stays, so a
        # run of GET requests on one connection pays for it once.
        self._execute(f"SET SESSION TRANSACTION {'READ ONLY' if read_only else 'READ WRITE'}", ())

    def _begin(self, write):
        # Without autocommit every statement already runs in a transaction that the
        # next commit or rollback ends; an explicit START would cost a round trip.
        pass

    # -- DDL ---------------------------------------------------------------------
    def column_sql_type(self, kind, length=None):
        return _TYPES[kind].format(length=length or 140)

    def table_exists(self, doctype):
        return bool(self.sql(
            "SELECT 1 FROM information_schema.tables WHERE table_schema=DATABASE() AND table_name=%s",
            ("tab" + doctype,)))

    def get_columns(self, doctype):
        return {r[0]: r[1].lower() for r in self.sql(
            "SELECT column_name, column_type FROM information_schema.columns "
            "WHERE table_schema=DATABASE() AND table_name=%s", ("tab" + doctype,))}

    def get_indexes(self, doctype):
        out = {}
        for name, non_unique, col in self.sql(
                "SELECT index_name, non_unique, column_name FROM information_schema.statistics "
                "WHERE table_schema=DATABASE() AND table_name=%s ORDER BY index_name, seq_in_index",
                ("tab" + doctype,)):
            if name == "PRIMARY":
                continue
            out.setdefault(name, (not non_unique, []))[1].append(col)
        return out

    def create_table(self, doctype, columns, indexes):
        parts = [f"{quote(c)} {t}" for c, t in columns] + ["PRIMARY KEY (`name`)"]
        for name, cols, unique in indexes:
            parts.append(f"{'UNIQUE ' if unique else ''}INDEX {quote(name)} "
                         f"({', '.join(quote(c) for c in cols)})")
        self._execute(
            f"CREATE TABLE {table(doctype)} (\n  " + ",\n  ".join(parts) +
            "\n) ENGINE=InnoDB ROW_FORMAT=DYNAMIC CHARACTER SET=utf8mb4 COLLATE=utf8mb4_unicode_ci", ())

    def alter_table(self, doctype, changes):
        """``ALTER TABLE tab<doctype> WAIT n <changes>``, tried again while the table's
        metadata lock is held by running statements (DDL_WAIT, DDL_PATIENCE); past that,
        the lock-wait error, which a client gets as a 503 "the database is busy"."""
        deadline = time.monotonic() + DDL_PATIENCE
        pause = 0.05
        while True:
            try:
                return self._execute(f"ALTER TABLE {table(doctype)} WAIT {DDL_WAIT} {changes}", ())
            except MySQLdb.OperationalError as e:
                if e.args[0] != ER.LOCK_WAIT_TIMEOUT or time.monotonic() + pause > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 1.0)

    def add_columns(self, doctype, columns):
        # ALGORITHM=INSTANT only touches the data dictionary: no table copy and no
        # lock on reads or writes, whatever the table's size.
        adds = ", ".join(f"ADD COLUMN {quote(c)} {t}" for c, t in columns)
        try:
            self.alter_table(doctype, f"{adds}, ALGORITHM=INSTANT")
        except MySQLdb.OperationalError as e:
            if e.args[0] != ER.ALTER_OPERATION_NOT_SUPPORTED_REASON:
                raise
            self.alter_table(doctype, f"{adds}, ALGORITHM=INPLACE, LOCK=NONE")

    def change_column_type(self, doctype, column, sql_type):
        self.alter_table(doctype, f"MODIFY COLUMN {quote(column)} {sql_type}")
        return True

    def add_index(self, doctype, index_name, columns, unique=False):
        u = "UNIQUE " if unique else ""
        self.alter_table(doctype, f"ADD {u}INDEX {quote(index_name)} "
                                  f"({', '.join(quote(c) for c in columns)}), ALGORITHM=INPLACE, LOCK=NONE")

    def drop_index(self, doctype, index_name):
        self.alter_table(doctype, f"DROP INDEX {quote(index_name)}")

    def next_series_value(self, key, digits_unused=None, step=1):
        # The upsert takes the row's exclusive lock; it is held until commit, so a
        # concurrent insert waits here instead of reading the same value. LAST_INSERT_ID(x)
        # hands the new value back with the statement's answer (the connection's own, so no
        # other session's counter), saving a SELECT's round trip on every named insert.
        cursor = self._execute("INSERT INTO `tabSeries` (`name`, `current`) VALUES (%s, LAST_INSERT_ID(%s)) "
                               "ON DUPLICATE KEY UPDATE `current` = LAST_INSERT_ID(`current` + %s)",
                               (key, int(step), int(step)))
        return int(cursor.lastrowid)

    def release_savepoint(self, name):
        # A savepoint ends with its transaction, and MariaDB replaces one set again under the
        # same name (every caller uses a fixed name): a RELEASE is a round trip for nothing
        # (a Data Import sets one per row), so only the bookkeeping is dropped.
        self._savepoints.pop(name, None)

    def set_series_value(self, key, value):
        self._execute("INSERT INTO `tabSeries` (`name`, `current`) VALUES (%s, %s) "
                      "ON DUPLICATE KEY UPDATE `current` = VALUES(`current`)", (key, value))

    def is_unique_violation(self, exc):
        return isinstance(exc, MySQLdb.IntegrityError) and exc.args[0] == ER.DUP_ENTRY

    def is_missing_table(self, exc):
        return isinstance(exc, MySQLdb.ProgrammingError) and exc.args[0] == ER.NO_SUCH_TABLE

    def client_value_error(self, exc):
        from ..exceptions import DataError
        problem = _VALUE_ERRORS.get(exc.args[0]) if isinstance(exc, MySQLdb.MySQLError) and exc.args else None
        if problem is None:
            return super().client_value_error(exc)
        m = _COLUMN_RE.search(str(exc.args[-1]))
        column = m.group(1) if m else None
        return DataError(f"{column}: {problem}" if column else f"a value {problem}", field=column)

    def database_size(self):
        rows = self.sql("SELECT SUM(data_length + index_length) FROM information_schema.tables "
                        "WHERE table_schema=DATABASE()")
        return rows[0][0] if rows else None
