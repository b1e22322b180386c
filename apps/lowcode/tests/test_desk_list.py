"""The list view over HTTP: standard filters, the filter builder (any field, child-table
fields included) with removable chips, and refusals."""
import json
import re
from urllib.parse import parse_qs, urlparse

import lowcode
from lowcode.utils import route_for

from .desk_helpers import commit, login


def _doctypes(ctx, make_doctype, unique):
    child = make_doctype([{"fieldname": "sku", "fieldtype": "Data", "label": "SKU"}], name=f"Line {unique}", istable=1,
                         permissions=[])
    parent = make_doctype([{"fieldname": "title", "fieldtype": "Data", "label": "Title", "in_list_view": 1},
                           {"fieldname": "stage", "fieldtype": "Select", "options": "Open\nWon", "default": "Open",
                            "in_standard_filter": 1},
                           {"fieldname": "lines", "fieldtype": "Table", "options": child}],
                          name=f"Order {unique}", title_field="title")
    for title, stage, sku in (("alpha", "Open", "A-1"), ("beta", "Won", "B-2"), ("gamma", "Open", "B-2")):
        lowcode.get_doc({"doctype": parent, "title": f"{title} {unique}", "stage": stage,
                         "lines": [{"sku": sku}]}).insert()
    commit(ctx)
    return parent


def _titles(html, unique):
    return sorted(t for t in ("alpha", "beta", "gamma") if f"{t} {unique}" in html)


def test_filter_builder_adds_a_child_table_filter_as_a_removable_chip(ctx, client, make_doctype, unique):
    route = route_for(_doctypes(ctx, make_doctype, unique))
    login(ctx, client, "Administrator")
    r = client.get(f"/app/{route}", {"stage": "Open", "add_field": "lines.sku", "add_op": "=", "add_value": "B-2"})
    assert r.status_code == 302
    target = urlparse(r["Location"])
    args = parse_qs(target.query)
    assert json.loads(args["filters"][0]) == [["lines.sku", "=", "B-2"]] and "add_field" not in args
    page = client.get(r["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert _titles(html, unique) == ["gamma"]  # stage Open AND a line with SKU B-2
    chips = re.findall(r'id="list-chips".*?</ul>', html, re.S)
    assert chips and "B-2" in chips[0]
    remove = re.search(r'<a href="\?([^"]+)"[^>]*aria-label="Remove filter', chips[0]).group(1)
    again = client.get(f"/app/{route}?" + remove.replace("&amp;", "&"))
    assert _titles(again.content.decode(), unique) == ["alpha", "gamma"]


def test_bad_filter_field_is_reported_and_a_refused_read_is_403(ctx, client, make_doctype, unique):
    route = route_for(_doctypes(ctx, make_doctype, unique))
    login(ctx, client, "Administrator")
    r = client.get(f"/app/{route}", {"filters": json.dumps([["nope", "=", 1]])})
    assert r.status_code == 417 and "nope" in r.content.decode()
    user = lowcode.get_doc({"doctype": "User", "email": f"nobody-{unique}@example.com", "first_name": "No",
                            "roles": []}).insert()
    commit(ctx)
    login(ctx, client, user.name)
    r = client.get(f"/app/{route}")
    assert r.status_code == 403
    assert f"alpha {unique}" not in r.content.decode()
