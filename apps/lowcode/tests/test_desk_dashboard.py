"""Workspaces on the desk home, over HTTP on both engines: number cards and charts are
computed per user through the permission-checked query layer; private workspaces
stay private; definitions are validated."""
import datetime
import json
import re

import pytest

import lowcode
from lowcode.desk.doctype.dashboard_chart.dashboard_chart import buckets
from lowcode.exceptions import ValidationError

from .desk_helpers import as_user, commit, ensure_role, login, make_user

TODAY = datetime.date.today()


@pytest.fixture
def world(ctx, make_doctype, unique):
    for role in (f"Seller {unique}", f"Boss {unique}"):
        ensure_role(role)
    doctype = make_doctype(
        [{"fieldname": "status", "fieldtype": "Select", "label": "Status", "options": "Open\nWon"},
         {"fieldname": "amount", "fieldtype": "Currency", "label": "Amount"},
         {"fieldname": "closed_on", "fieldtype": "Date", "label": "Closed On"}],
        name=f"Sale {unique}",
        permissions=[{"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1},
                     {"role": f"Seller {unique}", "read": 1, "if_owner": 1},
                     {"role": f"Boss {unique}", "read": 1, "report": 1}])
    seller = make_user(unique, "seller", [f"Seller {unique}"])
    boss = make_user(unique, "boss", [f"Boss {unique}"])
    outsider = make_user(unique, "outsider", [])
    yesterday = (TODAY - datetime.timedelta(days=1)).isoformat()
    for owner, status, amount, day in ((seller, "Open", 10, TODAY.isoformat()), (seller, "Won", 20, yesterday),
                                       (boss, "Open", 300, TODAY.isoformat()), (boss, "Won", 4000, "2000-01-01")):
        lowcode.get_doc({"doctype": doctype, "status": status, "amount": amount, "closed_on": day,
                         "owner": owner}).insert(ignore_permissions=True)
    count = lowcode.get_doc({"doctype": "Number Card", "label": f"All sales {unique}", "document_type": doctype,
                             "function": "Count"}).insert()
    open_sum = lowcode.get_doc({"doctype": "Number Card", "label": f"Open amount {unique}", "document_type": doctype,
                                "function": "Sum", "aggregate_function_based_on": "amount", "color": "#1e90ff",
                                # Frappe's saved form: [doctype, field, op, value, hidden flag]
                                "filters_json": json.dumps([[doctype, "status", "=", "Open", False]])}).insert()
    series = lowcode.get_doc({"doctype": "Dashboard Chart", "chart_name": f"Sales per day {unique}",
                              "document_type": doctype, "chart_type": "Sum", "value_based_on": "amount",
                              "based_on": "closed_on", "timespan": "Last Week", "time_interval": "Daily",
                              "type": "Bar"}).insert()
    by_status = lowcode.get_doc({"doctype": "Dashboard Chart", "chart_name": f"By status {unique}",
                                 "document_type": doctype, "chart_type": "Group By", "group_by_based_on": "status",
                                 "type": "Pie"}).insert()
    report = lowcode.get_doc({"doctype": "Report", "report_name": f"Sales report {unique}", "ref_doctype": doctype,
                              "is_public": 1, "json": "{}"}).insert()
    ws = lowcode.get_doc({"doctype": "Workspace", "label": f"Sales {unique}", "is_public": 1,
                          "shortcuts": [{"type": "DocType", "link_to": doctype},
                                        {"type": "Report", "link_to": report.name, "label": "Sales report"},
                                        {"type": "URL", "link_to": "/app/todo", "label": "My ToDos"}],
                          "number_cards": [{"number_card": count.name}, {"number_card": open_sum.name}],
                          "charts": [{"chart": series.name}, {"chart": by_status.name, "width": "Full"}]}).insert()
    commit(ctx)
    return {"doctype": doctype, "seller": seller, "boss": boss, "outsider": outsider, "ws": ws.name,
            "count": count.name, "open_sum": open_sum.name, "series": series.name, "by_status": by_status.name}


def workspace_html(html, name):
    m = re.search(rf'<section[^>]*data-workspace="{re.escape(name)}".*?</section>', html, re.S)
    return m.group(0) if m else None


def cards(section):
    return {name: value for name, value in re.findall(r'data-card="([^"]+)" data-value="([^"]*)"', section)}


def charts(section):
    out = {}
    for name, body in re.findall(r'data-dashboard-chart="([^"]+)">(.*?)</figure>', section, re.S):
        m = re.search(r'data-chart="([^"]*)"', body)
        out[name] = json.loads(m.group(1).replace("&#34;", '"').replace("&amp;", "&")) if m else None
    return out


def test_cards_and_charts_per_user(ctx, client, world):
    login(ctx, client, world["boss"])
    section = workspace_html(client.get("/app").content.decode(), world["ws"])
    assert section is not None
    assert cards(section) == {world["count"]: "4", world["open_sum"]: "310.0"}
    assert "My ToDos" in section and f"/app/{world['doctype'].lower().replace(' ', '-')}" in section
    assert "Sales report" in section and "/view/report?report=Sales%20report" in section
    data = charts(section)
    series = data[world["series"]]
    assert series["type"] == "bar" and len(series["values"]) == 8  # the last week's days and today
    assert series["values"][-1] == 310.0 and series["values"][-2] == 20.0 and sum(series["values"]) == 330.0
    assert dict(zip(data[world["by_status"]]["labels"], data[world["by_status"]]["values"])) == {"Open": 2.0,
                                                                                                   "Won": 2.0}

    seller = client.__class__(HTTP_HOST=client.defaults["HTTP_HOST"])
    login(ctx, seller, world["seller"])
    section = workspace_html(seller.get("/app").content.decode(), world["ws"])
    assert cards(section) == {world["count"]: "2", world["open_sum"]: "10.0"}  # only their own sales
    assert "Sales report" not in section  # no report permission
    data = charts(section)
    assert data[world["series"]]["values"][-1] == 10.0
    assert dict(zip(data[world["by_status"]]["labels"], data[world["by_status"]]["values"])) == {"Open": 1.0,
                                                                                                   "Won": 1.0}

    outsider = client.__class__(HTTP_HOST=client.defaults["HTTP_HOST"])
    login(ctx, outsider, world["outsider"])
    section = workspace_html(outsider.get("/app").content.decode(), world["ws"])
    # No read access: no card, no chart, no shortcut to the DocType; the URL shortcut stays.
    assert cards(section) == {} and charts(section) == {}
    assert "My ToDos" in section and world["doctype"] not in section


def test_card_value_through_the_controller(ctx, world):
    card = lowcode.get_doc("Number Card", world["open_sum"])
    with as_user(world["seller"]):
        assert card.get_value() == 10
    with as_user(world["outsider"]):
        with pytest.raises(lowcode.PermissionError):
            card.get_value()


def test_private_workspace_and_validation(ctx, client, world, unique):
    with as_user(world["seller"]):
        mine = lowcode.get_doc({"doctype": "Workspace", "label": f"Mine {unique}",
                                "shortcuts": [{"type": "URL", "link_to": "https://example.com/x"}]}).insert()
        with pytest.raises(ValidationError, match="Only a System Manager"):
            lowcode.get_doc({"doctype": "Workspace", "label": f"Pub {unique}", "is_public": 1}).insert()
    with pytest.raises(ValidationError, match="must start with"):
        lowcode.get_doc({"doctype": "Workspace", "label": f"Bad {unique}",
                         "shortcuts": [{"type": "URL", "link_to": "javascript:alert(1)"}]}).insert()
    with pytest.raises(ValidationError) as e:
        lowcode.get_doc({"doctype": "Dashboard Chart", "chart_name": f"Too fine {unique}",
                         "document_type": world["doctype"], "chart_type": "Count", "based_on": "closed_on",
                         "timespan": "Last Year", "time_interval": "Daily", "type": "Line"}).insert()
    assert e.value.field == "time_interval"
    with pytest.raises(ValidationError) as e:
        lowcode.get_doc({"doctype": "Number Card", "label": f"Bad sum {unique}", "document_type": world["doctype"],
                         "function": "Sum", "aggregate_function_based_on": "status"}).insert()
    assert e.value.field == "aggregate_function_based_on"
    commit(ctx)
    login(ctx, client, world["seller"])
    assert workspace_html(client.get("/app").content.decode(), mine.name) is not None
    boss = client.__class__(HTTP_HOST=client.defaults["HTTP_HOST"])
    login(ctx, boss, world["boss"])
    assert workspace_html(boss.get("/app").content.decode(), mine.name) is None


def test_buckets_align_to_the_interval():
    day = datetime.date(2024, 5, 15)  # a Wednesday
    weekly = buckets("Last Month", "Weekly", today=day)
    assert weekly[0][0] == datetime.date(2024, 4, 15) and all(s.weekday() == 0 for s, _ in weekly)
    assert weekly[-1] == (datetime.date(2024, 5, 13), datetime.date(2024, 5, 20))
    monthly = buckets("Last Year", "Monthly", today=day)
    assert [s for s, _ in monthly][:2] == [datetime.date(2023, 5, 1), datetime.date(2023, 6, 1)]
    assert len(monthly) == 13
    quarterly = buckets("Last Year", "Quarterly", today=day)
    assert [s.month for s, _ in quarterly] == [4, 7, 10, 1, 4]
    assert len(buckets("Last Week", "Daily", today=day)) == 8
