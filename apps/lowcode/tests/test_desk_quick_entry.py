"""Quick entry on any DocType with ``quick_entry`` (desk/views/quick_entry.py), over HTTP on
both engines: the dialog asks the mandatory fields, those marked ``allow_in_quick_entry``
(in the definition or through Customize Form) and the name when the DocType asks for one;
fields outside the dialog keep their defaults; a field the user may not write is not asked."""
import json
import re

import lowcode
from lowcode import customize
from lowcode.meta import get_meta
from lowcode.tests.desk_helpers import commit, login, make_user


def inputs(html):
    return set(re.findall(r'<(?:input|select|textarea)[^>]*\sname="([^"]+)"', html)) - {"csrf_token"}


def test_the_dialog_follows_the_definition_and_customize_form(ctx, client, unique, make_doctype):
    from lowcode.utils import route_for
    name = make_doctype([
        {"fieldname": "title", "fieldtype": "Data", "label": "Title", "reqd": 1},
        {"fieldname": "phone", "fieldtype": "Data", "label": "Phone", "allow_in_quick_entry": 1},
        {"fieldname": "notes", "fieldtype": "Small Text", "label": "Notes"},
        {"fieldname": "active", "fieldtype": "Check", "label": "Active", "default": "1"},
        {"fieldname": "secret", "fieldtype": "Data", "label": "Secret", "reqd": 1, "permlevel": 1, "default": "x"},
    ], quick_entry=1, autoname="prompt", title_field="title")
    route = route_for(name)
    admin = make_user(unique, "qe-admin", ["System Manager"])
    csrf = login(ctx, client, admin)
    assert inputs(client.get(f"/app/{route}/__quick").content.decode()) == {"__newname", "title", "phone"}
    ctx.db.begin()
    customize.apply_field_changes(name, [{"fieldname": df.fieldname, **({"allow_in_quick_entry": 1}
                                  if df.fieldname == "notes" else {})} for df in get_meta(name).fields])
    commit(ctx)
    assert inputs(client.get(f"/app/{route}/__quick").content.decode()) == {"__newname", "title", "phone", "notes"}
    saved = client.post(f"/app/{route}/__quick", {"csrf_token": csrf, "__newname": f"QE {unique}",
                                                  "title": "First", "notes": "typed"})
    assert saved.status_code == 200, saved.content
    assert json.loads(saved.content)["name"] == f"QE {unique}"
    commit(ctx)  # a fresh read of what the request wrote
    row = lowcode.db.get_value(name, f"QE {unique}", "active")
    assert row == 1  # a Check outside the dialog keeps its default
