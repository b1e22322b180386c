"""Queries: get_list filters (list and dict forms, every operator, or_filters, child
tables), ordering, paging, aggregates, get_count and get_value; bad input is refused
with InvalidFieldError naming the field, and values always travel as parameters."""
import uuid

import pytest

import lowcode
from lowcode.exceptions import InvalidFieldError

QUOTED = "O'Brien \"q\" `x` %s ;-- \\"


@pytest.fixture(scope="module")
def data(site, bench):
    """A committed DocType with a child table and five documents (one set per site)."""
    u = uuid.uuid4().hex[:6]
    child, dt = f"Q Row {u}", f"Q Doc {u}"
    perms = [{"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1, "report": 1}]
    with lowcode.site_context(site, bench=bench) as local:
        lowcode.get_doc({"doctype": "DocType", "name": child, "module": "Custom", "istable": 1, "fields": [
            {"fieldname": "item", "fieldtype": "Data"}, {"fieldname": "qty", "fieldtype": "Int"}]}).insert()
        lowcode.get_doc({"doctype": "DocType", "name": dt, "module": "Custom", "autoname": "hash",
                         "title_field": "title", "search_fields": "status", "permissions": perms, "fields": [
                             {"fieldname": "title", "fieldtype": "Data", "label": "Title"},
                             {"fieldname": "status", "fieldtype": "Select", "options": "Open\nClosed\nLost"},
                             {"fieldname": "qty", "fieldtype": "Int", "label": "Qty"},
                             {"fieldname": "amount", "fieldtype": "Currency"},
                             {"fieldname": "due", "fieldtype": "Date", "label": "Due"},
                             {"fieldname": "flag", "fieldtype": "Check", "label": "Flag"},
                             {"fieldname": "note", "fieldtype": "Data"},
                             {"fieldname": "items", "fieldtype": "Table", "options": child, "label": "Items"}]}).insert()
        rows = [
            ("Alpha", "Open", 1, 10.5, "2024-01-10", 1, "n1", [("pen", 1), ("ink", 2)]),
            ("Beta", "Open", 2, 20, "2024-02-10", 0, None, [("pen", 5)]),
            ("Gamma", "Closed", 3, 30, "2024-03-10", 1, "", []),
            ("Delta", "Lost", 4, 40, "2024-04-10", 0, "n4", [("paper", 1)]),
            (QUOTED, "Closed", 5, 50.25, "2024-05-10", 0, None, []),
        ]
        names = {}
        for title, status, qty, amount, due, flag, note, items in rows:
            doc = lowcode.get_doc({"doctype": dt, "title": title, "status": status, "qty": qty, "amount": amount,
                                   "due": due, "flag": flag, "note": note,
                                   "items": [{"item": i, "qty": q} for i, q in items]}).insert()
            names[title] = doc.name
        local.db.commit()
    return {"dt": dt, "child": child, "names": names}


def titles(data, **kwargs):
    kwargs.setdefault("fields", ["title"])
    rows = lowcode.get_list(data["dt"], **kwargs)
    return [r["title"] for r in rows]


def title_set(data, **kwargs):
    found = titles(data, **kwargs)
    assert len(found) == len(set(found)), f"duplicate rows: {found}"
    return set(found)


ALL = {"Alpha", "Beta", "Gamma", "Delta", QUOTED}

OPERATOR_CASES = [
    (["status", "=", "Open"], {"Alpha", "Beta"}),
    (["status", "!=", "Open"], {"Gamma", "Delta", QUOTED}),
    (["qty", ">", 3], {"Delta", QUOTED}),
    (["qty", "<", 3], {"Alpha", "Beta"}),
    (["qty", ">=", 3], {"Gamma", "Delta", QUOTED}),
    (["qty", "<=", 2], {"Alpha", "Beta"}),
    (["amount", ">", "25"], {"Gamma", "Delta", QUOTED}),
    (["title", "like", "%eta"], {"Beta"}),
    (["title", "like", "%amm%"], {"Gamma"}),
    (["title", "not like", "%a"], {QUOTED}),
    (["status", "in", ["Closed", "Lost"]], {"Gamma", "Delta", QUOTED}),
    (["status", "in", "Closed, Lost"], {"Gamma", "Delta", QUOTED}),
    (["status", "not in", ["Open"]], {"Gamma", "Delta", QUOTED}),
    (["status", "in", []], set()),
    (["note", "is", "set"], {"Alpha", "Delta"}),
    (["note", "is", "not set"], {"Beta", "Gamma", QUOTED}),
    (["note", "!=", "n1"], {"Beta", "Gamma", "Delta", QUOTED}),  # != keeps empty values
    (["due", "between", ["2024-02-01", "2024-03-31"]], {"Beta", "Gamma"}),
    (["qty", "between", [2, 4]], {"Beta", "Gamma", "Delta"}),
    (["due", ">", "2024-04-01"], {"Delta", QUOTED}),
    (["flag", "=", 1], {"Alpha", "Gamma"}),
    (["flag", "!=", 1], {"Beta", "Delta", QUOTED}),
    (["qty", "==", 2], {"Beta"}),
    (["qty", "=", "۲"], {"Beta"}),  # Persian digits in a filter value
]


@pytest.mark.parametrize("flt,expected", OPERATOR_CASES, ids=[f"{c[0][0]} {c[0][1]}" for c in OPERATOR_CASES])
def test_operator(ctx, data, flt, expected):
    assert title_set(data, filters=[flt]) == expected


def test_list_filters_are_anded(ctx, data):
    assert title_set(data, filters=[["status", "=", "Open"], ["qty", ">", 1]]) == {"Beta"}


def test_single_flat_filter(ctx, data):
    assert title_set(data, filters=["status", "=", "Lost"]) == {"Delta"}


def test_four_element_filter_naming_the_doctype_itself(ctx, data):
    assert title_set(data, filters=[[data["dt"], "status", "=", "Lost"]]) == {"Delta"}


def test_dict_filters(ctx, data):
    assert title_set(data, filters={"status": "Open"}) == {"Alpha", "Beta"}
    assert title_set(data, filters={"status": "Open", "flag": 1}) == {"Alpha"}
    assert title_set(data, filters={"qty": [">", 3]}) == {"Delta", QUOTED}
    assert title_set(data, filters={"status": ["in", ["Lost", "Closed"]]}) == {"Gamma", "Delta", QUOTED}
    assert title_set(data, filters={"due": ["between", ["2024-01-01", "2024-01-31"]]}) == {"Alpha"}


def test_filters_as_json_text(ctx, data):
    assert title_set(data, filters='[["status", "=", "Open"]]') == {"Alpha", "Beta"}
    assert title_set(data, filters='{"status": "Lost"}') == {"Delta"}


def test_or_filters(ctx, data):
    assert title_set(data, or_filters=[["status", "=", "Lost"], ["qty", "<", 2]]) == {"Delta", "Alpha"}
    assert title_set(data, filters={"flag": 0},
                     or_filters=[["status", "=", "Lost"], ["qty", ">", 4]]) == {"Delta", QUOTED}
    assert title_set(data, or_filters={"status": "Lost", "title": "Beta"}) == {"Delta", "Beta"}


def test_order_by(ctx, data):
    assert titles(data, order_by="qty desc") == [QUOTED, "Delta", "Gamma", "Beta", "Alpha"]
    assert titles(data, order_by="qty asc") == ["Alpha", "Beta", "Gamma", "Delta", QUOTED]
    assert titles(data, order_by="status asc, qty desc") == [QUOTED, "Gamma", "Delta", "Beta", "Alpha"]
    assert titles(data, order_by="due") == ["Alpha", "Beta", "Gamma", "Delta", QUOTED]


def test_paging(ctx, data):
    assert titles(data, order_by="qty asc", limit_start=1, limit_page_length=2) == ["Beta", "Gamma"]
    assert titles(data, order_by="qty asc", limit_start=4, limit_page_length=2) == [QUOTED]
    assert titles(data, order_by="qty asc", limit_start=10, limit_page_length=2) == []
    assert titles(data, order_by="qty asc", limit_page_length=0) == ["Alpha", "Beta", "Gamma", "Delta", QUOTED]
    with pytest.raises(InvalidFieldError):
        titles(data, limit_start=-1)


def test_fields_star_and_standard_fields(ctx, data):
    rows = lowcode.get_list(data["dt"], fields=["*"], filters={"title": "Alpha"})
    assert len(rows) == 1
    row = rows[0]
    assert row["name"] == data["names"]["Alpha"]
    assert (row["qty"], row["amount"], row["due"], row["flag"], row["owner"]) == (1, 10.5, "2024-01-10", 1,
                                                                                   "Administrator")


def test_aggregates_with_group_by(ctx, data):
    rows = lowcode.get_list(data["dt"], fields=["status", "count(*) as n", "sum(amount) as total"],
                            group_by="status", order_by="status asc")
    assert [(r["status"], r["n"], r["total"]) for r in rows] == [("Closed", 2, 80.25), ("Lost", 1, 40.0),
                                                                 ("Open", 2, 30.5)]
    rows = lowcode.get_list(data["dt"], fields=["status", "max(qty)"], group_by="status", order_by="status desc")
    assert [(r["status"], r["max(qty)"]) for r in rows] == [("Open", 2), ("Lost", 4), ("Closed", 5)]


def test_aggregate_without_group_by(ctx, data):
    rows = lowcode.get_list(data["dt"], fields=["count(*) as n", "sum(qty) as q"], filters={"status": "Open"})
    assert rows == [{"n": 2, "q": 3}]


def test_child_table_filters(ctx, data):
    child = data["child"]
    assert title_set(data, filters=[[child, "item", "=", "pen"]]) == {"Alpha", "Beta"}
    assert title_set(data, filters=[["items.item", "=", "ink"]]) == {"Alpha"}
    assert title_set(data, filters={"items.item": "paper"}) == {"Delta"}
    assert title_set(data, filters=[[child, "qty", ">=", 2]]) == {"Alpha", "Beta"}
    # a parent with several matching rows is listed once
    assert titles(data, filters=[[child, "item", "in", ["pen", "ink"]]], order_by="qty asc") == ["Alpha", "Beta"]
    assert title_set(data, filters=[[child, "item", "=", "pen"], ["status", "=", "Open"], ["qty", ">", 1]]) == {
        "Beta"}


def test_order_by_an_aggregate_alias(ctx, data):
    rows = lowcode.get_list(data["dt"], fields=["status", "count(*) as n"], group_by="status",
                            order_by="n desc, status asc")
    assert [(r["status"], r["n"]) for r in rows] == [("Closed", 2), ("Open", 2), ("Lost", 1)]


def test_child_field_as_a_column(ctx, data):
    rows = lowcode.get_list(data["dt"], fields=["title", "items.item"],
                            filters=[[data["child"], "item", "=", "pen"]], order_by="qty asc, items.item asc")
    assert [(r["title"], r["item"]) for r in rows] == [("Alpha", "ink"), ("Alpha", "pen"), ("Beta", "pen")]
    rows = lowcode.get_list(data["dt"], fields=["title", "sum(items.qty) as q"], group_by="title",
                            filters={"status": "Open"}, order_by="title asc")
    assert [(r["title"], r["q"]) for r in rows] == [("Alpha", 3), ("Beta", 5)]


def test_standard_fields_and_none_values(ctx, data):
    assert title_set(data, filters={"owner": "Administrator"}) == ALL
    assert title_set(data, filters={"docstatus": 0}) == ALL
    assert title_set(data, filters=[["name", "=", data["names"]["Gamma"]]]) == {"Gamma"}
    assert title_set(data, filters=[["modified", ">", "2000-01-01"]]) == ALL
    assert title_set(data, filters={"note": None}) == {"Beta", "Gamma", QUOTED}
    assert title_set(data, filters=[["note", "=", ""]]) == {"Beta", "Gamma", QUOTED}


def test_pluck_and_as_list(ctx, data):
    assert lowcode.get_list(data["dt"], pluck="qty", order_by="qty asc") == [1, 2, 3, 4, 5]
    assert lowcode.get_list(data["dt"], fields=["title", "qty"], filters={"qty": 2}, as_list=True) == [["Beta", 2]]


def test_get_count(ctx, data):
    assert lowcode.get_count(data["dt"]) == 5
    assert lowcode.get_count(data["dt"], filters={"status": "Open"}) == 2
    assert lowcode.get_count(data["dt"], filters=[[data["child"], "item", "=", "pen"]]) == 2
    assert lowcode.get_count(data["dt"], filters={"status": "Nobody"}) == 0


def test_get_value(ctx, data):
    alpha = data["names"]["Alpha"]
    assert lowcode.get_value(data["dt"], alpha, "qty") == 1
    assert lowcode.get_value(data["dt"], {"title": "Beta"}, ["qty", "status"]) == [2, "Open"]
    assert lowcode.get_value(data["dt"], {"title": "Beta"}, ["qty", "status"], as_dict=True) == {
        "qty": 2, "status": "Open"}
    assert lowcode.get_value(data["dt"], {"title": "Nobody"}, "qty") is None
    assert lowcode.get_value(data["dt"], "no-such-name", "qty") is None


def test_value_with_quotes_is_a_bound_parameter(ctx, data):
    rows = lowcode.get_list(data["dt"], fields=["name", "title"], filters={"title": QUOTED})
    assert rows == [{"name": data["names"][QUOTED], "title": QUOTED}]
    assert title_set(data, filters=[["title", "like", "O'Brien \"q\"%"]]) == {QUOTED}
    assert title_set(data, filters=[["title", "in", [QUOTED, "Alpha"]]]) == {QUOTED, "Alpha"}
    assert lowcode.get_value(data["dt"], {"title": QUOTED}, "qty") == 5
    assert lowcode.get_doc(data["dt"], data["names"][QUOTED]).title == QUOTED


# -- bad input ------------------------------------------------------------------------------

BAD_FILTERS = [
    (["nope", "=", 1], "nope"),
    (["qty", "~", 1], "qty"),
    (["qty", "regexp", ".*"], "qty"),
    (["qty", "like", "%1%"], "qty"),           # like is not an Int operator
    (["flag", ">", 0], "flag"),                # Check: =, !=, in, not in, is
    (["items", ">", 1], "items"),              # a Table field has no column
    (["items", "=", "x"], "items"),
    (["due", "between", ["2024-01-01"]], "due"),
    (["due", "between", "2024-01-01"], "due"),
    (["qty", "=", "abc"], "qty"),              # value not of the field's type
    (["due", "=", "2024-02-30"], "due"),
    (["qty", "=", [1, 2]], "qty"),
    (["note", "is", "maybe"], "note"),
    (["name; drop table x", "=", 1], "name; drop table x"),
    (["`name`) or 1=1 --", "=", 1], "`name`) or 1=1 --"),
    (["nochild.item", "=", 1], "nochild"),
    (["items.nope", "=", 1], "nope"),
]


@pytest.mark.parametrize("flt,field", BAD_FILTERS, ids=[f"{c[0][0]} {c[0][1]}" for c in BAD_FILTERS])
def test_bad_filter_names_the_field(ctx, data, flt, field):
    with pytest.raises(InvalidFieldError) as info:
        lowcode.get_list(data["dt"], fields=["title"], filters=[flt])
    assert info.value.field == field
    assert info.value.http_status == 417


def test_filter_on_a_doctype_that_is_not_a_child_table(ctx, data):
    with pytest.raises(InvalidFieldError):
        lowcode.get_list(data["dt"], filters=[["Role", "role_name", "=", "x"]])


INJECTIONS = ["name; drop table x", "`name`) or 1=1 --", "name from `tabUser` --", "(select 1)",
              "sleep(5)", "name, (select password from `tabAuth`)"]


@pytest.mark.parametrize("expr", INJECTIONS)
def test_injection_as_field_is_refused(ctx, data, expr):
    with pytest.raises(InvalidFieldError) as info:
        lowcode.get_list(data["dt"], fields=["title", expr])
    assert info.value.field


@pytest.mark.parametrize("expr", INJECTIONS + ["qty desc; drop table x", "qty desc, (select 1)", "qty sideways"])
def test_injection_as_order_by_is_refused(ctx, data, expr):
    with pytest.raises(InvalidFieldError) as info:
        lowcode.get_list(data["dt"], fields=["title"], order_by=expr)
    assert info.value.field


@pytest.mark.parametrize("expr", ["status; drop table x", "`status`) or 1=1 --", "nope"])
def test_injection_as_group_by_is_refused(ctx, data, expr):
    with pytest.raises(InvalidFieldError):
        lowcode.get_list(data["dt"], fields=["count(*) as n"], group_by=expr)


def test_unknown_field_in_fields_and_order_by(ctx, data):
    with pytest.raises(InvalidFieldError) as info:
        lowcode.get_list(data["dt"], fields=["title", "nope"])
    assert info.value.field == "nope"
    with pytest.raises(InvalidFieldError) as info:
        lowcode.get_list(data["dt"], fields=["title"], order_by="nope desc")
    assert info.value.field == "nope"
    with pytest.raises(InvalidFieldError):
        lowcode.get_list(data["dt"], fields=["sum(*)"])


def test_table_survives_injection_attempts(ctx, data):
    for expr in INJECTIONS:
        with pytest.raises(InvalidFieldError):
            lowcode.get_list(data["dt"], filters=[[expr, "=", "x"]])
    assert ctx.db.table_exists(data["dt"])
    assert lowcode.get_count(data["dt"]) == 5


def test_search_link(ctx, data):
    from lowcode.query import search_link
    found = search_link(data["dt"], "amm")
    assert found == [{"value": data["names"]["Gamma"], "label": "Gamma", "description": "Closed"}]
    assert {r["label"] for r in search_link(data["dt"], "lost")} == {"Delta"}  # a search field
    found = search_link(data["dt"], "O'Brien \"q\"")
    assert [r["value"] for r in found] == [data["names"][QUOTED]]
    assert len(search_link(data["dt"], "", page_length=2)) == 2


def test_restricted_newest_first_page_is_the_same_from_the_newest_rows(ctx, make_doctype, unique, monkeypatch):
    """A row-restricted list sorted newest first is first read from the NEWEST_WINDOW
    newest rows (query._newest_page), and from the whole table only when those hold too
    few visible rows: both ways give the same page, ties at the window's edge included."""
    import datetime
    from lowcode import query
    from .desk_helpers import as_user, ensure_role, make_user
    role = f"Own rows {unique}"
    ensure_role(role)
    doctype = make_doctype([{"fieldname": "title", "fieldtype": "Data", "label": "Title"}],
                           permissions=[{"role": role, "read": 1, "if_owner": 1}])
    me, other = make_user(unique, "me", [role]), make_user(unique, "other", [role])
    base = datetime.datetime(2030, 1, 1)
    mine = {0, 1, 2, 5, 9, 11}
    names = {}
    for i in range(12):
        doc = lowcode.get_doc({"doctype": doctype, "title": f"row {i}", "owner": me if i in mine else other}
                              ).insert(ignore_permissions=True)
        names[i] = doc.name
        # rows 5 and 6 tie: the 6th newest row's timestamp is the window's edge
        stamp = base + datetime.timedelta(seconds=6 if i == 5 else i)
        lowcode.db.sql(f"UPDATE `tab{doctype}` SET `modified`=%s WHERE `name`=%s", (stamp, doc.name))
    monkeypatch.setattr(query, "NEWEST_WINDOW", 6)
    expected = [names[i] for i in (11, 9, 5, 2, 1, 0)]
    with as_user(me):
        for start, length in ((0, 2), (0, 3), (1, 2), (2, 3), (0, 6), (4, 5)):
            got = lowcode.get_list(doctype, order_by="modified desc", limit_start=start, limit_page_length=length,
                                   pluck="name")
            assert got == expected[start:start + length], (start, length)
        assert lowcode.get_count(doctype) == 6


def test_aggregate_with_a_row_rule_of_parts_counts_every_row(ctx, make_doctype, unique, monkeypatch):
    """An aggregate without GROUP BY is one row over all matching rows, whatever the page
    length (Frappe's get_list(fields=["count(name) as n"]) with the default 20): neither
    the row rule's parts (here owner OR share, each read to its first page) nor the
    newest-rows window may cut it short."""
    from lowcode import query
    from .desk_helpers import as_user, ensure_role, make_user
    role = f"Own rows {unique}"
    ensure_role(role)
    doctype = make_doctype([{"fieldname": "qty", "fieldtype": "Int", "label": "Qty"}],
                           permissions=[{"role": role, "read": 1, "if_owner": 1}])
    me, other = make_user(unique, "me", [role]), make_user(unique, "other", [role])
    for i in range(7):
        lowcode.get_doc({"doctype": doctype, "qty": i, "owner": me if i < 5 else other}).insert(ignore_permissions=True)
    monkeypatch.setattr(query, "NEWEST_WINDOW", 3)
    with as_user(me):
        for length in (0, 1, 2, 20):
            assert lowcode.get_list(doctype, fields=["count(name) as n", "sum(qty) as q"],
                                    limit_page_length=length) == [{"n": 5, "q": 10}], length
