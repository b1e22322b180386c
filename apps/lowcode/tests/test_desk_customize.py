"""Customize Form over HTTP, on both engines: custom fields of several types at a
position (column, metadata order, form, list and API filters), property changes as
Property Setters, field order, every kind of bad input refused with nothing written,
removal with confirmation and a backup of the values, fixture export, and the 403
page for users who are not System Managers.

Requests use their own connection, so data made through ``ctx`` is committed first
(``refresh``) and ``ctx`` starts a new transaction to see what the requests wrote.
"""
import glob
import html
import json
import os
from urllib.parse import quote, unquote, urlencode

import pytest

import lowcode
from lowcode import auth
from lowcode.meta import get_meta
from lowcode.utils import route_for, scrub
from lowcode.testing.http import refresh, write

# -- helpers shared by the desk admin tests ----------------------------------------------------


def ensure_role(role):
    if not lowcode.db.exists("Role", role):
        lowcode.get_doc({"doctype": "Role", "role_name": role}).insert()


def desk_user(ctx, client, unique, tag, roles=("System Manager",)):
    """A user with ``roles``, logged in to the desk on ``client``; returns (email, session)."""
    write(ctx)
    email = f"{tag}-{unique}@example.com"
    for role in roles:
        ensure_role(role)
    lowcode.get_doc({"doctype": "User", "email": email, "first_name": tag.title(),
                     "roles": [{"role": r} for r in roles]}).insert()
    session = auth.start_session(email, desk=True)
    refresh(ctx)
    client.cookies["sid"] = session.sid
    return email, session


def post(client, session, url, data):
    return client.post(url, data, HTTP_X_FRAPPE_CSRF_TOKEN=session.csrf_token)


def text(response):
    """The page, with HTML escapes undone so messages compare as written."""
    return html.unescape(response.content.decode("utf-8"))


def field_rows(doctype):
    """The editor's rows for the DocType's current fields, as the page posts them."""
    rows = []
    for df in get_meta(doctype).fields:
        row = {"fieldname": df.fieldname}
        for prop in ("label", "options", "default", "description", "depends_on", "mandatory_depends_on",
                     "read_only_depends_on"):
            row[prop] = df.get(prop) or ""
        for prop in ("length", "permlevel"):
            row[prop] = "" if df.get(prop) in (None, 0) else str(df.get(prop))
        for prop in ("reqd", "hidden", "read_only", "in_list_view", "in_standard_filter"):
            row[prop] = int(df.get(prop) or 0)
        rows.append(row)
    return rows


def form_data(rows, **extra):
    """Rows -> the form post: a ``row`` key per row in order, ``f-<key>-<prop>`` inputs,
    checkboxes only when ticked (as a browser sends them)."""
    data = {"row": [], **extra}
    for key, row in enumerate(rows, start=1):
        data["row"].append(str(key))
        for prop, value in row.items():
            if prop in ("reqd", "hidden", "read_only", "in_list_view", "in_standard_filter", "is_new", "__delete"):
                if value:
                    data[f"f-{key}-{prop}"] = "1"
            else:
                data[f"f-{key}-{prop}"] = "" if value is None else str(value)
    return data


def customize(client, session, doctype, rows):
    return post(client, session, "/app/customize-form", form_data(rows, doctype=doctype))


def find(rows, fieldname):
    return next(r for r in rows if r["fieldname"] == fieldname)


def counts(ctx, doctype):
    """What a refused batch must leave unchanged: its records and the table's columns."""
    refresh(ctx)
    return (lowcode.get_count("Custom Field", filters={"dt": doctype}),
            lowcode.get_count("Property Setter", filters={"doc_type": doctype}),
            sorted(ctx.db.get_columns(doctype)))


