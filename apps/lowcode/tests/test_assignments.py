"""The assignment table (lowcode/assignments.py) stays in step with ``_assign``
through every path that changes assignments: assign and unassign in the desk, closing
or cancelling the ToDo, bulk assign, deleting and renaming the document, and the
backfill ``lowcode migrate`` runs on sites made before the table. Row rules read the
table, so a row that drifted would be shown to the wrong user or hidden from the
right one."""
import json

import pytest

import lowcode
from lowcode.assignments import TABLE, backfill, read_assign

from .desk_helpers import as_user, make_user


@pytest.fixture
def task(ctx, make_doctype, unique):
    doctype = make_doctype([{"fieldname": "title", "fieldtype": "Data", "label": "Title", "reqd": 1}],
                           name=f"Chore {unique}", title_field="title", allow_rename=1)
    users = [make_user(unique, tag, ["System Manager"]) for tag in ("ann", "bob")]
    doc = lowcode.get_doc({"doctype": doctype, "title": "sweep"}).insert()
    return {"doctype": doctype, "name": doc.name, "doc": doc, "users": users}


def table_rows(doctype, name=None):
    sql = f"SELECT `user`, `reference_name` FROM `tab{TABLE}` WHERE `reference_type`=%s"
    values = [doctype]
    if name:
        sql += " AND `reference_name`=%s"
        values.append(name)
    return sorted(tuple(r) for r in lowcode.db.sql(sql, values))


def assert_in_step(doctype, name):
    """The table holds exactly the users of the document's _assign."""
    assert table_rows(doctype, name) == sorted((u, name) for u in read_assign(doctype, name))


def test_assign_close_cancel_and_unassign_keep_the_table_in_step(ctx, task):
    from lowcode.desk.views.collaboration import assign, unassign
    ann, bob = task["users"]
    doctype, name = task["doctype"], task["name"]
    assert assign(task["doc"], [ann, bob]) == [ann, bob]
    assert table_rows(doctype, name) == [(ann, name), (bob, name)]
    assert_in_step(doctype, name)
    # Closing Ann's ToDo takes her off the document, in both places.
    todo = lowcode.get_all("ToDo", filters={"reference_name": name, "allocated_to": ann}, pluck="name")[0]
    with as_user(ann):
        lowcode.set_value("ToDo", todo, "status", "Closed")
    assert table_rows(doctype, name) == [(bob, name)]
    assert_in_step(doctype, name)
    # Unassigning Bob cancels his ToDo: nobody left.
    unassign(lowcode.get_doc(doctype, name), bob)
    assert read_assign(doctype, name) == [] and table_rows(doctype, name) == []
    # Cancelling a ToDo directly does the same.
    assign(lowcode.get_doc(doctype, name), [ann])
    todo = lowcode.get_all("ToDo", filters={"reference_name": name, "status": "Open"}, pluck="name")[0]
    lowcode.set_value("ToDo", todo, "status", "Cancelled")
    assert table_rows(doctype, name) == []
    assert_in_step(doctype, name)


def test_bulk_assign_fills_the_table(ctx, task):
    from lowcode.desk.views.bulk import bulk_assign
    ann = task["users"][0]
    doctype = task["doctype"]
    other = lowcode.get_doc({"doctype": doctype, "title": "mop"}).insert().name
    bulk_assign(doctype, [task["name"], other], ann)
    assert table_rows(doctype) == sorted([(ann, task["name"]), (ann, other)])
    for name in (task["name"], other):
        assert_in_step(doctype, name)


def test_delete_and_rename_carry_the_rows(ctx, task):
    from lowcode.desk.views.bulk import bulk_assign
    ann, bob = task["users"]
    doctype, name = task["doctype"], task["name"]
    bulk_assign(doctype, [name], ann)
    bulk_assign(doctype, [name], bob)
    new = lowcode.rename_doc(doctype, name, f"{name}-renamed")
    assert table_rows(doctype) == [(ann, new), (bob, new)]
    assert_in_step(doctype, new)
    lowcode.delete_doc(doctype, new)
    assert table_rows(doctype) == []


def test_migrate_backfills_from_assign(ctx, task):
    """A site made before the table: its documents' _assign alone say who is assigned.
    create_table (run by lowcode migrate) fills the table from them."""
    ann, bob = task["users"]
    doctype, name = task["doctype"], task["name"]
    other = lowcode.get_doc({"doctype": doctype, "title": "mop"}).insert().name
    lowcode.db.sql(f"UPDATE `tab{doctype}` SET `_assign`=%s WHERE `name`=%s", (json.dumps([ann, bob]), name))
    lowcode.db.sql(f"UPDATE `tab{doctype}` SET `_assign`=%s WHERE `name`=%s", ("not json", other))
    assert table_rows(doctype) == []
    assert backfill(lowcode.db, [doctype]) == 2
    assert table_rows(doctype) == [(ann, name), (bob, name)]


def test_every_site_has_the_table(ctx):
    assert lowcode.db.table_exists(TABLE)
