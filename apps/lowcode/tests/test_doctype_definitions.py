"""DocType definitions: broken ones are refused naming the field (at runtime and from an
app's JSON files, where nothing is written), good ones create and migrate tables, and
Custom Fields and Property Setters change the resolved metadata at once."""

import pytest

import lowcode
from lowcode import installer
from lowcode.exceptions import DocTypeDefinitionError, MandatoryError, ValidationError

PERMS = [{"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1}]


def runtime_doctype(name, fields, **props):
    return lowcode.get_doc({"doctype": "DocType", "name": name, "module": "Custom", "fields": fields,
                            "permissions": PERMS, **props})


def assert_nothing_written(db, name):
    assert not db.exists("DocType", name)
    assert not db.sql("SELECT 1 FROM `tabDocField` WHERE `parent`=%s", (name,))
    assert not db.table_exists(name)


# -- runtime definitions ------------------------------------------------------------------

# (fields, DocType properties, the field the error must name, words the message must hold)
BROKEN = {
    "unknown fieldtype": ([{"fieldname": "colour", "fieldtype": "Banana"}], {}, "colour", "Banana"),
    "duplicate fieldname": ([{"fieldname": "title", "fieldtype": "Data"},
                             {"fieldname": "title", "fieldtype": "Int"}], {}, "title", "duplicate"),
    "link to missing doctype": ([{"fieldname": "customer", "fieldtype": "Link", "options": "No Such DocType"}],
                                {}, "customer", "No Such DocType"),
    # Role exists on every site and is not a child table
    "table of a non-child doctype": ([{"fieldname": "rows", "fieldtype": "Table", "options": "Role"}],
                                     {}, "rows", "child table"),
    "reserved fieldname name": ([{"fieldname": "name", "fieldtype": "Data"}], {}, "name", "reserved"),
    "reserved fieldname owner": ([{"fieldname": "owner", "fieldtype": "Data"}], {}, "owner", "reserved"),
    "bad select default": ([{"fieldname": "status", "fieldtype": "Select", "options": "Open\nClosed",
                             "default": "Pending"}], {}, "status", "Pending"),
    # each type checks its own properties (FieldType.validate_definition)
    "link without options": ([{"fieldname": "customer", "fieldtype": "Link"}], {}, "customer", "needs options"),
    "table multiselect of a non-child doctype": (
        [{"fieldname": "roles", "fieldtype": "Table MultiSelect", "options": "Role"}], {}, "roles", "child table"),
    "dynamic link naming no doctype field": (
        [{"fieldname": "title", "fieldtype": "Small Text"},
         {"fieldname": "ref", "fieldtype": "Dynamic Link", "options": "title"}], {}, "ref", "Dynamic Link"),
    "data options": ([{"fieldname": "mail", "fieldtype": "Data", "options": "Fax"}], {}, "mail", "Fax"),
    "bad date default": ([{"fieldname": "due", "fieldtype": "Date", "default": "Tomorrow"}], {}, "due", "Tomorrow"),
    "bad int default": ([{"fieldname": "qty", "fieldtype": "Int", "default": "many"}], {}, "qty", "many"),
    "autoname field:missing": ([{"fieldname": "title", "fieldtype": "Data"}], {"autoname": "field:missing"},
                               None, "field:missing"),
}


@pytest.mark.parametrize("case", [c for c in BROKEN if c != "unknown fieldtype"])
def test_broken_runtime_definition_is_refused_naming_the_field(ctx, unique, case):
    fields, props, fieldname, words = BROKEN[case]
    name = f"Broken {unique}"
    with pytest.raises(DocTypeDefinitionError) as info:
        runtime_doctype(name, fields, **props).insert()
    exc = info.value
    assert exc.field == fieldname
    if fieldname:
        assert repr(fieldname) in str(exc)
    assert words in str(exc)
    assert exc.http_status == 417
    assert_nothing_written(ctx.db, name)


def test_a_type_reads_its_own_default_keywords(ctx, unique):
    # "Today" and "Now" are Date's and Datetime's default() to read, not meta's to special-case
    doc = runtime_doctype(f"Defaults {unique}", [
        {"fieldname": "due", "fieldtype": "Date", "default": "Today"},
        {"fieldname": "at", "fieldtype": "Datetime", "default": "Now"},
        {"fieldname": "kind", "fieldtype": "Select", "options": "A\nB", "default": "B"},
        {"fieldname": "ref_type", "fieldtype": "Link", "options": "DocType"},
        {"fieldname": "ref", "fieldtype": "Dynamic Link", "options": "ref_type"}]).insert()
    new = lowcode.new_doc(doc.name)
    assert new.due and new.at and new.kind == "B"


def test_unknown_fieldtype_at_runtime_is_refused_naming_the_row(ctx, unique):
    # At runtime the DocField's own Select (fieldtype) refuses it first, naming the row.
    name = f"Broken {unique}"
    with pytest.raises(ValidationError) as info:
        runtime_doctype(name, [{"fieldname": "title", "fieldtype": "Data"},
                               {"fieldname": "colour", "fieldtype": "Banana"}]).insert()
    assert "Banana" in str(info.value)
    assert "row 2" in str(info.value)
    assert info.value.http_status == 417
    assert_nothing_written(ctx.db, name)


def test_runtime_doctype_creates_its_table(ctx, unique):
    name = f"Runtime {unique}"
    runtime_doctype(name, [{"fieldname": "title", "fieldtype": "Data", "label": "Title"},
                           {"fieldname": "amount", "fieldtype": "Currency"},
                           {"fieldname": "sec", "fieldtype": "Section Break"}]).insert()
    assert ctx.db.table_exists(name)
    columns = ctx.db.get_columns(name)
    assert "title" in columns and "amount" in columns and "sec" not in columns
    row = ctx.db.sql("SELECT `custom`, `app` FROM `tabDocType` WHERE `name`=%s", (name,), as_dict=True)[0]
    assert row["custom"] == 1 and not row["app"]
    meta = lowcode.get_meta(name)
    assert [f.fieldname for f in meta.fields] == ["title", "amount", "sec"]
    doc = lowcode.get_doc({"doctype": name, "title": "first", "amount": 9.5}).insert()
    assert lowcode.get_doc(name, doc.name).amount == 9.5


def test_runtime_doctype_edit_adds_a_column_and_keeps_data(ctx, make_doctype):
    name = make_doctype([{"fieldname": "title", "fieldtype": "Data"}])
    doc = lowcode.get_doc({"doctype": name, "title": "kept"}).insert()
    dt = lowcode.get_doc("DocType", name)
    dt.append("fields", {"fieldname": "score", "fieldtype": "Int", "label": "Score"})
    dt.save()
    assert "score" in ctx.db.get_columns(name)
    assert lowcode.get_meta(name).has_field("score")
    loaded = lowcode.get_doc(name, doc.name)
    assert loaded.title == "kept"
    loaded.score = 5
    loaded.save()
    assert lowcode.get_value(name, doc.name, "score") == 5


def test_app_doctype_cannot_be_edited_at_runtime(ctx):
    dt = lowcode.get_doc("DocType", "Role")
    dt.description = "changed in the browser"
    with pytest.raises(ValidationError) as info:
        dt.save()
    assert info.value.field == "custom"


# -- customisation ------------------------------------------------------------------------

def test_custom_field_adds_a_column_at_once(ctx, make_doctype):
    name = make_doctype([{"fieldname": "title", "fieldtype": "Data"}])
    cf = lowcode.get_doc({"doctype": "Custom Field", "dt": name, "label": "Region", "fieldtype": "Data",
                          "insert_after": "title"}).insert()
    assert cf.fieldname == "custom_region"
    assert "custom_region" in ctx.db.get_columns(name)
    meta = lowcode.get_meta(name)
    assert meta.has_field("custom_region")
    assert meta.get_field("custom_region").label == "Region"
    doc = lowcode.get_doc({"doctype": name, "title": "x", "custom_region": "North"}).insert()
    assert lowcode.get_doc(name, doc.name).custom_region == "North"
    assert lowcode.get_list(name, fields=["custom_region"], filters={"custom_region": "North"}) == [
        {"custom_region": "North"}]


def test_a_check_field_added_later_gives_existing_documents_its_default(ctx, make_doctype):
    name = make_doctype([{"fieldname": "title", "fieldtype": "Data"}])
    before = lowcode.get_doc({"doctype": name, "title": "made before the fields"}).insert().name
    for label, default in (("Notify", "1"), ("Archived", "0"), ("Flagged", None)):
        lowcode.get_doc({"doctype": "Custom Field", "dt": name, "label": label, "fieldtype": "Check",
                         "default": default, "insert_after": "title"}).insert()
    assert tuple(ctx.db.sql(f"SELECT `custom_notify`, `custom_archived`, `custom_flagged` FROM `tab{name}` "
                            "WHERE `name`=%s", (before,))[0]) == (1, 0, 0)


def test_custom_field_with_a_broken_definition_is_refused(ctx, make_doctype):
    name = make_doctype([{"fieldname": "title", "fieldtype": "Data"}])
    with pytest.raises(DocTypeDefinitionError) as info:
        lowcode.get_doc({"doctype": "Custom Field", "dt": name, "label": "Owner Ref", "fieldtype": "Link",
                         "options": "No Such DocType"}).insert()
    assert info.value.field == "custom_owner_ref"
    assert "custom_owner_ref" not in ctx.db.get_columns(name)


def test_property_setter_changes_label_and_reqd(ctx, make_doctype):
    name = make_doctype([{"fieldname": "title", "fieldtype": "Data", "label": "Title"},
                         {"fieldname": "note", "fieldtype": "Data", "label": "Note"}])
    assert lowcode.get_meta(name).get_field("title").label == "Title"
    lowcode.get_doc({"doctype": "Property Setter", "doctype_or_field": "DocField", "doc_type": name,
                     "field_name": "title", "property": "label", "value": "Heading",
                     "property_type": "Data"}).insert()
    assert lowcode.get_meta(name).get_field("title").label == "Heading"
    lowcode.get_doc({"doctype": "Property Setter", "doctype_or_field": "DocField", "doc_type": name,
                     "field_name": "note", "property": "reqd", "value": "1",
                     "property_type": "Check"}).insert()
    assert lowcode.get_meta(name).get_field("note").reqd == 1
    with pytest.raises(MandatoryError) as info:
        lowcode.get_doc({"doctype": name, "title": "x"}).insert()
    assert info.value.field == "note"


# -- app JSON files -------------------------------------------------------------------------

@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_json_definition_is_refused_naming_file_and_field(ctx, temp_app, unique, case):
    fields, props, fieldname, words = BROKEN[case]
    app = temp_app()
    name = f"Tmp Broken {unique}"
    path = app.write_doctype({"name": name, "fields": fields, "permissions": PERMS, **props})
    with pytest.raises(DocTypeDefinitionError) as info:
        installer.install_app(app.name)
    message = str(info.value)
    assert path in message
    assert info.value.field == fieldname
    if fieldname:
        assert repr(fieldname) in message
    assert words in message
    assert_nothing_written(ctx.db, name)
    assert app.name not in lowcode.get_installed_apps()
    assert not ctx.db.exists("Installed App", app.name)


def test_one_broken_file_keeps_every_doctype_of_the_app_out(ctx, temp_app, unique):
    app = temp_app()
    good, bad = f"Tmp A Good {unique}", f"Tmp B Bad {unique}"
    app.write_doctype({"name": good, "fields": [{"fieldname": "title", "fieldtype": "Data"}],
                       "permissions": PERMS})
    path = app.write_doctype({"name": bad, "fields": [{"fieldname": "title", "fieldtype": "Data"},
                                                      {"fieldname": "title", "fieldtype": "Int"}],
                              "permissions": PERMS})
    with pytest.raises(DocTypeDefinitionError) as info:
        installer.install_app(app.name)
    assert path in str(info.value) and "'title'" in str(info.value)
    assert_nothing_written(ctx.db, good)
    assert_nothing_written(ctx.db, bad)
    assert app.name not in lowcode.get_installed_apps()


def test_invalid_json_syntax_names_the_file(ctx, temp_app, unique):
    app = temp_app()
    path = app.write_doctype({"name": f"Tmp Syntax {unique}", "fields": []})
    with open(path, "w") as f:
        f.write('{"doctype": "DocType", "name": "x", "fields": [}')
    with pytest.raises(DocTypeDefinitionError) as info:
        installer.install_app(app.name)
    assert path in str(info.value)
    assert app.name not in lowcode.get_installed_apps()


def test_install_app_then_migrate_adds_and_keeps_columns(ctx, temp_app, unique):
    app = temp_app()
    name = f"Tmp Thing {unique}"
    app.write_doctype({"name": name, "autoname": "field:title", "fields": [
        {"fieldname": "title", "fieldtype": "Data", "label": "Title", "reqd": 1}], "permissions": PERMS})
    assert installer.install_app(app.name) is True
    ctx.db.commit()
    ctx.db.begin()
    assert app.name in lowcode.get_installed_apps()
    assert ctx.db.table_exists(name)
    row = ctx.db.sql("SELECT `custom`, `app`, `module` FROM `tabDocType` WHERE `name`=%s", (name,), as_dict=True)
    assert row == [{"custom": 0, "app": app.name, "module": app.module}]
    lowcode.get_doc({"doctype": name, "title": "keep me"}).insert()
    ctx.db.commit()
    ctx.db.begin()

    # add a field in the JSON file: migrate adds the column, existing rows stay
    definition = app.read_doctype(name)
    definition["fields"].append({"fieldname": "notes", "fieldtype": "Small Text", "label": "Notes"})
    app.write_doctype(definition)
    installer.migrate()
    ctx.db.commit()
    ctx.db.begin()
    assert "notes" in ctx.db.get_columns(name)
    assert lowcode.get_meta(name).has_field("notes")
    doc = lowcode.get_doc(name, "keep me")
    assert doc.title == "keep me"
    doc.notes = "written after migrate"
    doc.save()
    ctx.db.commit()
    ctx.db.begin()

    # remove the field from the JSON file: the column and its data stay
    definition["fields"] = [f for f in definition["fields"] if f["fieldname"] != "notes"]
    app.write_doctype(definition)
    installer.migrate()
    ctx.db.commit()
    ctx.db.begin()
    assert not lowcode.get_meta(name).has_field("notes")
    assert "notes" in ctx.db.get_columns(name)
    assert ctx.db.sql(f"SELECT `notes` FROM `tab{name}` WHERE `name`=%s", ("keep me",)) [0][0] == \
        "written after migrate"
    assert lowcode.get_doc(name, "keep me").title == "keep me"


def test_install_app_twice_is_a_no_op(ctx, temp_app, unique):
    app = temp_app()
    name = f"Tmp Twice {unique}"
    app.write_doctype({"name": name, "fields": [{"fieldname": "title", "fieldtype": "Data"}],
                       "permissions": PERMS})
    assert installer.install_app(app.name) is True
    assert installer.install_app(app.name) is False
    assert lowcode.get_installed_apps().count(app.name) == 1


def test_read_app_definitions_lists_child_tables_first(ctx, temp_app, unique):
    app = temp_app()
    parent, child = f"Tmp A Parent {unique}", f"Tmp Z Row {unique}"
    app.write_doctype({"name": parent, "fields": [{"fieldname": "rows", "fieldtype": "Table", "options": child}],
                       "permissions": PERMS})
    app.write_doctype({"name": child, "istable": 1, "fields": [{"fieldname": "item", "fieldtype": "Data"}]})
    defs = installer.read_app_definitions(app.name)
    assert [d["name"] for _, d in defs] == [child, parent]
    installer.install_app(app.name)
    assert ctx.db.table_exists(parent) and ctx.db.table_exists(child)
    doc = lowcode.get_doc({"doctype": parent, "rows": [{"item": "a"}, {"item": "b"}]}).insert()
    assert [r.item for r in lowcode.get_doc(parent, doc.name).rows] == ["a", "b"]


def test_failed_install_leaves_the_context_as_it_was(ctx, temp_app, unique):
    """A refused install must not leave install mode switched on for the rest of the
    context: an app DocType must still refuse a runtime edit afterwards."""
    app = temp_app()
    app.write_doctype({"name": f"Tmp Broken {unique}", "fields": [{"fieldname": "name", "fieldtype": "Data"}]})
    with pytest.raises(DocTypeDefinitionError):
        installer.install_app(app.name)
    dt = lowcode.get_doc("DocType", "Role")
    dt.description = "changed in the browser"
    with pytest.raises(ValidationError) as info:
        dt.save()
    assert info.value.field == "custom"