@pytest.fixture
def base_doctype(make_doctype):
    return make_doctype([
        {"fieldname": "title", "fieldtype": "Data", "label": "Title", "in_list_view": 1},
        {"fieldname": "status", "fieldtype": "Select", "label": "Status", "options": "Open\nClosed",
         "default": "Open"},
        {"fieldname": "notes", "fieldtype": "Small Text", "label": "Notes"},
    ])


@pytest.fixture
def manager(ctx, client, unique):
    return desk_user(ctx, client, unique, "custom-admin")[1]


# -- adding fields -----------------------------------------------------------------------------

def test_add_custom_fields_of_several_types_at_a_position(ctx, client, manager, base_doctype):
    dt = base_doctype
    rows = field_rows(dt)
    new = [
        {"is_new": 1, "fieldtype": "Int", "label": "Score", "in_standard_filter": 1},
        {"is_new": 1, "fieldtype": "Select", "label": "Level", "options": "Low\nHigh", "default": "Low"},
        {"is_new": 1, "fieldtype": "Link", "label": "Reviewer", "options": "User"},
        {"is_new": 1, "fieldtype": "Date", "label": "Due On"},
        {"is_new": 1, "fieldtype": "Check", "label": "Urgent"},
        {"is_new": 1, "fieldtype": "Section Break", "label": ""},
        {"is_new": 1, "fieldtype": "Currency", "label": "Budget", "fieldname": "budget"},
    ]
    # Put the new fields between Title and Status.
    r = customize(client, manager, dt, rows[:1] + new + rows[1:])
    assert r.status_code == 302, text(r)[:3000]
    assert "saved=1" in r["Location"]
    refresh(ctx)
    added = ["custom_score", "custom_level", "custom_reviewer", "custom_due_on", "custom_urgent",
             "custom_section_break_1", "custom_budget"]
    assert [f.fieldname for f in get_meta(dt).fields] == ["title"] + added + ["status", "notes"]
    columns = ctx.db.get_columns(dt)
    for fieldname in added:
        if fieldname != "custom_section_break_1":
            assert fieldname in columns, fieldname
    assert "custom_section_break_1" not in columns  # layout fields own no column
    assert lowcode.get_count("Custom Field", filters={"dt": dt}) == len(added)
    assert get_meta(dt).get_field("custom_level").default == "Low"

    write(ctx)
    lowcode.get_doc({"doctype": dt, "title": "doc-alpha", "custom_score": 5, "custom_level": "High"}).insert()
    lowcode.get_doc({"doctype": dt, "title": "doc-bravo", "custom_score": 7}).insert()
    refresh(ctx)
    first = lowcode.get_value(dt, {"title": "doc-alpha"})
    route = route_for(dt)
    page = text(client.get(f"/app/{route}/{quote(first)}"))
    for fieldname in ("custom_score", "custom_level", "custom_reviewer", "custom_due_on", "custom_urgent"):
        assert f'id="f-{fieldname}"' in page, fieldname
    assert page.index('id="f-title"') < page.index('id="f-custom_score"') < page.index('id="f-status"')

    listing = client.get(f"/app/{route}?custom_level=High")
    assert listing.status_code == 200
    assert "doc-alpha" in text(listing) and "doc-bravo" not in text(listing)
    api = client.get(f"/api/resource/{quote(dt)}", {"filters": json.dumps([["custom_score", "=", 7]]),
                                                    "fields": json.dumps(["title", "custom_score"])})
    assert api.status_code == 200, text(api)
    assert api.json()["data"] == [{"title": "doc-bravo", "custom_score": 7}]


