"""Pivot tables (lowcode/pivot.py and the report view's pivot mode) on both engines:
figures hand-computed on six records, for an admin and for a rep whose row rule
(if_owner) leaves four; Jalali month buckets around a boundary Gregorian months do
not share; averages from sums and counts; a field above the user's permlevel refused;
drill-down links that list exactly a cell's records; export; save, reload and share;
a group value holding HTML shown as text."""
import csv
import io
import json
import re
from html import unescape
from urllib.parse import urlencode

import pytest

import lowcode
from lowcode.exceptions import PermissionError, ValidationError
from lowcode.pivot import TOTAL, cell_filters, pivot
from lowcode.utils import route_for

from .desk_helpers import as_user, commit, ensure_role, login, make_user, table_rows

XSS = '<img src=x onerror="alert(1)">'


@pytest.fixture
def world(ctx, make_doctype, unique):
    ensure_role(f"PRep {unique}")
    doctype = make_doctype(
        [{"fieldname": "title", "fieldtype": "Data", "label": "Title", "in_list_view": 1},
         {"fieldname": "source", "fieldtype": "Data", "label": "Source", "in_list_view": 1},
         {"fieldname": "closing_date", "fieldtype": "Date", "label": "Closing Date"},
         {"fieldname": "amount", "fieldtype": "Currency", "label": "Amount"},
         {"fieldname": "secret", "fieldtype": "Data", "label": "Secret", "permlevel": 1},
         {"fieldname": "won", "fieldtype": "Check", "label": "Won"}],
        name=f"Piv {unique}", title_field="title",
        permissions=[{"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1, "report": 1,
                      "export": 1},
                     {"role": "System Manager", "permlevel": 1, "read": 1, "write": 1},
                     {"role": f"PRep {unique}", "read": 1, "create": 1, "write": 1, "report": 1, "export": 1,
                      "if_owner": 1}])
    rep = make_user(unique, "prep", [f"PRep {unique}"])
    other = make_user(unique, "pother", [f"PRep {unique}"])
    # Jalali months: Aban 1405 runs to 2026-11-21, Azar 1405 from 2026-11-22 to 2026-12-21, Dey from 2026-12-22.
    deals = [("T1", rep, "Web", "2026-11-20", 100),    # Gregorian Nov, Jalali Aban
             ("T2", rep, "Web", "2026-11-25", 50),     # Gregorian Nov, Jalali Azar
             ("T3", rep, "Call", "2026-12-10", 30),    # Gregorian Dec, Jalali Azar
             ("T4", other, "Web", "2026-12-10", 1000),  # Gregorian Dec, Jalali Azar
             ("T5", other, XSS, "2026-12-25", 7),      # Gregorian Dec, Jalali Dey
             ("T6", rep, "Call", None, 20)]            # no date
    names = {}
    for title, owner, source, day, amount in deals:
        doc = lowcode.get_doc({"doctype": doctype, "title": title, "source": source, "closing_date": day,
                               "amount": amount, "owner": owner, "secret": "s", "won": int(title == "T1")}
                              ).insert(ignore_permissions=True)
        names[title] = doc.name
    commit(ctx)
    return {"doctype": doctype, "route": route_for(doctype), "rep": rep, "other": other, "names": names}


def table(result):
    """{row key: {column key: value}} plus totals, for comparing with hand figures."""
    cells = {r: dict(zip(result["column_keys"], vals)) for r, vals in zip(result["row_keys"], result["values"])}
    return cells, dict(zip(result["row_keys"], result["row_totals"])), \
        dict(zip(result["column_keys"], result["column_totals"])), result["grand_total"]


def test_count_by_source_and_gregorian_month_as_admin(ctx, world):
    result = pivot(world["doctype"], ["source"], "closing_date:month")
    cells, rows, columns, grand = table(result)
    assert result["row_keys"] == [(XSS,), ("Call",), ("Web",)]  # "<" sorts before letters
    assert result["column_keys"] == ["2026-11-01", "2026-12-01", None]
    assert cells[("Web",)] == {"2026-11-01": 2, "2026-12-01": 1, None: None}   # T1, T2 | T4
    assert cells[("Call",)] == {"2026-11-01": None, "2026-12-01": 1, None: 1}  # T3 | T6
    assert cells[(XSS,)] == {"2026-11-01": None, "2026-12-01": 1, None: None}  # T5
    assert rows == {("Web",): 3, ("Call",): 2, (XSS,): 1}
    assert columns == {"2026-11-01": 2, "2026-12-01": 3, None: 1}              # 2 | 1+1+1 | 1
    assert grand == 6


