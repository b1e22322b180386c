"""caches.memo_records: a value read once per request or job, forgotten when a record of its
DocType is written (document path, lowcode.db), and not kept while the transaction that wrote
one is open (a rollback would undo what was read)."""
import lowcode
from lowcode.caches import memo_records
from lowcode.context import local


def _counting(doctype, key):
    loads = []

    def load():
        loads.append(1)
        return lowcode.db.count(doctype)
    return (lambda: memo_records(doctype, key, load)), loads


def test_kept_until_a_record_is_written_then_read_again_until_the_savepoint_ends(ctx, unique):
    local.db.begin()  # (the savepoint needs a unit of work to sit in on SQLite)
    read, loads = _counting("Role", "count")
    before = read()
    assert (read(), len(loads)) == (before, 1)  # kept
    local.db.savepoint("memo")
    lowcode.get_doc({"doctype": "Role", "role_name": f"Memo {unique}"}).insert(ignore_permissions=True)
    assert read() == before + 1  # the write is seen at once
    assert read() == before + 1 and len(loads) == 3  # and nothing is kept while the write may be undone
    local.db.rollback_to_savepoint("memo")
    local.db.release_savepoint("memo")
    assert read() == before and read() == before and len(loads) == 4  # kept again after the undo


def test_lowcode_db_writes_forget_it(ctx):
    local.db.begin()
    read, loads = _counting("Role", "count")
    before = read()
    for write in (lambda: lowcode.db.delete("Role", {"name": "Guest"}),
                  lambda: lowcode.db.sql("DELETE FROM `tabRole` WHERE `name`=%s", ("Guest",)),  # Frappe's db.sql
                  lambda: lowcode.db.set_value("Role", "Guest", "disabled", 1)):
        assert read() == before
        local.db.savepoint("memo")
        write()
        assert read() == before - (0 if "set_value" in repr(write.__code__.co_names) else 1)
        local.db.rollback_to_savepoint("memo")
        local.db.release_savepoint("memo")
    # each write forgot it (4 loads between the 3 undone writes), then it is kept again
    assert read() == read() == before
    assert len(loads) == 1 + 3 + 3