def test_field_order_is_stored_and_applied(ctx, client, manager, base_doctype):
    dt = base_doctype
    rows = field_rows(dt)
    r = customize(client, manager, dt, [find(rows, "notes"), find(rows, "title"), find(rows, "status"),
                                         {"is_new": 1, "fieldtype": "Data", "label": "First Of All"}])
    assert r.status_code == 302, text(r)[:2000]
    refresh(ctx)
    assert [f.fieldname for f in get_meta(dt).fields] == ["notes", "title", "status", "custom_first_of_all"]
    setter = lowcode.get_all("Property Setter", filters={"doc_type": dt, "property": "field_order"},
                             fields=["doctype_or_field", "value"])
    assert setter[0]["doctype_or_field"] == "DocType"
    assert json.loads(setter[0]["value"]) == ["notes", "title", "status", "custom_first_of_all"]
    # A new field dragged to the top lands there too.
    rows = field_rows(dt)
    r = customize(client, manager, dt, [{"is_new": 1, "fieldtype": "Data", "label": "Top"}] + rows)
    assert r.status_code == 302, text(r)[:2000]
    refresh(ctx)
    assert [f.fieldname for f in get_meta(dt).fields][:2] == ["custom_top", "notes"]


# -- changing properties ---------------------------------------------------------------------

def test_label_reqd_and_options_change_through_property_setters(ctx, client, manager, base_doctype):
    dt = base_doctype
    rows = field_rows(dt)
    find(rows, "title")["label"] = "Subject"
    find(rows, "notes")["reqd"] = 1
    status = find(rows, "status")
    status.update(options="New\nWon\nLost", default="Won", in_standard_filter=1)
    r = customize(client, manager, dt, rows)
    assert r.status_code == 302, text(r)[:2000]
    refresh(ctx)
    assert lowcode.get_count("Custom Field", filters={"dt": dt}) == 0
    setters = {(p["field_name"], p["property"]): p["value"] for p in lowcode.get_all(
        "Property Setter", filters={"doc_type": dt}, fields=["field_name", "property", "value"])}
    assert setters == {("title", "label"): "Subject", ("notes", "reqd"): "1", ("status", "options"): "New\nWon\nLost",
                       ("status", "default"): "Won", ("status", "in_standard_filter"): "1"}
    meta = get_meta(dt)
    assert meta.get_field("title").label == "Subject"
    assert meta.get_field("notes").reqd == 1
    assert meta.get_field("status").options == "New\nWon\nLost"
    # The change applies at once: the API refuses a document without notes...
    api = post(client, manager, f"/api/resource/{quote(dt)}", {"title": "x"})
    assert api.status_code == 417 and "Notes" in api.json()["message"]
    # ...and the form shows the new label.
    page = client.get(f"/app/{route_for(dt)}/new")
    assert page.status_code == 200, text(page)[:500]
    assert "Subject" in text(page)
    # Setting a property back to the app's value drops its Property Setter.
    rows = field_rows(dt)
    find(rows, "title")["label"] = "Title"
    assert customize(client, manager, dt, rows).status_code == 302
    refresh(ctx)
    assert not lowcode.get_all("Property Setter", filters={"doc_type": dt, "field_name": "title"})
    assert get_meta(dt).get_field("title").label == "Title"


def test_custom_field_changes_update_the_custom_field(ctx, client, manager, base_doctype):
    dt = base_doctype
    rows = field_rows(dt) + [{"is_new": 1, "fieldtype": "Data", "label": "Code"}]
    assert customize(client, manager, dt, rows).status_code == 302
    refresh(ctx)
    rows = field_rows(dt)
    find(rows, "custom_code").update(label="Product Code", length="20", description="From the catalogue")
    assert customize(client, manager, dt, rows).status_code == 302
    refresh(ctx)
    cf = lowcode.get_all("Custom Field", filters={"dt": dt}, fields=["label", "length", "description"])
    assert cf == [{"label": "Product Code", "length": 20, "description": "From the catalogue"}]
    assert not lowcode.get_all("Property Setter", filters={"doc_type": dt, "field_name": "custom_code"})


# -- bad input ------------------------------------------------------------------------------