def test_sum_by_jalali_month_splits_at_the_jalali_boundary(ctx, world):
    result = pivot(world["doctype"], ["source"], "closing_date:month", "sum", "amount", calendar="Jalali")
    cells, rows, columns, grand = table(result)
    # first days of Aban, Azar and Dey 1405 in Gregorian dates
    aban, azar, dey = "2026-10-23", "2026-11-22", "2026-12-22"
    assert result["column_keys"] == [aban, azar, dey, None]
    assert cells[("Web",)] == {aban: 100.0, azar: 1050.0, dey: None, None: None}  # T1 | T2 50 + T4 1000
    assert cells[("Call",)] == {aban: None, azar: 30.0, dey: None, None: 20.0}     # T3 | T6
    assert cells[(XSS,)] == {aban: None, azar: None, dey: 7.0, None: None}          # T5
    assert rows == {("Web",): 1150.0, ("Call",): 50.0, (XSS,): 7.0}                 # 100+50+1000, 30+20
    assert columns == {aban: 100.0, azar: 1080.0, dey: 7.0, None: 20.0}            # 50+1000+30
    assert grand == 1207.0                                                           # 100+50+30+1000+7+20
    # The same records by Gregorian quarter and Jalali year: one bucket each (+ no date).
    q = pivot(world["doctype"], ["closing_date:quarter"], calendar="Gregorian")
    assert dict(zip(q["row_keys"], q["row_totals"])) == {("2026-10-01",): 5, (None,): 1}
    y = pivot(world["doctype"], ["closing_date:year"], calendar="Jalali")
    assert dict(zip(y["row_keys"], y["row_totals"])) == {("2026-03-21",): 5, (None,): 1}  # 1 Farvardin 1405


def test_averages_come_from_sums_and_counts(ctx, world):
    result = pivot(world["doctype"], ["source"], aggregate="avg", aggregate_on="amount")
    _cells, rows, _columns, grand = table(result)
    assert rows[("Web",)] == pytest.approx(1150 / 3)   # (100 + 50 + 1000) / 3
    assert rows[("Call",)] == pytest.approx(25.0)      # (30 + 20) / 2
    assert rows[(XSS,)] == pytest.approx(7.0)
    # 1207 / 6 records, not the average of the three averages ((383.33 + 25 + 7) / 3 = 138.4)
    assert grand == pytest.approx(1207 / 6)
    low = pivot(world["doctype"], ["source"], "closing_date:year", "min", "amount")
    assert dict(zip(low["row_keys"], low["row_totals"]))[("Web",)] == 50.0
    assert low["grand_total"] == 7.0


def test_a_rep_sees_only_their_own_rows(ctx, world):
    with as_user(world["rep"]):
        result = pivot(world["doctype"], ["source"], "closing_date:month")
    cells, rows, columns, grand = table(result)
    # rep owns T1, T2 (Web, Nov), T3 (Call, Dec) and T6 (Call, no date)
    assert result["row_keys"] == [("Call",), ("Web",)]
    assert cells[("Web",)] == {"2026-11-01": 2, "2026-12-01": None, None: None}
    assert rows == {("Web",): 2, ("Call",): 2}
    assert columns == {"2026-11-01": 2, "2026-12-01": 1, None: 1}
    assert grand == 4


def test_a_table_too_large_is_refused(ctx, world, monkeypatch):
    import lowcode.pivot
    monkeypatch.setattr(lowcode.pivot, "MAX_CELLS", 11)  # 3 sources x 4 Jalali months (with "not set") = 12
    with pytest.raises(ValidationError) as e:
        pivot(world["doctype"], ["source"], "closing_date:month", calendar="Jalali")
    assert e.value.field == "rows" and "3 rows x 4 columns" in e.value.message
    monkeypatch.setattr(lowcode.pivot, "MAX_CELLS", 12)
    assert pivot(world["doctype"], ["source"], "closing_date:month", calendar="Jalali")["grand_total"] == 6


