"""lowcode.db, Frappe's frappe.db: get_value / get_values / get_single_value / set_value /
exists / count / delete / sql with Frappe's meaning (no permission checks, no
controllers), identifiers only from metadata, values bound; the raw connection's
methods stay reachable through it."""
import uuid

import pytest

import lowcode
from lowcode.exceptions import DataError, DoesNotExistError, InvalidFieldError, PermissionError, ValidationError

QUOTED = "O'Brien \"q\" `x` %s ;-- \\"


@pytest.fixture(scope="module")
def data(site, bench):
    """A DocType with a child table and a mandatory field, three documents, and a
    Single DocType never saved (committed once per site)."""
    u = uuid.uuid4().hex[:6]
    child, dt, single = f"DB Row {u}", f"DB Doc {u}", f"DB Settings {u}"
    perms = [{"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1}]
    with lowcode.site_context(site, bench=bench) as local:
        lowcode.get_doc({"doctype": "DocType", "name": child, "module": "Custom", "istable": 1, "fields": [
            {"fieldname": "item", "fieldtype": "Data"}, {"fieldname": "qty", "fieldtype": "Int"}]}).insert()
        lowcode.get_doc({"doctype": "DocType", "name": dt, "module": "Custom", "autoname": "field:title",
                         "permissions": perms, "fields": [
                             {"fieldname": "title", "fieldtype": "Data", "reqd": 1},
                             {"fieldname": "status", "fieldtype": "Select", "options": "Open\nClosed"},
                             {"fieldname": "qty", "fieldtype": "Int"},
                             {"fieldname": "items", "fieldtype": "Table", "options": child}]}).insert()
        lowcode.get_doc({"doctype": "DocType", "name": single, "module": "Custom", "issingle": 1,
                         "permissions": perms, "fields": [
                             {"fieldname": "limit_rows", "fieldtype": "Int", "default": "7"},
                             {"fieldname": "label", "fieldtype": "Data"}]}).insert()
        for title, status, qty, items in [("Alpha", "Open", 1, [("pen", 2)]), ("Beta", "Open", 2, []),
                                          ("Gamma", "Closed", 3, [("ink", 5), ("pen", 1)])]:
            lowcode.get_doc({"doctype": dt, "title": title, "status": status, "qty": qty,
                             "items": [{"item": i, "qty": q} for i, q in items]}).insert()
        local.db.commit()
    return {"dt": dt, "child": child, "single": single}


def test_get_value_by_name_filters_and_fields(ctx, data):
    dt, db = data["dt"], lowcode.db
    assert db.get_value(dt, "Alpha", "qty") == 1
    assert db.get_value(dt, "Alpha") == "Alpha"  # fieldname defaults to name
    assert db.get_value(dt, {"status": "Closed"}, "title") == "Gamma"
    assert db.get_value(dt, [["qty", ">", 1], ["status", "=", "Open"]], "title") == "Beta"
    assert db.get_value(dt, {"qty": [">=", 2]}, ["title", "qty"], order_by="qty desc") == ("Gamma", 3)
    assert db.get_value(dt, "Beta", ["status", "qty"], as_dict=True) == {"status": "Open", "qty": 2}
    assert db.get_value(dt, "Nobody", "qty") is None
    assert db.get_value(dt, None, "qty") is None  # Frappe: no filters reads a Single, and this is none
    # a child-table filter, and a list of names
    assert db.get_value(dt, [[data["child"], "item", "=", "ink"]], "title") == "Gamma"
    assert sorted(db.get_values(dt, ["Alpha", "Gamma"], "title", pluck=True)) == ["Alpha", "Gamma"]
    assert db.get_values(dt, {"status": "Open"}, ["title", "qty"], order_by="qty asc") == [("Alpha", 1), ("Beta", 2)]
    assert db.get_values(dt, {"status": "Open"}, "title", as_dict=True, order_by="title") == \
        [{"title": "Alpha"}, {"title": "Beta"}]
    assert db.get_value(dt, "Alpha", "*", as_dict=True)["status"] == "Open"


def test_child_table_rows(ctx, data):
    db, child = lowcode.db, data["child"]
    assert db.get_values(child, {"parent": "Gamma", "parenttype": data["dt"]}, ["item", "qty"], order_by="idx") == \
        [("ink", 5), ("pen", 1)]
    row = db.get_value(child, {"parent": "Gamma", "item": "pen"}, "name")
    db.set_value(child, row, "qty", 9)
    assert db.get_value(child, row, "qty") == 9
    assert db.count(child, {"parent": "Gamma"}) == 2


def test_unknown_identifiers_are_named_and_never_reach_sql(ctx, data):
    dt, db = data["dt"], lowcode.db
    with pytest.raises(InvalidFieldError) as e:
        db.get_value(dt, "Alpha", "no_such_field")
    assert "no_such_field" in e.value.message and e.value.field == "no_such_field"
    with pytest.raises(InvalidFieldError) as e:
        db.get_value(dt, {"nope": 1}, "name")
    assert e.value.field == "nope"
    with pytest.raises(InvalidFieldError) as e:
        db.set_value(dt, "Alpha", "qty`=1; DROP TABLE x; --", 1)
    assert "DROP" in e.value.message
    with pytest.raises(InvalidFieldError):
        db.set_value(dt, "Alpha", "name", "Renamed")  # a rename is lowcode.rename_doc
    with pytest.raises(DoesNotExistError) as e:
        db.get_value("No Such Type", "x", "name")
    assert "No Such Type" in e.value.message
    for call in (lambda: db.count("No Such Type"), lambda: db.delete("No Such Type", {"name": "x"}),
                 lambda: db.set_value("No Such Type", "x", "a", 1)):
        with pytest.raises(DoesNotExistError):
            call()
    assert db.get_value("No Such Type", "x", "name", ignore=True) is None
    assert db.get_value(dt, "Alpha", "no_such_field", ignore=True) is None
    with pytest.raises(DataError) as e:
        db.set_value(dt, "Alpha", "qty", "many")
    assert e.value.field == "qty"
    assert db.get_value(dt, "Alpha", "qty") == 1


def test_set_value_is_a_direct_update(ctx, data):
    dt, db = data["dt"], lowcode.db
    before = db.get_value(dt, "Alpha", ["modified", "modified_by"], as_dict=True)
    db.set_value(dt, "Alpha", "title", None)  # mandatory, yet no validation runs (Frappe's db.set_value)
    assert db.get_value(dt, "Alpha", "title") is None
    stamped = db.get_value(dt, "Alpha", "modified")
    assert str(stamped) > str(before["modified"])
    db.set_value(dt, "Alpha", {"qty": "4", "status": "Closed"}, update_modified=False)
    assert db.get_value(dt, "Alpha", ["qty", "status", "modified"]) == (4, "Closed", stamped)
    lowcode.set_user("Guest")
    db.set_value(dt, "Alpha", "qty", 5)
    assert db.get_value(dt, "Alpha", ["qty", "modified_by"]) == (5, "Guest")
    assert str(db.get_value(dt, "Alpha", "modified")) > str(before["modified"])
    # filters set many rows; values are bound, never formatted in
    db.set_value(dt, {"status": "Open"}, "status", QUOTED)
    assert db.get_values(dt, {"status": QUOTED}, "name", pluck=True) == ["Beta"]


def test_single_doctype(ctx, data):
    single, db = data["single"], lowcode.db
    assert db.get_single_value(single, "limit_rows") == 7  # never saved: its default
    assert db.get_value(single, None, "limit_rows") == 7
    assert db.get_value(single, single, ["limit_rows", "label"]) == (7, None)
    assert db.exists(single) == single
    db.set_value(single, None, "label", "first")
    assert db.get_single_value(single, "label") == "first"
    assert db.get_single_value(single, "limit_rows") == 7
    db.set_single_value(single, {"limit_rows": 3})
    assert db.get_value(single, single, ["limit_rows", "label"], as_dict=True) == {"limit_rows": 3, "label": "first"}
    assert lowcode.get_doc(single).limit_rows == 3
    with pytest.raises(InvalidFieldError):
        db.get_single_value(single, "nope")
    with pytest.raises(ValidationError) as e:
        db.get_single_value(data["dt"], "qty")
    assert data["dt"] in e.value.message


def test_exists_count_delete(ctx, data):
    dt, db = data["dt"], lowcode.db
    assert db.exists(dt, "Beta") == "Beta"
    assert db.exists(dt, "Nobody") is None
    assert db.exists(dt, {"status": "Closed"}) == "Gamma"
    assert db.exists({"doctype": dt, "qty": 2}) == "Beta"
    assert db.exists(dt, None) is None
    assert db.exists("No Such Type", "x") is None  # Frappe ignores a missing table here
    with pytest.raises(InvalidFieldError):
        db.exists(dt, {"nope": 1})
    assert db.count(dt) == 3
    assert db.count(dt, {"status": "Open"}) == 2
    assert db.count(dt, [["qty", ">", 1]]) == 2
    db.delete(dt, {"status": "Open"})
    assert db.count(dt) == 1 and db.exists(dt, "Gamma")
    db.delete(dt, "Gamma")
    assert db.count(dt) == 0
    assert db.count(data["child"], {"parent": "Gamma"}) == 2  # child rows stay, as Frappe's db.delete


def test_no_permission_checks(ctx, data):
    """lowcode.db.* reads whatever app code asks for; lowcode.get_list checks."""
    dt = data["dt"]
    lowcode.set_user("Guest")
    assert lowcode.db.get_value(dt, "Beta", "qty") == 2
    assert lowcode.db.count(dt) == 3
    assert lowcode.get_all(dt, filters={"name": "Beta"}, pluck="qty") == [2]
    with pytest.raises(PermissionError):
        lowcode.get_list(dt, filters={"name": "Beta"})


def test_sql_binds_values(ctx, data):
    dt, db = data["dt"], lowcode.db
    table = f"`tab{dt}`"
    assert list(db.sql(f"SELECT `title`, `qty` FROM {table} WHERE `name`=%s", ("Beta",))) == [("Beta", 2)]
    assert db.sql(f"SELECT `title` FROM {table} WHERE `status`=%(s)s AND `qty`>%(q)s ORDER BY `qty`",
                  {"s": "Open", "q": 0}, pluck=True) == ["Alpha", "Beta"]
    assert db.sql(f"SELECT `qty` FROM {table} WHERE `name`=%s", ["Gamma"], as_dict=True) == [{"qty": 3}]
    assert db.sql(f"SELECT `qty` FROM {table} WHERE `name`=%s", ["Gamma"], as_list=True) == [[3]]
    assert list(db.sql(f"SELECT `name` FROM {table} WHERE `title`=%s", (QUOTED,))) == []
    with pytest.raises(ValidationError) as e:
        db.sql(f"SELECT 1 FROM {table} WHERE `name`=%(missing)s", {"other": 1})
    assert "missing" in e.value.message
    db.sql(f"UPDATE {table} SET `status`=%s WHERE `name`=%s", (QUOTED, "Beta"))
    assert db.get_value(dt, "Beta", "status") == QUOTED


def test_raw_connection_methods_stay_reachable(ctx, data):
    db = lowcode.db
    assert db.db_type == ctx.db.db_type
    assert db.table_exists(data["dt"])
    db.begin()
    assert db.in_transaction
    db.set_value(data["dt"], "Beta", "qty", 8)
    db.rollback()
    assert db.get_value(data["dt"], "Beta", "qty") == 2
    assert ctx.db.get_value(data["dt"], "Beta", "qty") == 2  # the raw driver's own get_value


def test_get_value_for_update_locks_the_row(ctx, data):
    """MariaDB: another connection cannot change the row until this one commits (SQLite:
    the write transaction holds the database's one write lock anyway)."""
    from lowcode import database
    dt, db = data["dt"], lowcode.db
    db.begin()
    assert db.get_value(dt, "Beta", "qty", for_update=True, cache=True) == 2
    if ctx.db.db_type != "mariadb":
        return
    other = database.connect(ctx.conf, ctx.site_path)
    try:
        other.sql("SET SESSION innodb_lock_wait_timeout=1")
        with pytest.raises(Exception) as e:
            other.sql(f"UPDATE `tab{dt}` SET `qty`=9 WHERE `name`='Beta'")
        assert database.error_kind(e.value) == "lock_timeout"
    finally:
        other.rollback()
        other.close()