BAD_NEW_FIELDS = {
    "duplicate fieldname": ({"is_new": 1, "fieldtype": "Data", "fieldname": "title"}, "already has a field 'title'"),
    "duplicate custom fieldname": ([{"is_new": 1, "fieldtype": "Data", "label": "Twin"},
                                    {"is_new": 1, "fieldtype": "Int", "label": "Twin"}], "custom_twin"),
    "reserved name": ({"is_new": 1, "fieldtype": "Data", "fieldname": "owner"}, "reserved"),
    "link to missing doctype": ({"is_new": 1, "fieldtype": "Link", "label": "Target", "options": "No Such Thing"},
                                "Link to missing DocType"),
    "select default not in options": ({"is_new": 1, "fieldtype": "Select", "label": "Size", "options": "S\nM",
                                       "default": "XL"}, "not one of the options"),
    "unknown field type": ({"is_new": 1, "fieldtype": "Hologram", "label": "Odd"}, "field type"),
    "bad condition": ({"is_new": 1, "fieldtype": "Data", "label": "Maybe", "depends_on": "eval:doc.x =="},
                      "not a valid expression"),
    "hidden mandatory new field": ({"is_new": 1, "fieldtype": "Data", "label": "Secret", "reqd": 1, "hidden": 1},
                                   "cannot be hidden"),
    "length not a number": ({"is_new": 1, "fieldtype": "Data", "label": "Short", "length": "ten"},
                            "whole number"),
}


@pytest.mark.parametrize("case", sorted(BAD_NEW_FIELDS))
def test_bad_new_fields_are_refused_and_nothing_is_written(ctx, client, manager, base_doctype, case):
    dt = base_doctype
    bad, message = BAD_NEW_FIELDS[case]
    bad = bad if isinstance(bad, list) else [bad]
    before = counts(ctx, dt)
    # A good field in the same batch is not written either: the batch is all or nothing.
    rows = field_rows(dt) + [{"is_new": 1, "fieldtype": "Data", "label": "Good One"}] + bad
    r = customize(client, manager, dt, rows)
    assert r.status_code == 417, (r.status_code, text(r)[:2000])
    page = text(r)
    assert 'id="form-error"' in page and message in page.split('id="form-error"')[1][:600], page[:4000]
    assert "Good One" in page  # the admin's input is shown again, not lost
    assert counts(ctx, dt) == before


BAD_CHANGES = {
    "hidden and mandatory without default": ({"title": {"reqd": 1, "hidden": 1}}, "cannot be hidden"),
    "default not in new options": ({"status": {"options": "A\nB"}}, "not one of the options"),
    "fieldtype change": ({"title": {"fieldtype": "Int"}}, "cannot change"),
    "bad mandatory condition": ({"notes": {"mandatory_depends_on": "eval:doc.status ="}}, "not a valid expression"),
}


@pytest.mark.parametrize("case", sorted(BAD_CHANGES))
def test_conflicting_property_changes_are_refused(ctx, client, manager, base_doctype, case):
    dt = base_doctype
    changes, message = BAD_CHANGES[case]
    before = counts(ctx, dt)
    rows = field_rows(dt)
    find(rows, "notes")["label"] = "Remarks"  # a valid change in the same batch
    for fieldname, props in changes.items():
        find(rows, fieldname).update(props)
    r = customize(client, manager, dt, rows)
    assert r.status_code == 417, (r.status_code, text(r)[:2000])
    assert message in text(r)
    assert counts(ctx, dt) == before
    assert get_meta(dt).get_field("notes").label == "Notes"


def test_hidden_mandatory_field_with_a_default_is_allowed(ctx, client, manager, base_doctype):
    dt = base_doctype
    rows = field_rows(dt)
    find(rows, "status").update(reqd=1, hidden=1)  # status has a default
    r = customize(client, manager, dt, rows)
    assert r.status_code == 302, text(r)[:2000]
    refresh(ctx)
    assert get_meta(dt).get_field("status").hidden == 1


def test_engine_doctypes_cannot_be_customised(ctx, client, manager):
    r = client.get("/app/customize-form?doctype=DocType")
    assert r.status_code == 403
    r = customize(client, manager, "Custom Field", [{"is_new": 1, "fieldtype": "Data", "label": "Nope"}])
    assert r.status_code == 403
    refresh(ctx)
    assert not lowcode.get_all("Custom Field", filters={"dt": "Custom Field"})


