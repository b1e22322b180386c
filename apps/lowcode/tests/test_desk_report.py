"""The report view over HTTP on both engines: grouped figures over only the rows the
user may read, the report and export permissions, saved reports (private and public),
CSV and XLSX exports, and child-table columns."""
import csv
import io
import json
import re
from urllib.parse import urlencode

import pytest

import lowcode
from lowcode.utils import route_for

from .desk_helpers import commit, ensure_role, login, make_user, table_rows


@pytest.fixture
def world(ctx, make_doctype, unique):
    """A DocType with an if_owner reporting role: the reporter sees only their own deals."""
    for role in (f"Rep {unique}", f"Reader {unique}", f"Viewer {unique}"):
        ensure_role(role)
    child = make_doctype([{"fieldname": "item", "fieldtype": "Data", "label": "Item"},
                          {"fieldname": "qty", "fieldtype": "Int", "label": "Qty"}],
                         name=f"Deal Line {unique}", istable=1, permissions=[])
    doctype = make_doctype(
        [{"fieldname": "title", "fieldtype": "Data", "label": "Title", "in_list_view": 1},
         {"fieldname": "status", "fieldtype": "Select", "label": "Status", "options": "Open\nWon\nLost",
          "in_list_view": 1},
         {"fieldname": "amount", "fieldtype": "Currency", "label": "Amount"},
         {"fieldname": "lines", "fieldtype": "Table", "label": "Lines", "options": child}],
        name=f"Deal {unique}", title_field="title",
        permissions=[{"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1, "report": 1,
                      "export": 1},
                     {"role": f"Rep {unique}", "read": 1, "create": 1, "write": 1, "report": 1, "export": 1,
                      "if_owner": 1},
                     {"role": f"Reader {unique}", "read": 1},
                     {"role": f"Viewer {unique}", "read": 1, "report": 1}])
    rep = make_user(unique, "rep", [f"Rep {unique}"])
    other = make_user(unique, "other", [f"Rep {unique}"])
    reader = make_user(unique, "reader", [f"Reader {unique}"])
    viewer = make_user(unique, "viewer", [f"Viewer {unique}"])
    deals = [(rep, "A", "Open", 100), (rep, "B", "Open", 50.5), (rep, "C", "Won", 30), (rep, "=HYPERLINK(1)", "Lost", 0),
             (other, "D", "Open", 1000), (other, "E", "Won", 7)]
    for owner, title, status, amount in deals:
        lowcode.get_doc({"doctype": doctype, "title": title, "status": status, "amount": amount, "owner": owner,
                         "lines": [{"item": "x", "qty": 2}, {"item": "y", "qty": 3}] if title == "A" else []}
                        ).insert(ignore_permissions=True)
    commit(ctx)
    return {"doctype": doctype, "route": route_for(doctype), "rep": rep, "other": other, "reader": reader,
            "viewer": viewer}


def url(world, **params):
    items = []
    for key, value in params.items():
        for v in value if isinstance(value, list) else [value]:
            items.append((key, v))
    return f"/app/{world['route']}/view/report?" + urlencode(items + [("apply", "1")])


def test_grouped_sum_matches_hand_figures_and_hides_unreadable_rows(ctx, client, world):
    login(ctx, client, world["rep"])
    r = client.get(url(world, group_by="status", aggregate="sum", aggregate_on="amount", chart="bar"))
    assert r.status_code == 200, r.content[:500]
    html = r.content.decode()
    rows = {row[0]: row[1:] for row in table_rows(html, "report-table")}
    # Only rep's four deals: Open 100 + 50.5, Won 30, Lost 0 (other's 1000 and 7 are not theirs).
    assert set(rows) == {"Open", "Won", "Lost"}
    assert rows["Open"][0] == "2" and rows["Open"][1].startswith("150.50")
    assert rows["Won"][0] == "1" and rows["Won"][1].startswith("30.00")
    chart = json.loads(re.search(r'data-chart="([^"]*)"', html).group(1).replace("&#34;", '"'))
    assert chart["type"] == "bar" and dict(zip(chart["labels"], chart["values"])) == {"Open": 150.5, "Won": 30.0,
                                                                                        "Lost": 0.0}
    # The same figures, raw, in the export of the grouped report.
    r = client.get(url(world, group_by="status", aggregate="sum", aggregate_on="amount", export="csv"))
    assert r.status_code == 200
    body = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert body[0] == ["Status", "Count", "Sum of Amount"]
    assert {row[0]: (int(row[1]), float(row[2])) for row in body[1:]} == {"Open": (2, 150.5), "Won": (1, 30.0),
                                                                          "Lost": (1, 0.0)}