def test_bad_and_forbidden_fields_are_refused_by_name(ctx, world):
    with pytest.raises(ValidationError) as e:
        pivot(world["doctype"], ["source"], aggregate="sum", aggregate_on="title")
    assert e.value.field == "aggregate_on"
    with pytest.raises(ValidationError) as e:
        pivot(world["doctype"], ["source:month"])
    assert e.value.field == "rows"
    with pytest.raises(ValidationError) as e:
        pivot(world["doctype"], ["closing_date:fortnight"])
    assert e.value.field == "rows"
    with pytest.raises(ValidationError) as e:
        pivot(world["doctype"], ["closing_date:year"], "source", aggregate="avg")
    assert e.value.field == "aggregate_on"
    with as_user(world["rep"]), pytest.raises(PermissionError) as e:
        pivot(world["doctype"], ["secret"])  # permlevel 1: System Managers only
    assert e.value.field == "secret"


def page_url(world, **params):
    items = [(k, v) for k, value in params.items() for v in (value if isinstance(value, list) else [value])]
    return f"/app/{world['route']}/view/report?" + urlencode(items + [("apply", "1")])


def pivot_rows(html):
    return {row[0]: row[1:] for row in table_rows(html, "pivot-table")}


def test_page_figures_drill_down_and_escaping(ctx, client, world):
    login(ctx, client, world["rep"])
    r = client.get(page_url(world, pivot_rows="source", pivot_column="closing_date:month", chart="bar"))
    assert r.status_code == 200, r.content[:500]
    html = r.content.decode()
    rows = pivot_rows(html)
    # header: Source / Closing Date (Month), Nov 2026, Dec 2026, (not set), Total
    assert rows == {"Call": ["", "1", "1", "2"], "Web": ["2", "", "", "2"]}
    assert "Dec 2026" in html and "(not set)" in html
    chart = json.loads(unescape(re.search(r'data-chart="([^"]*)"', html).group(1)))
    assert chart["labels"] == ["Call", "Web"] and [d["values"] for d in chart["datasets"]] == [[0, 2], [1, 0], [1, 0]]
    # Every link lists exactly its cell's records: Web x Nov 2026 is T1 and T2; Call x (not set) is T6;
    # the grand total all four of rep's.
    links = re.findall(r'<a href="(/app/[^"]*view/report\?filters=[^"]*)"', html)
    assert len(links) == 3 + 2 + 3 + 1  # cells with records, row totals, column totals, grand total

    def titles(link):
        page = client.get(unescape(link)).content.decode()
        return sorted(row[1] for row in table_rows(page, "report-table"))  # ID, Title, Source

    web_row = re.search(r"<bdi>Web</bdi></th>(.*?)</tr>", html, re.S).group(1)
    web_links = re.findall(r'href="([^"]*)"', web_row)
    assert titles(web_links[0]) == ["T1", "T2"]       # Web x Nov 2026
    assert titles(web_links[-1]) == ["T1", "T2"]      # Web total
    call_row = re.search(r"<bdi>Call</bdi></th>(.*?)</tr>", html, re.S).group(1)
    call_links = re.findall(r'href="([^"]*)"', call_row)
    assert titles(call_links[1]) == ["T6"]            # Call x (not set)
    grand = re.search(r'<a href="([^"]*)" id="pivot-grand-total"', html).group(1)
    assert titles(grand) == ["T1", "T2", "T3", "T6"]

    # The admin sees the HTML source as text, never as markup.
    login(ctx, client, "Administrator")
    html = client.get(page_url(world, pivot_rows="source", chart="pie")).content.decode()
    assert XSS not in html and "&lt;img src=x onerror=" in html
    assert pivot_rows(html)[XSS] == ["1"]
    xss_row = re.search(r"<bdi>&lt;img.*?</th>(.*?)</tr>", html, re.S).group(1)
    assert titles(re.findall(r'href="([^"]*)"', xss_row)[0]) == ["T5"]