# -- removing a custom field -----------------------------------------------------------------

def test_remove_custom_field_asks_to_confirm_and_backs_up_values(ctx, client, manager, base_doctype, site, bench):
    dt = base_doctype
    rows = field_rows(dt) + [{"is_new": 1, "fieldtype": "Data", "label": "Legacy Code"},
                             {"is_new": 1, "fieldtype": "Int", "label": "After Legacy"}]
    assert customize(client, manager, dt, rows).status_code == 302
    write(ctx)
    names = [lowcode.get_doc({"doctype": dt, "title": f"doc {i}", "custom_legacy_code": f"L-{i}"}).insert().name
             for i in range(3)]
    empty = lowcode.get_doc({"doctype": dt, "title": "no code"}).insert().name
    refresh(ctx)
    url = "/app/customize-form/remove?" + urlencode({"doctype": dt, "fieldname": "custom_legacy_code"})
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="confirm"' in text(page) and ">3 documents" in text(page).replace("\n", "")

    # Without the confirmation nothing happens.
    r = post(client, manager, "/app/customize-form/remove", {"doctype": dt, "fieldname": "custom_legacy_code"})
    assert r.status_code == 417 and "confirm" in text(r)
    refresh(ctx)
    assert lowcode.get_count("Custom Field", filters={"dt": dt, "fieldname": "custom_legacy_code"}) == 1

    r = post(client, manager, "/app/customize-form/remove",
             {"doctype": dt, "fieldname": "custom_legacy_code", "confirm": "1"})
    assert r.status_code == 302, text(r)[:2000]
    refresh(ctx)
    assert lowcode.get_count("Custom Field", filters={"dt": dt, "fieldname": "custom_legacy_code"}) == 0
    meta = get_meta(dt)
    assert not meta.has_field("custom_legacy_code")
    # The field that followed it keeps its place.
    assert [f.fieldname for f in meta.fields][-1] == "custom_after_legacy"
    # The column and its data stay.
    assert "custom_legacy_code" in ctx.db.get_columns(dt)
    kept = dict(ctx.db.sql(f"SELECT `name`, `custom_legacy_code` FROM `tab{dt}`"))
    assert kept[names[0]] == "L-0"
    # The backup holds every row's value.
    pattern = os.path.join(bench, site, "private", "backups", f"{scrub(dt)}-custom_legacy_code-*.json")
    files = glob.glob(pattern)
    assert len(files) == 1, pattern
    with open(files[0], encoding="utf-8") as f:
        backup = json.load(f)
    assert backup["doctype"] == dt and backup["fieldname"] == "custom_legacy_code"
    values = {v["name"]: v["value"] for v in backup["values"]}
    assert values == {names[0]: "L-0", names[1]: "L-1", names[2]: "L-2", empty: None}
    assert backup["custom_field"]["doctype"] == "Custom Field"
    assert os.path.basename(files[0]) in unquote(r["Location"])  # the admin is told where it went


def test_standard_fields_cannot_be_removed(ctx, client, manager, base_doctype):
    r = post(client, manager, "/app/customize-form/remove", {"doctype": base_doctype, "fieldname": "title",
                                                             "confirm": "1"})
    assert r.status_code == 404 and "not a custom field" in text(r)
    refresh(ctx)
    assert "title" in ctx.db.get_columns(base_doctype) and get_meta(base_doctype).has_field("title")


# -- fixtures ---------------------------------------------------------------------------------

