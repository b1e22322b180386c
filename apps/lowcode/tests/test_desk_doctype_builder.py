"""The DocType builder over HTTP, on both engines: a DocType made on the page has a
table, a list, a form and the REST API at once; naming choices, child tables,
editing a custom DocType, refusals that create nothing, and app DocTypes left to
Customize Form."""
import json
from urllib.parse import quote

import pytest

import lowcode
from lowcode.meta import get_meta
from lowcode.utils import route_for

from .test_desk_customize import desk_user, form_data, post, refresh, text


@pytest.fixture
def manager(ctx, client, unique):
    return desk_user(ctx, client, unique, "builder-admin")[1]


FULL_RULE = {"role": "System Manager", "permlevel": "0", "read": 1, "write": 1, "create": 1, "delete": 1,
             "report": 1, "export": 1}


def builder_data(fields, rules=(FULL_RULE,), **values):
    """The builder page's post: definition inputs, field rows, then rule rows."""
    data = form_data(fields, **{"module": "Custom", "naming": "hash", **values})
    data["rule"] = []
    for key, rule in enumerate(rules, start=1):
        data["rule"].append(str(key))
        for prop, value in rule.items():
            if prop in ("role", "permlevel"):
                data[f"r-{key}-{prop}"] = value
            elif value:
                data[f"r-{key}-{prop}"] = "1"
    for flag in ("istable", "is_submittable", "track_changes"):
        if not data.get(flag):
            data.pop(flag, None)
    return data


def build(client, session, data, name=None):
    url = "/app/doctype-builder" + (f"/{quote(name)}" if name else "")
    return post(client, session, url, data)


TICKET_FIELDS = [
    {"is_new": 1, "fieldtype": "Data", "label": "Subject", "reqd": 1, "in_list_view": 1},
    {"is_new": 1, "fieldtype": "Select", "label": "Priority", "options": "Low\nHigh", "default": "Low",
     "in_standard_filter": 1},
    {"is_new": 1, "fieldtype": "Column Break", "label": ""},
    {"is_new": 1, "fieldtype": "Link", "label": "Assigned To", "fieldname": "assigned_to", "options": "User"},
    {"is_new": 1, "fieldtype": "Int", "label": "Hours"},
]


def test_builder_makes_a_doctype_with_list_form_and_api(ctx, client, manager, unique):
    name = f"Ticket {unique}"
    data = builder_data(TICKET_FIELDS, name=name, naming="series", naming_series="TKT-", title_field="subject",
                        search_fields="priority", track_changes="1")
    r = build(client, manager, data)
    assert r.status_code == 302, text(r)[:3000]
    assert r["Location"] == f"/app/doctype-builder/{quote(name)}?saved=1"
    refresh(ctx)
    meta = get_meta(name)
    assert [f.fieldname for f in meta.fields] == ["subject", "priority", "column_break_3", "assigned_to", "hours"]
    assert meta.autoname == "TKT-.#####" and meta.title_field == "subject" and meta.search_fields == ["priority"]
    assert meta.track_changes == 1 and meta.custom == 1
    assert {"subject", "priority", "assigned_to", "hours"} <= set(ctx.db.get_columns(name))
    assert [(p.role, int(p.read), int(p.delete)) for p in meta.permissions] == [("System Manager", 1, 1)]

    # The API creates and lists documents at once, named by the series.
    created = post(client, manager, f"/api/resource/{quote(name)}", {"subject": "Printer jam", "hours": "2"})
    assert created.status_code == 200, text(created)
    doc_name = created.json()["data"]["name"]
    assert doc_name.startswith("TKT-")
    listed = client.get(f"/api/resource/{quote(name)}", {"fields": json.dumps(["subject", "priority"])})
    assert listed.json()["data"] == [{"subject": "Printer jam", "priority": "Low"}]
    refused = post(client, manager, f"/api/resource/{quote(name)}", {"hours": "1"})
    assert refused.status_code == 417 and "Subject" in refused.json()["message"]

    route = route_for(name)
    listing = client.get(f"/app/{route}")
    assert listing.status_code == 200 and "Printer jam" in text(listing)
    filtered = client.get(f"/app/{route}?priority=High")
    assert filtered.status_code == 200 and "Printer jam" not in text(filtered)
    form = client.get(f"/app/{route}/{quote(doc_name)}")
    assert form.status_code == 200 and 'id="f-subject"' in text(form)
    assert client.get(f"/app/{route}/new").status_code == 200
    # The builder page shows the saved DocType with its links.
    page = text(client.get(f"/app/doctype-builder/{quote(name)}"))
    assert f'href="/app/{route}"' in page and 'data-fieldname="assigned_to"' in page