def test_page_in_persian_with_jalali_months(ctx, client, world):
    lowcode.db.set_value("User", world["rep"], {"language": "fa", "calendar": "Jalali", "use_local_digits": 1})
    commit(ctx)
    login(ctx, client, world["rep"])
    r = client.get(page_url(world, pivot_rows="closing_date:month", aggregate="sum", aggregate_on="amount"))
    html = r.content.decode()
    assert r.status_code == 200 and 'dir="rtl"' in html
    rows = pivot_rows(html)
    # rep: Aban T1 100; Azar T2 50 + T3 30; no date T6 20; months in Persian, digits Persian
    assert set(rows) == {"آبان ۱۴۰۵", "آذر ۱۴۰۵", "(تنظیم\u200cنشده)"}, rows
    assert rows["آبان ۱۴۰۵"][0].startswith("۱۰۰") and rows["آذر ۱۴۰۵"][0].startswith("۸۰")
    # Azar's link lists T2 and T3, its range shown in the Jalali calendar
    azar = re.search(r"<bdi>آذر ۱۴۰۵</bdi></th>(.*?)</tr>", html, re.S).group(1)
    page = client.get(unescape(re.findall(r'href="([^"]*)"', azar)[0])).content.decode()
    assert sorted(row[1] for row in table_rows(page, "report-table")) == ["T2", "T3"]
    assert "۱۴۰۵/۰۹/۰۱, ۱۴۰۵/۰۹/۳۰" in page  # 2026-11-22 .. 2026-12-21


def test_field_above_permlevel_is_not_offered_and_refused(ctx, client, world):
    login(ctx, client, world["rep"])
    html = client.get(page_url(world, pivot_rows="source")).content.decode()
    assert 'value="secret"' not in html and 'value="source"' in html
    r = client.get(page_url(world, pivot_rows="secret"))
    assert r.status_code == 417 and "secret is not a field you can report on" in r.content.decode()
    assert not table_rows(r.content.decode(), "pivot-table")
    r = client.get(page_url(world, pivot_rows="source", pivot_column="secret", export="csv"))
    assert r.status_code == 417 and b"pivot_column" in r.content
    r = client.get("/api/method/lowcode.pivot.get_pivot", {"doctype": world["doctype"], "rows": "secret"})
    assert r.status_code == 403 and b"secret" in r.content


