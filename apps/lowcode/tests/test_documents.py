"""Document lifecycle: controller and doc_events order, rollback of a failed save,
stale-write refusal, versions, docstatus rules, link protection on delete, rename,
and single DocTypes."""
import importlib

import pytest

import lowcode
from lowcode import installer
from lowcode.exceptions import (DocstatusTransitionError, DoesNotExistError, LinkExistsError,
                                TimestampMismatchError, ValidationError)
from lowcode.versions import get_versions

METHODS = ["before_insert", "before_validate", "validate", "before_save", "after_insert", "on_update",
           "on_change", "before_submit", "on_submit", "before_cancel", "on_cancel",
           "before_update_after_submit", "on_update_after_submit", "on_trash", "after_delete"]
PERMS = [{"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1, "submit": 1, "cancel": 1}]


@pytest.fixture
def life(ctx, temp_app, unique):
    """A temp app with a submittable DocType whose controller and doc_events record
    every lifecycle call; on_update raises for titles starting 'boom', and an
    after_insert hook of the DocType inserts a 'side' document for 'boom-side'."""
    doctype, side = f"Life Doc {unique}", f"Life Side {unique}"
    cls = doctype.replace(" ", "")
    app_name = f"tmpapp_{unique}_life"
    hooks = (
        "doc_events = {\n"
        f"    '*': {{m: '{app_name}.events.star' for m in {METHODS!r}}},\n"
        f"    {doctype!r}: dict({{m: '{app_name}.events.own' for m in {METHODS!r}}},\n"
        f"                    after_insert=['{app_name}.events.own', '{app_name}.events.make_side']),\n"
        "}\n")
    app = temp_app(hooks=hooks, name=app_name)
    app.write("recorder.py", "CALLS = []\n")
    app.write("events.py", f"""
        import lowcode
        from {app_name}.recorder import CALLS


        def star(doc, method, *args):
            CALLS.append(("*", doc.doctype, method))


        def own(doc, method, *args):
            CALLS.append(("doctype", doc.doctype, method))


        def make_side(doc, method, *args):
            if doc.title == "boom-side":
                lowcode.get_doc({{"doctype": {side!r}, "ref": doc.name}}).insert(ignore_permissions=True)
        """)
    methods = "".join(f"""
            def {m}(self, *args):
                CALLS.append(("controller", self.doctype, {m!r}))
                {"self._maybe_fail()" if m == "on_update" else ""}
            """ for m in METHODS)
    controller = f"""
        from lowcode.document import Document
        from {app_name}.recorder import CALLS


        class {cls}(Document):
            def _maybe_fail(self):
                if (self.title or "").startswith("boom"):
                    raise RuntimeError("on_update failed after the write")
            {methods}
        """
    app.write_doctype({"name": side, "autoname": "hash", "fields": [{"fieldname": "ref", "fieldtype": "Data"}],
                       "permissions": PERMS})
    app.write_doctype({"name": doctype, "autoname": "hash", "is_submittable": 1, "permissions": PERMS,
                       "fields": [{"fieldname": "title", "fieldtype": "Data", "label": "Title"}]},
                      controller=controller)
    installer.install_app(app.name)
    ctx.db.commit()
    ctx.db.begin()
    calls = importlib.import_module(f"{app_name}.recorder").CALLS

    class Life:
        pass
    life = Life()
    life.doctype, life.side, life.app, life.calls = doctype, side, app, calls

    def take():
        out = [f"{who}:{method}" for who, dt, method in calls if dt == doctype]
        calls.clear()
        return out
    life.take = take
    return life


def expected(*methods):
    return [f"{who}:{m}" for m in methods for who in ("controller", "*", "doctype")]


def test_controller_class_is_used(ctx, life):
    doc = lowcode.get_doc({"doctype": life.doctype, "title": "x"})
    assert type(doc).__name__ == life.doctype.replace(" ", "")
    assert isinstance(doc, lowcode.document.Document)


def test_insert_order(ctx, life):
    lowcode.get_doc({"doctype": life.doctype, "title": "one"}).insert()
    assert life.take() == expected("before_insert", "before_validate", "validate", "before_save",
                                   "after_insert", "on_update", "on_change")


def test_save_order(ctx, life):
    doc = lowcode.get_doc({"doctype": life.doctype, "title": "one"}).insert()
    life.take()
    doc = lowcode.get_doc(life.doctype, doc.name)
    doc.title = "two"
    doc.save()
    assert life.take() == expected("before_validate", "validate", "before_save", "on_update", "on_change")


def test_submit_order(ctx, life):
    doc = lowcode.get_doc({"doctype": life.doctype, "title": "one"}).insert()
    life.take()
    lowcode.get_doc(life.doctype, doc.name).submit()
    # document.py: save runs "before_save | before_submit | ..." - one of them, by action
    # (Frappe too: validate -> before_submit on submit, no before_save).
    # As in Frappe: submit validates, then on_update runs before on_submit.
    assert life.take() == expected("before_validate", "validate", "before_submit", "on_update", "on_submit",
                                   "on_change")


def test_cancel_order(ctx, life):
    doc = lowcode.get_doc({"doctype": life.doctype, "title": "one"}).insert()
    lowcode.get_doc(life.doctype, doc.name).submit()
    life.take()
    lowcode.get_doc(life.doctype, doc.name).cancel()
    # As in Frappe: cancel does not validate again.
    assert life.take() == expected("before_cancel", "on_cancel", "on_change")


def test_delete_order(ctx, life):
    doc = lowcode.get_doc({"doctype": life.doctype, "title": "one"}).insert()
    life.take()
    lowcode.delete_doc(life.doctype, doc.name)
    assert life.take() == expected("on_trash", "after_delete")
    assert not ctx.db.exists(life.doctype, doc.name)


def test_hooks_receive_the_document_and_the_method(ctx, life):
    lowcode.get_doc({"doctype": life.doctype, "title": "one"}).insert()
    kinds = {(who, method) for who, dt, method in life.calls if dt == life.doctype}
    assert ("*", "validate") in kinds and ("doctype", "after_insert") in kinds


def test_exception_in_on_update_rolls_back_everything(ctx, life):
    doc = lowcode.get_doc({"doctype": life.doctype, "title": "boom-side"})
    with pytest.raises(RuntimeError):
        doc.insert()
    # the write and the hook's insert happened before on_update raised...
    assert ctx.db.exists(life.doctype, doc.name)
    assert lowcode.get_all(life.side, filters={"ref": doc.name}, pluck="name")
    ctx.db.rollback()
    # ...and the transaction's rollback takes both back
    assert not ctx.db.exists(life.doctype, doc.name)
    assert lowcode.get_all(life.side, filters={"ref": doc.name}, pluck="name") == []


def test_exception_in_on_update_of_save_keeps_the_stored_value(ctx, life):
    doc = lowcode.get_doc({"doctype": life.doctype, "title": "fine"}).insert()
    ctx.db.commit()
    ctx.db.begin()
    loaded = lowcode.get_doc(life.doctype, doc.name)
    loaded.title = "boom"
    with pytest.raises(RuntimeError):
        loaded.save()
    ctx.db.rollback()
    assert lowcode.get_value(life.doctype, doc.name, "title") == "fine"
    ctx.db.begin()
    lowcode.delete_doc(life.doctype, doc.name)
    ctx.db.commit()


# -- stale writes -------------------------------------------------------------------------

def test_stale_write_is_refused(ctx, make_doctype):
    dt = make_doctype([{"fieldname": "title", "fieldtype": "Data"}])
    name = lowcode.get_doc({"doctype": dt, "title": "original"}).insert().name
    first = lowcode.get_doc(dt, name)
    second = lowcode.get_doc(dt, name)
    first.title = "first save"
    first.save()
    second.title = "second save"
    with pytest.raises(TimestampMismatchError) as info:
        second.save()
    assert info.value.http_status == 409
    assert lowcode.get_value(dt, name, "title") == "first save"
    # after a reload the change goes through
    second.reload()
    assert second.title == "first save"
    second.title = "second save"
    second.save()
    assert lowcode.get_value(dt, name, "title") == "second save"


def test_saving_the_same_object_twice_is_not_stale(ctx, make_doctype):
    dt = make_doctype([{"fieldname": "title", "fieldtype": "Data"}])
    doc = lowcode.get_doc({"doctype": dt, "title": "a"}).insert()
    doc.title = "b"
    doc.save()
    doc.title = "c"
    doc.save()
    assert lowcode.get_value(dt, doc.name, "title") == "c"


# -- versions -----------------------------------------------------------------------------

def test_versions_record_field_and_child_row_changes(ctx, make_doctype):
    child = make_doctype([{"fieldname": "item", "fieldtype": "Data"}, {"fieldname": "qty", "fieldtype": "Int"}],
                         istable=1, permissions=[])
    dt = make_doctype([{"fieldname": "title", "fieldtype": "Data"},
                       {"fieldname": "items", "fieldtype": "Table", "options": child}], track_changes=1)
    name = lowcode.get_doc({"doctype": dt, "title": "v1", "items": [{"item": "A", "qty": 1},
                                                                     {"item": "B", "qty": 2}]}).insert().name
    base = len(get_versions(dt, name))

    doc = lowcode.get_doc(dt, name)
    doc.title = "v2"
    doc.save()
    doc = lowcode.get_doc(dt, name)
    doc.append("items", {"item": "C", "qty": 3})
    doc.save()
    doc = lowcode.get_doc(dt, name)
    doc.set("items", [r for r in doc.items if r.item != "A"])
    doc.save()
    doc = lowcode.get_doc(dt, name)
    next(r for r in doc.items if r.item == "B").qty = 5
    doc.save()
    doc = lowcode.get_doc(dt, name)
    doc.save()  # nothing changed: no version

    versions = get_versions(dt, name)[base:]
    assert len(versions) == 4
    assert all(v["owner"] == "Administrator" for v in versions)
    changed, added, removed, edited = (v["data"] for v in versions)
    assert changed["changed"] == [["title", "v1", "v2"]]
    assert not (changed["added"] or changed["removed"] or changed["row_changed"])
    assert [(f, r["item"], r["qty"]) for f, r in added["added"]] == [("items", "C", 3)]
    assert not added["changed"]
    assert [(f, r["item"]) for f, r in removed["removed"]] == [("items", "A")]
    assert not removed["row_changed"]
    assert len(edited["row_changed"]) == 1
    table, _idx, _rowname, cells = edited["row_changed"][0]
    assert table == "items" and cells == [["qty", 2, 5]]


def test_versions_record_the_user(ctx, make_doctype):
    dt = make_doctype([{"fieldname": "title", "fieldtype": "Data"}], track_changes=1)
    name = lowcode.get_doc({"doctype": dt, "title": "a"}).insert().name
    doc = lowcode.get_doc(dt, name)
    doc.title = "b"
    doc.save()
    version = get_versions(dt, name)[-1]
    assert version["owner"] == "Administrator"
    assert version["data"]["changed"] == [["title", "a", "b"]]


# -- docstatus ----------------------------------------------------------------------------

def test_docstatus_rules(ctx, make_doctype):
    child = make_doctype([{"fieldname": "item", "fieldtype": "Data"}], istable=1, permissions=[])
    dt = make_doctype([{"fieldname": "title", "fieldtype": "Data", "label": "Title"},
                       {"fieldname": "remarks", "fieldtype": "Data", "allow_on_submit": 1},
                       {"fieldname": "items", "fieldtype": "Table", "options": child}], is_submittable=1)
    name = lowcode.get_doc({"doctype": dt, "title": "t", "items": [{"item": "a"}]}).insert().name
    assert lowcode.get_value(dt, name, "docstatus") == 0
    lowcode.get_doc(dt, name).submit()
    doc = lowcode.get_doc(dt, name)
    assert doc.docstatus == 1
    assert [r.docstatus for r in doc.items] == [1]

    doc.title = "changed after submit"
    with pytest.raises(ValidationError) as info:
        doc.save()
    assert info.value.field == "title"
    assert lowcode.get_value(dt, name, "title") == "t"

    doc = lowcode.get_doc(dt, name)
    doc.remarks = "allowed on submit"
    doc.save()
    assert lowcode.get_value(dt, name, "remarks") == "allowed on submit"

    with pytest.raises(ValidationError):
        lowcode.delete_doc(dt, name)
    assert ctx.db.exists(dt, name)

    lowcode.get_doc(dt, name).cancel()
    assert lowcode.get_value(dt, name, "docstatus") == 2

    doc = lowcode.get_doc(dt, name)
    doc.docstatus = 1
    with pytest.raises(DocstatusTransitionError):
        doc.save()
    doc = lowcode.get_doc(dt, name)
    doc.docstatus = 0
    with pytest.raises(DocstatusTransitionError):
        doc.save()

    lowcode.delete_doc(dt, name)  # a cancelled document may be deleted
    assert not ctx.db.exists(dt, name)


def test_submit_needs_a_submittable_doctype(ctx, make_doctype):
    dt = make_doctype([{"fieldname": "title", "fieldtype": "Data"}])
    doc = lowcode.get_doc({"doctype": dt, "title": "t"}).insert()
    with pytest.raises(DocstatusTransitionError):
        lowcode.get_doc(dt, doc.name).submit()
    assert lowcode.get_value(dt, doc.name, "docstatus") == 0


# -- links --------------------------------------------------------------------------------

@pytest.fixture
def linked(make_doctype):
    target = make_doctype([{"fieldname": "title", "fieldtype": "Data"}], autoname="field:title")
    row = make_doctype([{"fieldname": "target", "fieldtype": "Link", "options": target}], istable=1, permissions=[])
    source = make_doctype([{"fieldname": "target", "fieldtype": "Link", "options": target},
                           {"fieldname": "rows", "fieldtype": "Table", "options": row}])
    return target, source


def test_delete_refuses_while_linked(ctx, linked):
    target, source = linked
    lowcode.get_doc({"doctype": target, "title": "T-1"}).insert()
    src = lowcode.get_doc({"doctype": source, "target": "T-1"}).insert()
    with pytest.raises(LinkExistsError) as info:
        lowcode.delete_doc(target, "T-1")
    assert info.value.http_status == 417  # as Frappe answers a LinkExistsError
    assert source in str(info.value) and src.name in str(info.value)
    assert ctx.db.exists(target, "T-1")
    lowcode.delete_doc(source, src.name)
    lowcode.delete_doc(target, "T-1")
    assert not ctx.db.exists(target, "T-1")


def test_delete_refuses_while_linked_from_a_child_row(ctx, linked):
    target, source = linked
    lowcode.get_doc({"doctype": target, "title": "T-1"}).insert()
    src = lowcode.get_doc({"doctype": source, "rows": [{"target": "T-1"}]}).insert()
    with pytest.raises(LinkExistsError) as info:
        lowcode.delete_doc(target, "T-1")
    assert src.name in str(info.value)
    assert ctx.db.exists(target, "T-1")


def test_rename_updates_links(ctx, linked):
    target, source = linked
    lowcode.get_doc({"doctype": target, "title": "Old"}).insert()
    src = lowcode.get_doc({"doctype": source, "target": "Old", "rows": [{"target": "Old"}]}).insert()
    assert lowcode.rename_doc(target, "Old", "New") == "New"
    assert not ctx.db.exists(target, "Old")
    renamed = lowcode.get_doc(target, "New")
    assert renamed.title == "New"  # autoname field:title keeps the field in step
    loaded = lowcode.get_doc(source, src.name)
    assert loaded.target == "New"
    assert [r.target for r in loaded.rows] == ["New"]
    with pytest.raises(DoesNotExistError):
        lowcode.get_doc(target, "Old")


def test_rename_to_an_existing_name_is_refused(ctx, linked):
    target, _ = linked
    lowcode.get_doc({"doctype": target, "title": "A"}).insert()
    lowcode.get_doc({"doctype": target, "title": "B"}).insert()
    with pytest.raises(lowcode.DuplicateEntryError):
        lowcode.rename_doc(target, "A", "B")
    assert ctx.db.exists(target, "A") and ctx.db.exists(target, "B")


# -- single DocTypes ----------------------------------------------------------------------

def test_single_doctype_save_and_reload(ctx, make_doctype):
    dt = make_doctype([{"fieldname": "company", "fieldtype": "Data"},
                       {"fieldname": "max_users", "fieldtype": "Int"},
                       {"fieldname": "enabled", "fieldtype": "Check"}], issingle=1)
    settings = lowcode.get_doc(dt)
    assert settings.name == dt
    settings.company = "Acme"
    settings.max_users = 10
    settings.save()
    loaded = lowcode.get_doc(dt)
    assert (loaded.company, loaded.max_users, loaded.enabled) == ("Acme", 10, 0)
    loaded.max_users = 20
    loaded.enabled = 1
    loaded.save()
    again = lowcode.get_doc(dt)
    assert (again.company, again.max_users, again.enabled) == ("Acme", 20, 1)
    assert lowcode.get_value(dt, None, "max_users") == 20
    assert ctx.db.sql(f"SELECT COUNT(*) FROM `tab{dt}`")[0][0] == 1
    with pytest.raises(ValidationError):
        lowcode.get_doc({"doctype": dt, "company": "x"}).insert()
    with pytest.raises(ValidationError):
        lowcode.delete_doc(dt, dt)


def test_delete_refuses_while_dynamically_linked(ctx, make_doctype):
    target = make_doctype([{"fieldname": "title", "fieldtype": "Data"}], autoname="field:title")
    source = make_doctype([{"fieldname": "ref_type", "fieldtype": "Link", "options": "DocType"},
                           {"fieldname": "ref_name", "fieldtype": "Dynamic Link", "options": "ref_type"}])
    lowcode.get_doc({"doctype": target, "title": "D-1"}).insert()
    src = lowcode.get_doc({"doctype": source, "ref_type": target, "ref_name": "D-1"}).insert()
    with pytest.raises(LinkExistsError) as info:
        lowcode.delete_doc(target, "D-1")
    assert src.name in str(info.value)
    assert ctx.db.exists(target, "D-1")
    lowcode.delete_doc(source, src.name)
    lowcode.delete_doc(target, "D-1")
    assert not ctx.db.exists(target, "D-1")


def test_rename_updates_dynamic_links(ctx, make_doctype):
    target = make_doctype([{"fieldname": "title", "fieldtype": "Data"}], autoname="field:title")
    source = make_doctype([{"fieldname": "ref_type", "fieldtype": "Link", "options": "DocType"},
                           {"fieldname": "ref_name", "fieldtype": "Dynamic Link", "options": "ref_type"}])
    lowcode.get_doc({"doctype": target, "title": "Old"}).insert()
    src = lowcode.get_doc({"doctype": source, "ref_type": target, "ref_name": "Old"}).insert()
    lowcode.rename_doc(target, "Old", "New")
    assert lowcode.get_value(source, src.name, "ref_name") == "New"