def test_export_customisations_as_fixtures(ctx, client, manager, base_doctype):
    dt = base_doctype
    rows = field_rows(dt) + [{"is_new": 1, "fieldtype": "Data", "label": "Export Me"}]
    find(rows, "title")["label"] = "Heading"
    assert customize(client, manager, dt, rows).status_code == 302
    r = client.get("/app/customize-form/export?" + urlencode({"doctype": dt}))
    assert r.status_code == 200
    assert r["Content-Disposition"].startswith("attachment;")
    records = json.loads(r.content)
    kinds = sorted((rec["doctype"], rec.get("fieldname") or rec.get("property")) for rec in records)
    assert kinds == [("Custom Field", "custom_export_me"), ("Property Setter", "label")]
    for rec in records:
        assert rec["name"] and "modified" not in rec and "owner" not in rec


# -- who may customise ----------------------------------------------------------------------

def test_only_system_managers_may_customise(ctx, client, unique, base_doctype):
    dt = base_doctype
    _, session = desk_user(ctx, client, unique, "plain-user", roles=("Desk Customize Tester",))
    before = counts(ctx, dt)
    for url in ("/app/customize-form?doctype=" + quote(dt), "/app/doctype-builder",
                "/app/permission-manager?doctype=" + quote(dt), "/app/user-permissions",
                "/app/customize-form/export?doctype=" + quote(dt)):
        r = client.get(url)
        assert r.status_code == 403, url
        assert "System Manager" in text(r), url
    r = customize(client, session, dt, field_rows(dt) + [{"is_new": 1, "fieldtype": "Data", "label": "Sneaky"}])
    assert r.status_code == 403
    assert counts(ctx, dt) == before


def test_guests_are_sent_to_login(client):
    r = client.get("/app/customize-form")
    assert r.status_code == 302 and r["Location"].startswith("/login")


def test_page_lists_fields_in_order_with_editor(ctx, client, manager, base_doctype):
    dt = base_doctype
    assert customize(client, manager, dt, field_rows(dt) + [{"is_new": 1, "fieldtype": "Data",
                                                             "label": "Shown"}]).status_code == 302
    page = text(client.get("/app/customize-form?" + urlencode({"doctype": dt})))
    positions = [page.index(f'data-fieldname="{f}"') for f in ("title", "status", "notes", "custom_shown")]
    assert positions == sorted(positions)
    assert "sortable.js" in page and "customize.js" in page
    assert 'id="new-field-template"' in page
    assert "/app/customize-form/remove?doctype=" in page  # custom fields can be removed


# -- app DocTypes -------------------------------------------------------------------------------

def test_customisations_of_an_app_doctype_survive_its_upgrade(ctx, client, manager, temp_app, unique):
    """The point of Custom Fields and Property Setters: the app's own definition can
    change on migrate and the site's changes stay."""
    from lowcode import installer
    write(ctx)
    app = temp_app()
    dt = f"App Thing {unique}"
    definition = {"name": dt, "fields": [{"fieldname": "title", "fieldtype": "Data", "label": "Title"},
                                         {"fieldname": "notes", "fieldtype": "Small Text", "label": "Notes"}],
                  "permissions": [{"role": "System Manager", "read": 1, "write": 1, "create": 1}]}
    app.write_doctype(definition)
    assert installer.install_app(app.name) is True
    refresh(ctx)
    rows = field_rows(dt)
    find(rows, "title")["label"] = "Heading"
    rows.insert(1, {"is_new": 1, "fieldtype": "Int", "label": "Rank"})
    r = customize(client, manager, dt, rows)
    assert r.status_code == 302, text(r)[:2000]

    # The app's next version adds a field; migrate syncs the app's definition again.
    definition["fields"].append({"fieldname": "stage", "fieldtype": "Data", "label": "Stage"})
    app.write_doctype(definition)
    write(ctx)
    installer.migrate()
    refresh(ctx)
    meta = get_meta(dt)
    assert meta.custom == 0
    assert [f.fieldname for f in meta.fields] == ["title", "custom_rank", "notes", "stage"]
    assert meta.get_field("title").label == "Heading"
    assert {"custom_rank", "stage"} <= set(ctx.db.get_columns(dt))