def test_method_export_and_saved_shared_pivot(ctx, client, world, unique):
    token = login(ctx, client, world["rep"])
    r = client.get("/api/method/lowcode.pivot.get_pivot",
                   {"doctype": world["doctype"], "rows": '["source"]', "column": "closing_date:month",
                    "aggregate": "sum", "aggregate_on": "amount", "calendar": "Jalali"})
    assert r.status_code == 200, r.content[:300]
    message = r.json()["message"]
    # rep: Call 30 (Azar) + 20 (no date); Web 100 (Aban) + 50 (Azar)
    assert message["row_keys"] == [["Call"], ["Web"]] and message["row_totals"] == [50.0, 150.0]
    assert message["grand_total"] == 200.0

    r = client.get(page_url(world, pivot_rows="source", pivot_column="closing_date:month", export="csv"))
    assert r.status_code == 200
    body = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert body[0] == ["Source", "Nov 2026", "Dec 2026", "(not set)", "Total"]
    assert body[1:] == [["Call", "", "1", "1", "2"], ["Web", "2", "", "", "2"], ["Total", "2", "1", "1", "4"]]
    r = client.get(page_url(world, pivot_rows="source", export="xlsx"))
    assert r.status_code == 200 and r.content[:2] == b"PK"

    name = f"Deals by month {unique}"
    state = urlencode([("pivot_rows", "source"), ("pivot_column", "closing_date:quarter"), ("aggregate", "sum"),
                       ("aggregate_on", "amount"), ("chart", "bar"), ("apply", "1")])
    r = client.post(f"/app/{world['route']}/view/report", {"report_name": name, "state": state},
                    HTTP_X_FRAPPE_CSRF_TOKEN=token)
    assert r.status_code == 302, r.content[:300]
    settings = json.loads(lowcode.get_doc("Report", name).json)
    assert settings["pivot_rows"] == ["source"] and settings["pivot_column"] == "closing_date:quarter"
    html = client.get(r["Location"]).content.decode()
    assert pivot_rows(html) == {"Call": ["30.00", "20.00", "50.00"], "Web": ["150.00", "", "150.00"]}
    # Frappe's report runner gives the same table for the saved pivot, its total row included.
    r = client.get("/api/method/frappe.desk.query_report.run", {"report_name": name})
    assert r.status_code == 200, r.content[:300]
    run = r.json()["message"]
    assert [c["label"] for c in run["columns"]] == ["Source", "Q4 2026", "(not set)", "Total"]
    assert [list(row.values()) for row in run["result"]] == [["Call", 30.0, 20.0, 50.0], ["Web", 150.0, None, 150.0],
                                                             ["Total", 180.0, 20.0, 200.0]]
    # Private: the other rep cannot open it; shared with them (a DocShare), they can, over their own
    # records only (T4 Web 1000, T5 7); public, everyone with the report permission finds it listed.
    other = client.__class__(HTTP_HOST=client.defaults["HTTP_HOST"])
    login(ctx, other, world["other"])
    link = f"/app/{world['route']}/view/report?report={name.replace(' ', '+')}"
    assert other.get(link).status_code == 404
    ctx.db.commit()
    ctx.db.begin()
    lowcode.get_doc({"doctype": "DocShare", "user": world["other"], "share_doctype": "Report", "share_name": name,
                     "read": 1}).insert(ignore_permissions=True)
    commit(ctx)
    rows = pivot_rows(other.get(link).content.decode())
    assert rows["Web"][0].startswith("1,000.00") and rows[XSS][0] == "7.00" and set(rows) == {"Web", XSS}
    ctx.db.commit()
    ctx.db.begin()
    report = lowcode.get_doc("Report", name)
    report.is_public = 1
    report.save()
    commit(ctx)
    third = make_user(unique, "pthird", [f"PRep {unique}"])
    commit(ctx)
    third_client = client.__class__(HTTP_HOST=client.defaults["HTTP_HOST"])
    login(ctx, third_client, third)
    assert name in third_client.get(f"/app/{world['route']}/view/report").content.decode()
    r = third_client.get(link)
    assert r.status_code == 200 and "No documents match" in r.content.decode()  # third owns no deal


def test_cell_filters_name_the_cell(ctx, world):
    result = pivot(world["doctype"], ["source"], "closing_date:month", calendar="Jalali")
    f = cell_filters(result, [["amount", ">", 10]], ("Web",), "2026-11-22")
    assert f == [["amount", ">", 10], ["source", "=", "Web"], ["closing_date", "between", ["2026-11-22", "2026-12-21"]]]
    assert cell_filters(result, [], ("Call",), None) == [["source", "=", "Call"], ["closing_date", "is", "not set"]]


def test_child_table_fields_group_and_sum(ctx, make_doctype, unique):
    child = make_doctype([{"fieldname": "item", "fieldtype": "Data", "label": "Item"},
                          {"fieldname": "qty", "fieldtype": "Int", "label": "Qty"}],
                         name=f"Piv Line {unique}", istable=1, permissions=[])
    doctype = make_doctype([{"fieldname": "title", "fieldtype": "Data", "label": "Title"},
                            {"fieldname": "lines", "fieldtype": "Table", "label": "Lines", "options": child}],
                           name=f"Piv Order {unique}")
    for title, lines in (("O1", [("pen", 2), ("ink", 5)]), ("O2", [("pen", 3)]), ("O3", [])):
        lowcode.get_doc({"doctype": doctype, "title": title,
                         "lines": [{"item": i, "qty": q} for i, q in lines]}).insert(ignore_permissions=True)
    commit(ctx)
    result = pivot(doctype, ["lines.item"], aggregate="sum", aggregate_on="lines.qty")
    # pen: 2 + 3; ink: 5; O3 has no line: one row without an item
    assert dict(zip(result["row_keys"], result["row_totals"])) == {("ink",): 5.0, ("pen",): 5.0, (None,): 0.0}
    assert result["grand_total"] == 10.0


def test_check_field_groups_read_yes_and_no(ctx, client, world):
    login(ctx, client, world["rep"])
    html = client.get(page_url(world, pivot_rows="won", pivot_column="source")).content.decode()
    # rep: T1 won (Web); T2 (Web), T3 and T6 (Call) not
    assert pivot_rows(html) == {"No": ["2", "1", "3"], "Yes": ["", "1", "1"]}


