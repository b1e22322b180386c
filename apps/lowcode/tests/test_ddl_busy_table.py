"""A custom field added while the table is busy (MariaDB): its ALTER TABLE needs the
table's metadata lock, which a running statement or an open transaction that read the
table holds. The ALTER waits at most DDL_WAIT seconds at a time, so the statements that
queue behind a waiting ALTER get through between its attempts, and it is tried again until
DDL_PATIENCE passes (MariaDBDatabase.alter_table). If it never gets the lock, the custom
field is not recorded: the column comes before the record (CustomField.validate)."""
import threading
import time

import MySQLdb
import pytest

import lowcode
from lowcode.database import error_kind, mariadb


def _connect(conf):
    return MySQLdb.connect(host=conf.get("db_host", "127.0.0.1"), port=int(conf.get("db_port", 3306)),
                           user=conf["db_user"], passwd=conf["db_password"], db=conf["db_name"], autocommit=False)


@pytest.fixture
def busy_doctype(mariadb_ctx, unique):
    name = f"Busy {unique}"
    lowcode.get_doc({"doctype": "DocType", "name": name, "module": "Custom",
                     "fields": [{"fieldname": "title", "label": "Title", "fieldtype": "Data"}],
                     "permissions": [{"role": "System Manager", "read": 1, "write": 1, "create": 1}]}).insert()
    mariadb_ctx.db.commit()
    return name


def _hold(conf, doctype):
    """A connection in a transaction that has read the table: it holds the metadata lock."""
    holder = _connect(conf)
    holder.cursor().execute(f"SELECT COUNT(*) FROM `tab{doctype}`")
    return holder


def _custom_field(doctype, fieldname):
    return lowcode.get_doc({"doctype": "Custom Field", "dt": doctype, "fieldname": fieldname, "label": "Busy",
                            "fieldtype": "Data"})


def test_the_alter_waits_in_short_turns_and_readers_get_through(mariadb_ctx, busy_doctype):
    conf = mariadb_ctx.conf
    holder = _hold(conf, busy_doctype)
    threading.Timer(2.5, holder.commit).start()  # the long transaction ends after 2.5 s
    reads = []

    def reader():
        conn = _connect(conf)
        time.sleep(0.5)
        end = time.monotonic() + 2.5
        while time.monotonic() < end:
            t0 = time.monotonic()
            cur = conn.cursor()
            cur.execute(f"SELECT COUNT(*) FROM `tab{busy_doctype}`")
            cur.fetchall()
            conn.commit()
            reads.append(time.monotonic() - t0)
            time.sleep(0.05)
        conn.close()

    thread = threading.Thread(target=reader)
    thread.start()
    t0 = time.monotonic()
    _custom_field(busy_doctype, "custom_busy").insert()
    mariadb_ctx.db.commit()
    waited = time.monotonic() - t0
    thread.join()
    holder.close()
    assert 2.0 < waited < 10, waited  # it waited for the long transaction, and no longer
    assert "custom_busy" in mariadb_ctx.db.get_columns(busy_doctype)
    # readers queued behind the waiting ALTER for at most one turn (DDL_WAIT), not for the
    # whole wait, and several got through while it waited
    assert reads and max(reads) < mariadb.DDL_WAIT + 0.5, reads
    assert len(reads) >= 3, reads


def test_an_alter_that_never_gets_the_lock_records_nothing(mariadb_ctx, busy_doctype, monkeypatch):
    monkeypatch.setattr(mariadb, "DDL_PATIENCE", 2.0)
    holder = _hold(mariadb_ctx.conf, busy_doctype)
    try:
        with pytest.raises(MySQLdb.OperationalError) as raised:
            _custom_field(busy_doctype, "custom_never").insert()
        assert error_kind(raised.value) == "lock_timeout"  # a 503 "the database is busy" for a client
        mariadb_ctx.db.rollback()
    finally:
        holder.close()
    other = _connect(mariadb_ctx.conf)  # what every other process sees
    try:
        cur = other.cursor()
        cur.execute("SELECT `name` FROM `tabCustom Field` WHERE `dt`=%s", (busy_doctype,))
        assert cur.fetchall() == ()
        cur.execute(f"SHOW COLUMNS FROM `tab{busy_doctype}` LIKE 'custom_never'")
        assert cur.fetchall() == ()
    finally:
        other.close()