@pytest.mark.parametrize("naming,extra,autoname", [
    ("field", {"naming_field": "code"}, "field:code"),
    ("autoincrement", {}, "autoincrement"),
    ("prompt", {}, "prompt"),
    ("hash", {}, "hash"),
])
def test_naming_choices(ctx, client, manager, unique, naming, extra, autoname):
    name = f"Named {naming} {unique}"
    fields = [{"is_new": 1, "fieldtype": "Data", "label": "Code", "reqd": 1}]
    r = build(client, manager, builder_data(fields, name=name, naming=naming, **extra))
    assert r.status_code == 302, text(r)[:3000]
    refresh(ctx)
    assert get_meta(name).autoname == autoname
    if naming == "field":
        created = post(client, manager, f"/api/resource/{quote(name)}", {"code": "ABC-1"})
        assert created.status_code == 200 and created.json()["data"]["name"] == "ABC-1"


def test_child_table_and_its_parent(ctx, client, manager, unique):
    child = f"Ticket Part {unique}"
    r = build(client, manager, builder_data([{"is_new": 1, "fieldtype": "Data", "label": "Part"},
                                             {"is_new": 1, "fieldtype": "Int", "label": "Qty"}],
                                            rules=(), name=child, istable="1"))
    assert r.status_code == 302, text(r)[:3000]
    parent = f"Repair {unique}"
    r = build(client, manager, builder_data([{"is_new": 1, "fieldtype": "Data", "label": "Title"},
                                             {"is_new": 1, "fieldtype": "Table", "label": "Parts",
                                              "options": child}], name=parent))
    assert r.status_code == 302, text(r)[:3000]
    refresh(ctx)
    assert get_meta(child).istable == 1 and get_meta(child).permissions == []
    created = client.post(f"/api/resource/{quote(parent)}",
                          json.dumps({"title": "fix", "parts": [{"part": "belt", "qty": 2}]}),
                          content_type="application/json", HTTP_X_FRAPPE_CSRF_TOKEN=manager.csrf_token)
    assert created.status_code == 200, text(created)
    assert created.json()["data"]["parts"][0]["part"] == "belt"


def test_editing_a_custom_doctype(ctx, client, manager, unique):
    name = f"Editable {unique}"
    fields = [{"is_new": 1, "fieldtype": "Data", "label": "Title"},
              {"is_new": 1, "fieldtype": "Data", "label": "Obsolete"}]
    assert build(client, manager, builder_data(fields, name=name)).status_code == 302
    refresh(ctx)
    modified = lowcode.get_value("DocType", name, "modified")
    rows = [{"fieldname": "title", "label": "Heading", "reqd": 1},
            {"fieldname": "obsolete", "label": "Obsolete", "__delete": 1},
            {"is_new": 1, "fieldtype": "Date", "label": "Due"}]
    r = build(client, manager, builder_data(rows, modified=modified, naming="field", naming_field="title"),
              name=name)
    assert r.status_code == 302, text(r)[:3000]
    refresh(ctx)
    meta = get_meta(name)
    assert [f.fieldname for f in meta.fields] == ["title", "due"]
    assert meta.get_field("title").label == "Heading" and meta.get_field("title").reqd == 1
    assert meta.autoname == "field:title"
    columns = ctx.db.get_columns(name)
    assert "due" in columns and "obsolete" in columns  # a removed field's column and data stay