@pytest.mark.parametrize("rows, column, calendar", [(["source"], "closing_date:month", "Jalali"),
                                                    (["closing_date:week", "source"], None, "Jalali"),
                                                    (["creation:day"], "closing_date:quarter", "Gregorian"),
                                                    (["won"], "creation:year", "Jalali")])
def test_every_cell_drills_down_to_as_many_records_as_it_counts(ctx, world, rows, column, calendar):
    import datetime
    with as_user(world["rep"]):
        result = pivot(world["doctype"], rows, column, calendar=calendar)
        expected = {(TOTAL, TOTAL): result["grand_total"]}
        expected.update(((TOTAL, c), v) for c, v in zip(result["column_keys"], result["column_totals"]))
        for r, values, total in zip(result["row_keys"], result["values"], result["row_totals"]):
            expected[(r, TOTAL)] = total
            expected.update(((r, c), v or 0) for c, v in zip(result["column_keys"], values))
        assert result["grand_total"] == 4  # rep's T1, T2, T3, T6
        for (r, c), figure in expected.items():
            assert lowcode.get_count(world["doctype"], filters=cell_filters(result, [], r, c)) == figure, (r, c)
    if rows == ["creation:day"]:  # a Datetime grouped by its day: every record was created today
        assert result["row_keys"] == [(datetime.date.today().isoformat(),)]


def test_page_in_hebrew_reads_right_to_left(ctx, client, world):
    lowcode.db.set_value("User", world["rep"], {"language": "he", "calendar": "Gregorian"})
    commit(ctx)
    login(ctx, client, world["rep"])
    html = client.get(page_url(world, pivot_rows="closing_date:quarter", pivot_column="won")).content.decode()
    assert 'dir="rtl"' in html
    header = re.search(r'<table[^>]*id="pivot-table".*?<thead>(.*?)</thead>', html, re.S).group(1)
    assert "רבעון" in header and "כן" in header and "לא" in header  # Quarter, Yes, No
    # rep: Q4 2026 T1 (won), T2, T3; no date T6
    assert pivot_rows(html) == {"רבעון 4 2026": ["2", "1", "3"], "(לא הוגדר)": ["1", "", "1"]}


@pytest.mark.parametrize("cap", [10_000, 1])
def test_a_rule_of_several_parts_is_added_up_part_by_part(ctx, world, monkeypatch, cap):
    """rep's rule with a deal shared with them is an OR of parts (their own, the shared
    one): the pivot groups each part on its own and adds them up, to the figures of
    the plain query over the whole rule. With the parts counted only up to a cap of 1
    row (query.GROUP_PARTS_CAP), both parts tie and keep the rule's order: the figures
    are the same, the later part without the rows of the earlier."""
    from lowcode import query
    from lowcode.permissions import row_condition
    monkeypatch.setattr(query, "GROUP_PARTS_CAP", cap)
    ctx.db.commit()
    ctx.db.begin()
    lowcode.get_doc({"doctype": "DocShare", "user": world["rep"], "share_doctype": world["doctype"],
                     "share_name": world["names"]["T4"], "read": 1}).insert(ignore_permissions=True)
    commit(ctx)
    with as_user(world["rep"]):
        assert len(row_condition(world["doctype"], world["rep"], "read").parts) > 1
        result = pivot(world["doctype"], ["source"], "closing_date:month", "sum", "amount")
        plain = lowcode.get_list(world["doctype"], fields=["source", "sum(amount) as s"], group_by="source",
                                 order_by="source asc", limit_page_length=0)
    cells, rows, columns, grand = table(result)
    # rep's T1 100, T2 50 (Web, Nov), T3 30 (Call, Dec), T6 20 (Call, no date) and the shared T4 1000 (Web, Dec)
    assert cells[("Web",)] == {"2026-11-01": 150.0, "2026-12-01": 1000.0, None: None}
    assert rows == {("Web",): 1150.0, ("Call",): 50.0} == {(r["source"],): float(r["s"]) for r in plain}
    assert columns == {"2026-11-01": 150.0, "2026-12-01": 1030.0, None: 20.0} and grand == 1200.0