def test_average_and_count_over_everything_for_a_full_reader(ctx, client, world):
    login(ctx, client, world["viewer"])
    r = client.get(url(world, group_by="status", aggregate="avg", aggregate_on="amount"))
    assert r.status_code == 200, r.content[:300]
    rows = {row[0]: row[1:] for row in table_rows(r.content.decode(), "report-table")}
    assert rows["Open"][0] == "3" and rows["Open"][1].startswith("383.50")   # (100 + 50.5 + 1000) / 3
    assert rows["Won"][0] == "2" and rows["Won"][1].startswith("18.50")


def test_report_permission_is_required(ctx, client, world):
    login(ctx, client, world["reader"])
    r = client.get(url(world, group_by="status"))
    assert r.status_code == 403
    assert b"report" in r.content
    # The list itself stays readable for them.
    assert client.get(f"/app/{world['route']}").status_code == 200


def test_filters_columns_and_sort(ctx, client, world):
    login(ctx, client, world["viewer"])
    filters = json.dumps([["status", "=", "Open"]])
    r = client.get(url(world, columns=["title", "amount"], filters=filters, sort_field="amount", sort_dir="asc"))
    assert r.status_code == 200
    rows = table_rows(r.content.decode(), "report-table")
    assert [row[1] for row in rows] == ["B", "A", "D"]
    assert b"3 documents match" in r.content
    # An added filter narrows further; an unknown column is refused with its name.
    r = client.get(url(world, columns=["title"], filters=filters, add_field="amount", add_op=">", add_value="60"))
    assert [row[1] for row in table_rows(r.content.decode(), "report-table")] == ["D", "A"] or \
        sorted(row[1] for row in table_rows(r.content.decode(), "report-table")) == ["A", "D"]
    r = client.get(url(world, columns=["title", "nope"]))
    assert r.status_code == 200 and b"nope is not a field you can report on" in r.content


def test_save_reload_private_then_public(ctx, client, world, unique):
    doctype = world["doctype"]
    token = login(ctx, client, world["rep"])
    name = f"My open deals {unique}"
    state = urlencode([("columns", "title"), ("columns", "amount"), ("group_by", "status"), ("aggregate", "sum"),
                       ("aggregate_on", "amount"), ("chart", "pie"), ("apply", "1"),
                       ("filters", json.dumps([["amount", ">", 1]]))])
    r = client.post(f"/app/{world['route']}/view/report", {"report_name": name, "state": state},
                    HTTP_X_FRAPPE_CSRF_TOKEN=token)
    assert r.status_code == 302, r.content[:500]
    assert r["Location"].endswith("report=" + name.replace(" ", "+"))
    saved = lowcode.get_doc("Report", name)
    assert saved.ref_doctype == doctype and saved.owner == world["rep"] and not saved.is_public
    settings = json.loads(saved.json)
    assert settings["group_by"] == "status" and settings["chart"] == "pie" and settings["columns"] == ["title", "amount"]
    r = client.get(r["Location"])
    assert r.status_code == 200
    rows = {row[0]: row[1:] for row in table_rows(r.content.decode(), "report-table")}
    assert set(rows) == {"Open", "Won"}  # Lost has amount 0: filtered out by the saved filter
    assert 'id="report-name"' in r.content.decode()

    # Private: another user with the report permission cannot see or load it.
    other_client = client.__class__(HTTP_HOST=client.defaults["HTTP_HOST"])
    login(ctx, other_client, world["other"])
    r = other_client.get(f"/app/{world['route']}/view/report?report={name}")
    assert r.status_code == 404
    assert name not in other_client.get(f"/app/{world['route']}/view/report").content.decode()
    # Another user cannot overwrite it either.
    other_token = login(ctx, other_client, world["other"])
    r = other_client.post(f"/app/{world['route']}/view/report", {"report_name": name, "state": state,
                                                                  "is_public": "1"},
                          HTTP_X_FRAPPE_CSRF_TOKEN=other_token)
    assert r.status_code == 403
    commit(ctx)  # a fresh snapshot
    assert not lowcode.get_doc("Report", name).is_public

    # Publishing shares the report with everyone: the owner's if_owner rule does not
    # grant it (no share right), on the desk and over REST alike; the desk does not offer it.
    assert 'id="report-public"' not in client.get(f"/app/{world['route']}/view/report?report={name}").content.decode()
    r = client.post(f"/app/{world['route']}/view/report", {"report_name": name, "state": state, "is_public": "1"},
                    HTTP_X_FRAPPE_CSRF_TOKEN=token)
    assert r.status_code == 403 and b"public" in r.content
    r = client.put(f"/api/resource/Report/{name}", json.dumps({"is_public": 1}), content_type="application/json",
                   HTTP_X_FRAPPE_CSRF_TOKEN=token)
    assert r.status_code == 403, r.content[:300]
    r = client.post("/api/resource/Report", json.dumps({"report_name": f"Sneaky {unique}", "ref_doctype": doctype,
                                                        "report_type": "Report Builder", "is_public": 1}),
                    content_type="application/json", HTTP_X_FRAPPE_CSRF_TOKEN=token)
    assert r.status_code == 403, r.content[:300]
    commit(ctx)
    assert not lowcode.get_doc("Report", name).is_public
    assert not lowcode.db.exists("Report", f"Sneaky {unique}")

    # Public: a System Manager publishes it; the other user sees it listed and loads it,
    # with their own rows only (other owns Open 1000 and Won 7).
    ctx.db.commit()
    ctx.db.begin()
    report = lowcode.get_doc("Report", name)
    report.is_public = 1
    report.save()
    commit(ctx)
    # the owner may still edit the report that is public now (and may unpublish it)
    assert 'id="report-public"' in client.get(f"/app/{world['route']}/view/report?report={name}").content.decode()
    r = client.post(f"/app/{world['route']}/view/report", {"report_name": name, "state": state, "is_public": "1"},
                    HTTP_X_FRAPPE_CSRF_TOKEN=token)
    assert r.status_code == 302
    listing = other_client.get(f"/app/{world['route']}/view/report").content.decode()
    assert name in listing
    r = other_client.get(f"/app/{world['route']}/view/report?report={name}")
    assert r.status_code == 200
    rows = {row[0]: row[1:] for row in table_rows(r.content.decode(), "report-table")}
    assert rows["Open"][0] == "1" and rows["Open"][1].startswith("1,000.00")
    # A user who may not report on the DocType still cannot use the public report.
    reader_client = client.__class__(HTTP_HOST=client.defaults["HTTP_HOST"])
    login(ctx, reader_client, world["reader"])
    assert reader_client.get(f"/app/{world['route']}/view/report?report={name}").status_code == 403