BAD_BUILDS = {
    "reserved fieldname": ([{"is_new": 1, "fieldtype": "Data", "fieldname": "owner"}], {}, "reserved"),
    "duplicate fieldname": ([{"is_new": 1, "fieldtype": "Data", "label": "Code"},
                             {"is_new": 1, "fieldtype": "Int", "label": "Code"}], {}, "duplicate fieldname"),
    "link to missing doctype": ([{"is_new": 1, "fieldtype": "Link", "label": "To", "options": "Nowhere At All"}], {},
                                "Link to missing DocType"),
    "hidden mandatory": ([{"is_new": 1, "fieldtype": "Data", "label": "Code", "reqd": 1, "hidden": 1}], {},
                         "cannot be hidden"),
    "naming field missing": ([{"is_new": 1, "fieldtype": "Data", "label": "Code"}],
                             {"naming": "field", "naming_field": "nope"}, "autoname"),
    "bad series": ([{"is_new": 1, "fieldtype": "Data", "label": "Code"}],
                   {"naming": "series", "naming_series": "A;B"}, "not a series"),
    "name taken by a desk page": ([{"is_new": 1, "fieldtype": "Data", "label": "Code"}],
                                  {"name": "Permission Manager"}, "/app/permission-manager"),
    "unknown role": ([{"is_new": 1, "fieldtype": "Data", "label": "Code"}],
                     {"rules": ({"role": "No Such Role", "read": 1},)}, "does not exist"),
    "no name": ([{"is_new": 1, "fieldtype": "Data", "label": "Code"}], {"name": ""}, "give the DocType a name"),
}


@pytest.mark.parametrize("case", sorted(BAD_BUILDS))
def test_bad_definitions_create_nothing(ctx, client, manager, unique, case):
    fields, values, message = BAD_BUILDS[case]
    values = dict(values)
    name = values.pop("name", f"Broken {unique}")
    rules = values.pop("rules", (FULL_RULE,))
    before = lowcode.get_count("DocType")
    r = build(client, manager, builder_data(fields, rules=rules, name=name, **values))
    assert r.status_code in (409, 417), (r.status_code, text(r)[:2000])
    assert 'id="form-error"' in text(r) and message in text(r), text(r)[:4000]
    refresh(ctx)
    assert lowcode.get_count("DocType") == before
    assert not ctx.db.table_exists(name) if name else True


def test_duplicate_doctype_name_is_refused(ctx, client, manager):
    r = build(client, manager, builder_data([{"is_new": 1, "fieldtype": "Data", "label": "Code"}], name="User"))
    assert r.status_code == 409 and "already exists" in text(r)


def test_app_doctypes_are_not_edited_here(ctx, client, manager):
    r = client.get("/app/doctype-builder/User")
    assert r.status_code == 403 and "Customize Form" in text(r)
    r = build(client, manager, builder_data([{"fieldname": "email", "label": "Changed"}]), name="User")
    assert r.status_code == 403
    refresh(ctx)
    assert get_meta("User").get_field("email").label != "Changed"


def test_missing_doctype_is_404(client, manager):
    assert client.get("/app/doctype-builder/No%20Such%20DocType").status_code == 404


def test_refused_edit_shows_the_input_again_and_changes_nothing(ctx, client, manager, unique):
    name = f"Kept {unique}"
    assert build(client, manager, builder_data([{"is_new": 1, "fieldtype": "Data", "label": "Title"}],
                                               name=name)).status_code == 302
    refresh(ctx)
    rows = [{"fieldname": "title", "label": "Renamed", "reqd": 1, "hidden": 1},
            {"is_new": 1, "fieldtype": "Int", "label": "Extra"}]
    r = build(client, manager, builder_data(rows, modified=lowcode.get_value("DocType", name, "modified")), name=name)
    assert r.status_code == 417 and "cannot be hidden" in text(r)
    page = text(r)
    assert 'data-fieldname="title"' in page and 'value="Renamed"' in page and 'value="Extra"' in page
    refresh(ctx)
    assert [f.fieldname for f in get_meta(name).fields] == ["title"]
    assert get_meta(name).get_field("title").label == "Title"
    assert "extra" not in ctx.db.get_columns(name)
