"""Issue 10 "cards" slice over HTTP on both engines: number card and chart filters
through the list's filter builder (saved as filters_json, checked on save, Frappe's
Timespan dynamic dates); a saved report opens as the report; "Add to workspace" from a
list or a report."""
import datetime
import html
import json
import re
from urllib.parse import parse_qs, quote, urlsplit

import pytest

import lowcode
from lowcode.timespan import date_range
from lowcode.utils import route_for

from .desk_helpers import commit, ensure_role, login, make_user

TODAY = datetime.date.today()


@pytest.fixture
def world(ctx, make_doctype, unique):
    """Sales with an owner rule for sellers (row rules), a boss who reads everything, and
    a custom field added after the DocType (the builder must offer it)."""
    for role in (f"Seller {unique}", f"Boss {unique}"):
        ensure_role(role)
    doctype = make_doctype(
        [{"fieldname": "status", "fieldtype": "Select", "label": "Status", "options": "Open\nWon"},
         {"fieldname": "amount", "fieldtype": "Currency", "label": "Amount"},
         {"fieldname": "closed_on", "fieldtype": "Date", "label": "Closed On"}],
        name=f"Deal {unique}",
        permissions=[{"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1, "report": 1},
                     {"role": f"Seller {unique}", "read": 1, "report": 1, "if_owner": 1},
                     {"role": f"Boss {unique}", "read": 1, "report": 1}])
    lowcode.get_doc({"doctype": "Custom Field", "dt": doctype, "fieldname": "region", "label": "Region",
                     "fieldtype": "Data", "insert_after": "closed_on"}).insert()
    seller = make_user(unique, "seller", [f"Seller {unique}"])
    boss = make_user(unique, "boss", [f"Boss {unique}"])
    days = {"today": TODAY, "yesterday": TODAY - datetime.timedelta(days=1),
            "old": TODAY - datetime.timedelta(days=45), "ancient": datetime.date(2000, 1, 1)}
    rows = [(seller, "Open", 10, "today"), (seller, "Open", 20, "old"), (seller, "Won", 40, "yesterday"),
            (boss, "Open", 300, "yesterday"), (boss, "Open", 5000, "ancient"), (boss, "Won", 600, "today")]
    for owner, status, amount, day in rows:
        lowcode.get_doc({"doctype": doctype, "status": status, "amount": amount, "closed_on": days[day].isoformat(),
                         "owner": owner, "region": "North"}).insert(ignore_permissions=True)
    commit(ctx)
    return {"doctype": doctype, "route": route_for(doctype), "seller": seller, "boss": boss, "days": days,
            "rows": [(o, s, a, days[d]) for o, s, a, d in rows], "unique": unique}


def other_client(client):
    return client.__class__(HTTP_HOST=client.defaults["HTTP_HOST"], raise_request_exception=False)


# -- the filter builder on number cards and charts --------------------------------------------

def test_builder_offers_fields_with_their_operators(ctx, client, world):
    login(ctx, client, "Administrator")
    r = client.get("/app/__filter-builder", {"doctype": world["doctype"],
                                             "filters": json.dumps([["closed_on", "Timespan", "last 30 days"]])})
    assert r.status_code == 200
    page = r.content.decode()
    ops = {k: html.unescape(v) for k, v in re.findall(r'<option value="([\w.]+)" data-ops="([^"]*)"', page)}
    assert "timespan" in ops["closed_on"].split("|") and "between" in ops["closed_on"].split("|")
    assert "timespan" not in ops["status"].split("|") and ">" not in ops["status"].split("|")
    assert ">" in ops["amount"].split("|") and "timespan" not in ops["amount"].split("|")
    assert "custom_region" in ops  # the custom field
    assert 'value="last 30 days"' in page and 'value="this week"' in page
    assert "Closed On Timespan Last 30 days" in html.unescape(page)  # the chip of the filter
    # The builder is for DocTypes the user may read.
    seller = other_client(client)
    login(ctx, seller, world["seller"])
    assert seller.get("/app/__filter-builder", {"doctype": "Number Card"}).status_code == 200
    assert seller.get("/app/__filter-builder", {"doctype": "DocType"}).status_code == 403


def test_number_card_form_loads_the_builder(ctx, client, world):
    login(ctx, client, "Administrator")
    page = client.get("/app/number-card/new").content.decode()
    assert "filter_builder.js" in page and 'name="filters_json"' in page
    page = client.get("/app/dashboard-chart/new").content.decode()
    assert "filter_builder.js" in page and 'name="filters_json"' in page


def test_card_saved_from_builder_params_and_bad_filters_refused(ctx, client, world):
    csrf = login(ctx, client, "Administrator")
    u, doctype = world["unique"], world["doctype"]
    filters = [["status", "=", "Open"], ["closed_on", "Timespan", "last 30 days"]]
    r = client.post("/app/number-card/new", {"csrf_token": csrf, "label": f"Open 30 {u}", "document_type": doctype,
                                             "function": "Sum", "aggregate_function_based_on": "amount",
                                             "filters_json": json.dumps(filters)})
    assert r.status_code == 302, r.content.decode()[:2000]
    ctx.db.rollback()
    assert json.loads(lowcode.db.get_value("Number Card", f"Open 30 {u}", "filters_json")) == filters

    for bad, named in (([["nosuch", "=", "x"]], "nosuch"), ([["status", "timespan", "today"]], "timespan"),
                       ([["closed_on", "timespan", "someday"]], "someday"), ([["amount", ">", "lots"]], "amount")):
        r = client.post("/app/number-card/new", {"csrf_token": csrf, "label": f"Bad {u}", "document_type": doctype,
                                                 "function": "Count", "filters_json": json.dumps(bad)})
        assert r.status_code == 417, (bad, r.status_code)
        assert named in html.unescape(r.content.decode())
        r = client.post("/app/dashboard-chart/new", {"csrf_token": csrf, "chart_name": f"Bad {u}",
                                                     "document_type": doctype, "chart_type": "Group By",
                                                     "group_by_based_on": "status", "type": "Bar",
                                                     "filters_json": json.dumps(bad)})
        assert r.status_code == 417 and named in html.unescape(r.content.decode())
    ctx.db.rollback()
    assert not lowcode.db.exists("Number Card", f"Bad {u}") and not lowcode.db.exists("Dashboard Chart", f"Bad {u}")


def _expected(world, owner=None, status="Open", span="last 30 days"):
    """The card's figure computed by hand from the rows the test made."""
    first, last = date_range(span, "closed_on")
    return sum(a for o, s, a, day in world["rows"]
               if s == status and first <= day <= last and (owner is None or o == owner))


@pytest.mark.parametrize("span", ["last 30 days", "this month", "today", "last year"])
def test_card_value_with_a_timespan_for_admin_and_seller(ctx, client, world, span):
    u = world["unique"]
    card = lowcode.get_doc({"doctype": "Number Card", "label": f"Sum {span} {u}", "document_type": world["doctype"],
                            "function": "Sum", "aggregate_function_based_on": "amount",
                            "filters_json": json.dumps([["status", "=", "Open"], ["closed_on", "Timespan", span]])
                            }).insert()
    ws = lowcode.get_doc({"doctype": "Workspace", "label": f"Cards {span} {u}", "is_public": 1,
                          "number_cards": [{"number_card": card.name}]}).insert()
    commit(ctx)
    # last 30 days: today's 10 and yesterday's 300; the 45-day-old and ancient rows never
    assert _expected(world, span="last 30 days") == 310
    for user, owner in (("Administrator", None), (world["boss"], None), (world["seller"], world["seller"])):
        c = other_client(client)
        login(ctx, c, user)
        page = c.get("/app").content.decode()
        section = re.search(rf'data-workspace="{re.escape(ws.name)}".*?</section>', page, re.S).group(0)
        value = re.search(rf'data-card="{re.escape(card.name)}" data-value="([^"]*)"', section).group(1)
        assert float(value) == _expected(world, owner, span=span), (user, span)


def test_chart_with_a_timespan_filter(ctx, world):
    chart = lowcode.get_doc({"doctype": "Dashboard Chart", "chart_name": f"By status {world['unique']}",
                             "document_type": world["doctype"], "chart_type": "Group By",
                             "group_by_based_on": "status", "value_based_on": "amount", "type": "Bar",
                             "filters_json": json.dumps([["closed_on", "timespan", "last 30 days"]])}).insert()
    data = chart.get_data(user=world["seller"])
    assert dict(zip(data["labels"], data["values"])) == {"Open": 10.0, "Won": 40.0}


def test_timespan_filter_in_the_list(ctx, client, world):
    login(ctx, client, world["boss"])
    r = client.get(f"/app/{world['route']}", {"filters": json.dumps([["closed_on", "timespan", "today"]])})
    assert r.status_code == 200
    assert len(re.findall(r'name="names"', r.content.decode())) == 2  # today's two rows
    # The list's own builder posts field/operator/timespan and comes back as that filter.
    r = client.get(f"/app/{world['route']}", {"add_field": "closed_on", "add_op": "timespan", "add_value": "today"})
    assert r.status_code == 302
    page = client.get(r["Location"]).content.decode()
    assert len(re.findall(r'name="names"', page)) == 2 and "Closed On Timespan Today" in html.unescape(page)
    # "between" takes "from, to" from the one value input
    r = client.get(f"/app/{world['route']}", {"add_field": "amount", "add_op": "between", "add_value": "15, 300"})
    assert json.loads(parse_qs(urlsplit(r["Location"]).query)["filters"][0]) == [["amount", "between", ["15", "300"]]]
    page = client.get(r["Location"]).content.decode()
    assert len(re.findall(r'name="names"', page)) == 3  # 20, 40 and 300


# -- a saved report opens as the report ----------------------------------------------------------

@pytest.fixture
def saved_report(ctx, world):
    report = lowcode.get_doc({"doctype": "Report", "report_name": f"Open deals {world['unique']}",
                              "ref_doctype": world["doctype"], "is_public": 1,
                              "json": json.dumps({"columns": ["status", "amount"], "filters": [["status", "=", "Open"]],
                                                  "order_by": "amount desc"})}).insert()
    commit(ctx)
    return report.name


def report_amounts(page):
    table = re.search(r'<table[^>]*id="report-table".*?</table>', page, re.S).group(0)
    return [float(a.replace(",", "")) for a in re.findall(r'<td class="text-end">\s*(?:<bdi[^>]*>)?([\d,.]+)', table)]


def test_saved_report_opens_as_the_report(ctx, client, world, saved_report):
    login(ctx, client, "Administrator")
    r = client.get(f"/app/report/{quote(saved_report)}")
    assert r.status_code == 302
    url = r["Location"]
    assert url == f"/app/{world['route']}/view/report?report={quote(saved_report, safe='')}"
    # Frappe's path of a saved report too
    assert client.get(f"/app/{world['route']}/view/report/{quote(saved_report)}")["Location"] == url
    page = client.get(url).content.decode()
    assert f'id="report-name">{saved_report}' in page
    assert ">Status</th>" in page and "Amount</th>" in page and "Status = Open" in page
    assert report_amounts(page) == [5000.0, 300.0, 20.0, 10.0]  # its sort: amount desc
    assert 'id="report-edit"' in page and "?edit=1" in page
    # its settings add filters through the list's builder (per-type operators, timespans)
    assert re.search(r'<option value="closed_on" data-ops="[^"]*\|timespan"', page) and 'data-fb="timespan"' in page
    # global search finds it, and its result opens the report too
    found = client.get("/app", {"q": saved_report}).content.decode()
    assert f'href="/app/report/{quote(saved_report)}"' in found
    form = client.get(f"/app/report/{quote(saved_report)}?edit=1")
    assert form.status_code == 200 and 'name="report_name"' in form.content.decode()

    seller = other_client(client)
    login(ctx, seller, world["seller"])
    page = seller.get(seller.get(f"/app/report/{quote(saved_report)}")["Location"]).content.decode()
    assert report_amounts(page) == [20.0, 10.0]  # only their own rows, in SQL
    assert 'id="report-edit"' not in page  # the Report document is not theirs to edit


def test_saved_report_needs_access_to_its_doctype(ctx, client, world, saved_report):
    outsider = make_user(world["unique"], "outsider", [])
    commit(ctx)
    login(ctx, client, outsider)
    r = client.get(client.get(f"/app/report/{quote(saved_report)}")["Location"])
    assert r.status_code == 403 and "5000" not in r.content.decode()


# -- add to workspace -----------------------------------------------------------------------------

def test_add_a_list_with_its_filters_to_a_workspace(ctx, client, world):
    u = world["unique"]
    ws = lowcode.get_doc({"doctype": "Workspace", "label": f"Team {u}", "is_public": 1}).insert()
    commit(ctx)
    csrf = login(ctx, client, "Administrator")
    source = f"/app/{world['route']}?status=Open"
    r = client.get("/app/__add-to-workspace", {"doctype": world["doctype"]}, HTTP_HX_CURRENT_URL=source)
    page = r.content.decode()
    assert r.status_code == 200 and f'value="{ws.name}"' in page and 'id="atw-filters"' in page
    r = client.post("/app/__add-to-workspace", {"csrf_token": csrf, "doctype": world["doctype"], "from": source,
                                                "workspace": ws.name, "label": "Open deals"})
    assert r.status_code == 200 and 'id="atw-done"' in r.content.decode()
    ctx.db.rollback()
    row = lowcode.get_doc("Workspace", ws.name).shortcuts[-1]
    assert (row.type, row.link_to, row.label) == ("DocType", world["doctype"], "Open deals")
    assert json.loads(row.stats_filter) == [["status", "=", "Open"]]
    home = client.get("/app").content.decode()
    link = re.search(r'href="([^"]+)"[^>]*>\s*Open deals', home).group(1)
    listing = client.get(html.unescape(link)).content.decode()
    assert len(re.findall(r'name="names"', listing)) == 4  # the four open deals


def test_add_a_report_to_a_workspace_and_refusals(ctx, client, world, saved_report):
    u = world["unique"]
    public = lowcode.get_doc({"doctype": "Workspace", "label": f"Shared {u}", "is_public": 1}).insert()
    commit(ctx)
    csrf = login(ctx, client, world["seller"])
    dialog = client.get("/app/__add-to-workspace", {"report": saved_report}).content.decode()
    assert f'value="{public.name}"' not in dialog  # not theirs to change
    r = client.post("/app/__add-to-workspace", {"csrf_token": csrf, "report": saved_report, "workspace": public.name})
    assert r.status_code == 403 and 'id="atw-error"' in r.content.decode()
    r = client.post("/app/__add-to-workspace", {"csrf_token": csrf, "report": saved_report, "workspace": ""})
    assert r.status_code == 417 and "workspace" in r.content.decode()
    ctx.db.rollback()
    assert lowcode.get_doc("Workspace", public.name).shortcuts == []
    # Their own private workspace: made for them, the shortcut opens the report.
    r = client.post("/app/__add-to-workspace", {"csrf_token": csrf, "report": saved_report,
                                                "new_workspace": f"Mine {u}", "label": "My report"})
    assert r.status_code == 200, r.content.decode()
    ctx.db.rollback()
    mine = lowcode.get_doc("Workspace", f"Mine {u}")
    assert mine.owner == world["seller"] and not mine.is_public
    assert [(s.type, s.link_to) for s in mine.shortcuts] == [("Report", saved_report)]
    home = client.get("/app").content.decode()
    assert f"/view/report?report={quote(saved_report, safe='')}" in home