def test_export_csv_and_xlsx(ctx, client, world):
    from openpyxl import load_workbook
    login(ctx, client, world["rep"])
    params = dict(columns=["title", "status", "amount"], sort_field="title", sort_dir="asc")
    r = client.get(url(world, export="csv", **params))
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    assert "attachment" in r["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == ["ID", "Title", "Status", "Amount"]
    titles = [row[1] for row in rows[1:]]
    # Only rep's rows; the formula-looking title is written as text.
    assert titles == ["'=HYPERLINK(1)", "A", "B", "C"]

    r = client.get(url(world, export="xlsx", **params))
    assert r.status_code == 200 and "spreadsheetml" in r["Content-Type"]
    sheet = load_workbook(io.BytesIO(r.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == ["ID", "Title", "Status", "Amount"]
    assert [v[1] for v in values[1:]] == ["'=HYPERLINK(1)", "A", "B", "C"]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert {v[1]: v[3] for v in values[1:]}["B"] == 50.5

    # The viewer may report but not export.
    viewer = client.__class__(HTTP_HOST=client.defaults["HTTP_HOST"])
    login(ctx, viewer, world["viewer"])
    assert viewer.get(url(world, export="csv", **params)).status_code == 403
    assert viewer.get(url(world, export="xlsx", **params)).status_code == 403
    assert b"Export CSV" not in viewer.get(url(world, **params)).content


def test_child_table_columns(ctx, client, world):
    login(ctx, client, "Administrator")
    r = client.get(url(world, columns=["title", "lines.item", "lines.qty"], filters=json.dumps([["title", "=", "A"]]),
                       sort_field="title", sort_dir="asc"))
    assert r.status_code == 200
    rows = table_rows(r.content.decode(), "report-table")
    assert sorted((row[1], row[2], row[3]) for row in rows) == [("A", "x", "2"), ("A", "y", "3")]
    r = client.get(url(world, group_by="status", aggregate="sum", aggregate_on="lines.qty"))
    rows = {row[0]: row[1:] for row in table_rows(r.content.decode(), "report-table")}
    assert rows["Open"][1].startswith("5")  # 2 + 3 on A's lines; B and D have none


def test_a_page_number_too_long_for_int_is_a_client_error(ctx, client, world):
    """int() refuses numbers of more than 4300 digits: such a page is refused by name
    (400), not a server error; a page that is not a number still shows page 1."""
    login(ctx, client, world["viewer"])
    r = client.get(url(world, page="9" * 5000))
    assert r.status_code == 400, r.content[:300]
    assert b"page" in r.content
    assert client.get(url(world, page="x")).status_code == 200
