"""The desk page of the standard Script Reports, /app/query-report/<Report Name>
(lowcode/desk/views/query_report.py), on test_reports.py's data set (its module
docstring lists it; one site per engine), through Django's test client as a browser.

Weighted Pipeline's figures, by hand from that data set: the open opportunities are
O8 (sp1, Prospecting 10%, 1000, no closing date), O7 (sp2, Proposal 50%, 6000,
2031-03-15), O10 (sp1, Proposal 50%, 800, 2031-03-20) and O11 (sp2, Negotiation 75%,
2000, 2031-01-10). A Sales Manager sees them all:
  Prospecting unscheduled  1  1000  1000 x 10% = 100
  Proposal    2031-03      2  6800  6000 x 50% + 800 x 50% = 3400
  Negotiation 2031-01      1  2000  2000 x 75% = 1500
sp1 (a Sales User) sees only O8 and O10: Prospecting 1 1000 100; Proposal 1 800 400."""
import csv
import io
import re

import pytest
from django.test import Client

import lowcode
from lowcode.testing.http import login

from crm_app.tests.helpers import as_user, make_user
from crm_app.tests import test_reports as data_set
from crm_app.tests.test_reports import rctx, report_site  # noqa: F401 - the data set's fixtures
from lowcode.tests.desk_helpers import table_rows


def _client(rctx, report_site, user):
    client = Client(HTTP_HOST=report_site["site"], raise_request_exception=False)
    import os
    os.environ["LOWCODE_SITES"] = report_site["bench"]
    login(rctx, client, user)
    return client


def _page(client, name, **params):
    return client.get(f"/app/query-report/{name}", params)


def _set_user(rctx, user, **values):
    rctx.db.commit()
    rctx.db.begin()
    for key, value in values.items():
        rctx.db.sql(f"UPDATE `tabUser` SET `{key}`=%s WHERE `name`=%s", (value, user))
    rctx.db.commit()
    rctx.db.begin()
    rctx.cache.pop("_desk_prefs", None)


def _text(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def test_weighted_pipeline_for_a_sales_manager(rctx, report_site):
    client = _client(rctx, report_site, report_site["mgr"])
    response = _page(client, "Weighted Pipeline")
    assert response.status_code == 200, response.content[:500]
    rows = table_rows(response.content.decode(), "report-table")
    assert [[_text(c) for c in r] for r in rows] == [
        ["Prospecting", "unscheduled", "1", "1,000.00", "100.00"],
        ["Proposal", "2031-03", "2", "6,800.00", "3,400.00"],
        ["Negotiation", "2031-01", "1", "2,000.00", "1,500.00"],
    ]
    assert 'id="report-filters"' not in response.content.decode()  # the report declares no filters


def test_weighted_pipeline_for_a_salesperson_shows_their_own_rows(rctx, report_site):
    client = _client(rctx, report_site, report_site["sp1"])
    rows = table_rows(_page(client, "Weighted Pipeline").content.decode(), "report-table")
    assert rows == [["Prospecting", "unscheduled", "1", "1,000.00", "100.00"],
                    ["Proposal", "2031-03", "1", "800.00", "400.00"]]


def test_filters_come_from_the_url_and_the_total_row_adds_up(rctx, report_site):
    """Lost Reasons (closed_on in the period; O5, O9, O12 were lost today, by hand:
    Price O5 4000 + O12 1000 = 2 and 5000, Timing O9 2500; total 3 and 7500)."""
    client = _client(rctx, report_site, report_site["mgr"])
    response = _page(client, "Lost Reasons", from_date=data_set.TODAY, to_date=data_set.TODAY)
    html = response.content.decode()
    assert table_rows(html, "report-table") == [["Price", "2", "5,000.00"], ["Timing", "1", "2,500.00"]]
    total = re.search(r'<tr class="fw-semibold" id="report-total">(.*?)</tr>', html, re.S).group(1)
    assert _text(total) == "Total 3 7,500.00"
    assert f'name="from_date" value="{data_set.TODAY}"' in html
    old = _page(client, "Lost Reasons", from_date="2000-01-01", to_date="2000-12-31").content.decode()
    assert table_rows(old, "report-table") == [["Nothing to show"]] and 'id="report-total"' not in old
    bad = _page(client, "Lost Reasons", from_date="someday")
    assert bad.status_code == 417 and b"from_date" in bad.content and b'id="report-table"' not in bad.content


def test_a_mandatory_filter_left_empty_is_named(rctx, report_site):
    """Administrator makes Lost Reasons' From Date mandatory and gives To Date the default
    "Today": without from_date the page names the filter and runs nothing; the default
    fills To Date (shown in a Jalali user's calendar); an empty to_date in the URL unsets it."""
    rctx.db.commit()
    rctx.db.begin()
    doc = lowcode.get_doc("Report", "Lost Reasons")
    doc.filters[0].mandatory = 1
    doc.filters[1].default = "Today"
    doc.save()
    rctx.db.commit()
    try:
        client = _client(rctx, report_site, report_site["mgr"])
        html = _page(client, "Lost Reasons").content.decode()
        assert "Set the mandatory filters: From Date" in html and 'id="report-table"' not in html
        assert f'name="to_date" value="{data_set.TODAY}"' in html
        html = _page(client, "Lost Reasons", from_date="2000-01-01").content.decode()
        assert table_rows(html, "report-table") == [["Price", "2", "5,000.00"], ["Timing", "1", "2,500.00"]]
        html = _page(client, "Lost Reasons", from_date="2000-01-01", to_date="2000-12-31").content.decode()
        assert table_rows(html, "report-table") == [["Nothing to show"]]
        fa = make_user("qr", "jalali", roles=("Sales Manager",))
        _set_user(rctx, fa, language="fa", calendar="Jalali")
        import jdatetime
        today = jdatetime.date.today().strftime("%Y/%m/%d")
        html = _page(_client(rctx, report_site, fa), "Lost Reasons").content.decode()
        assert "فیلترهای اجباری را پر کنید: از تاریخ" in html
        assert "value=\"" + today.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")) + "\"" in html \
            or f'value="{today}"' in html
    finally:
        rctx.db.rollback()
        rctx.db.begin()
        doc = lowcode.get_doc("Report", "Lost Reasons")
        doc.filters[0].mandatory = 0
        doc.filters[1].default = None
        doc.save()
        rctx.db.commit()
        rctx.db.begin()


def test_a_jalali_user_filters_in_their_calendar_and_reads_farsi(rctx, report_site):
    """1378/10/11 is 2000-01-01 and 1379/10/11 is 2000-12-31: nothing was lost then; today
    in Jalali finds today's losses. Weighted Pipeline's months are Jalali months (O7 and
    O10 in Esfand 1409, O11 in Dey 1409), the labels Persian, the page right to left."""
    import jdatetime
    fa = make_user("qr", "farsi", roles=("Sales Manager",))
    _set_user(rctx, fa, language="fa", calendar="Jalali")
    client = _client(rctx, report_site, fa)
    today = jdatetime.date.today().strftime("%Y/%m/%d")
    html = _page(client, "Lost Reasons", from_date=today, to_date=today).content.decode()
    assert len(table_rows(html, "report-table")) == 2 and "دلیل از دست رفتن" in html and 'dir="rtl"' in html
    html = _page(client, "Lost Reasons", from_date="1378/10/11", to_date="1379/10/11").content.decode()
    assert len(table_rows(html, "report-table")) == 1 and 'id="report-total"' not in html
    rows = table_rows(_page(client, "Weighted Pipeline").content.decode(), "report-table")
    assert [r[1] for r in rows] == ["unscheduled", "1409-12", "1409-10"]
    # the filters' labels and Select choices in Persian (Sales Forecast's Group By)
    html = _page(client, "Sales Forecast").content.decode()
    assert "گروه‌بندی بر اساس" in html and '<option value="month,rep,territory" selected>ماه، فروشنده، منطقه</option>' in html


def test_summary_cards_and_chart(rctx, report_site):
    """Sales Funnel for today (test_reports FUNNEL_TODAY): a card per summary figure and
    the chart's stages with their counts 7, 4, 2, 2, 2, 1."""
    import html as html_lib
    import json
    client = _client(rctx, report_site, report_site["mgr"])
    html = _page(client, "Sales Funnel", from_date=data_set.TODAY, to_date=data_set.TODAY).content.decode()
    # one card: Unqualified, L4 (disqualified today), Frappe's red indicator
    card = re.search(r'<div class="card h-100 report-card([^"]*)" data-label="Unqualified">(.*?)</div>\s*</div>\s*</div>',
                     html, re.S)
    assert card.group(1) == " border-danger" and _text(card.group(2)) == "Unqualified 1"
    chart = json.loads(html_lib.unescape(re.search(r'id="report-chart"[^>]*data-chart="([^"]*)"', html).group(1)))
    assert chart["datasets"][0]["values"] == [7, 4, 2, 2, 2, 1]
    assert [r[:2] for r in table_rows(html, "report-table")] == [
        ["New", "7"], ["Contacted", "4"], ["Qualified", "2"], ["Converted", "2"], ["Opportunity", "2"], ["Won", "1"]]


def test_percent_and_currency_columns(rctx, report_site):
    """Source ROI for today (test_reports.test_source_roi_for_today), by hand: Ads cost
    2000, 2 leads, revenue 0: cost per lead 2000 / 2 = 1000, ROI (0 - 2000) / 2000 = -100%;
    Expo cost 600 + 400 = 1000, 4 leads, revenue 10000: 1000 / 4 = 250, (10000 - 1000) / 1000 = 900%."""
    html = _page(_client(rctx, report_site, report_site["mgr"]), "Source ROI", from_date=data_set.TODAY,
                 to_date=data_set.TODAY).content.decode()
    assert table_rows(html, "report-table") == [
        ["Ads", "2,000.00", "2", "1", "2", "0", "0.00", "1,000.00", "-100%"],
        ["Expo", "1,000.00", "4", "1", "1", "1", "10,000.00", "250.00", "900%"]]


def test_a_forecast_chart_has_a_dataset_per_figure(rctx, report_site):
    import html as html_lib
    import json
    html = _page(_client(rctx, report_site, report_site["mgr"]), "Sales Forecast").content.decode()
    chart = json.loads(html_lib.unescape(re.search(r'id="report-chart"[^>]*data-chart="([^"]*)"', html).group(1)))
    assert [d["name"] for d in chart["datasets"]] == ["Weighted Pipeline", "Commit", "Best Case", "Won", "Target"]


def test_export_csv_and_xlsx(rctx, report_site):
    """The page's rows as a download for who may export Opportunities (mgr); a Marketing
    User may report on them but not export: refused."""
    client = _client(rctx, report_site, report_site["mgr"])
    response = _page(client, "Lost Reasons", from_date=data_set.TODAY, to_date=data_set.TODAY, export="csv")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == [["Lost Reason", "Count", "Amount"], ["Price", "2", "5000.0"], ["Timing", "1", "2500.0"],
                    ["Total", "3.0", "7500.0"]]
    response = _page(client, "Weighted Pipeline", export="xlsx")
    import openpyxl
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content) if response.streaming else
                                              response.content)).active
    assert [c.value for c in sheet[1]][:3] == ["Stage", "Expected Closing Month", "Count"]
    assert [c.value for c in sheet[3]] == ["Proposal", "2031-03", 2, 6800, 3400]
    mkt = _client(rctx, report_site, report_site["mkt"])
    page = _page(mkt, "Lost Reasons").content.decode()
    assert 'id="report-table"' in page and "export=csv" not in page
    refused = _page(mkt, "Lost Reasons", export="csv")
    assert refused.status_code == 403 and b"export" in refused.content
    assert "attachment" not in refused.get("Content-Disposition", "")


def test_users_without_the_reports_roles_get_a_403_page(rctx, report_site):
    rctx.db.commit()
    rctx.db.begin()
    agent = make_user("qr", "agent", roles=("Support Agent",))
    outsider = make_user("qr", "outsider", roles=("Blogger",))
    for user, name in ((agent, "Activity Metrics"), (outsider, "Sales Funnel")):
        response = _page(_client(rctx, report_site, user), name)
        assert response.status_code == 403 and b'id="report-error"' in response.content
        assert b'id="report-table"' not in response.content and b"export=" not in response.content
    assert _page(_client(rctx, report_site, agent), "No Such Report").status_code == 404


def test_a_row_value_is_escaped(rctx, report_site):
    """A lead source named like markup shows as text in the Source ROI table."""
    rctx.db.commit()
    rctx.db.begin()
    evil = '<img src=x onerror="alert(1)">'
    lowcode.get_doc({"doctype": "Lead Source", "source_name": evil}).insert()
    lowcode.get_doc({"doctype": "Lead", "first_name": "Evil", "last_name": "Source", "source": evil,
                     "lead_owner": report_site["sp1"]}).insert()
    rctx.db.commit()
    html = _page(_client(rctx, report_site, report_site["mgr"]), "Source ROI").content.decode()
    assert evil not in html and "&lt;img src=x onerror=" in html
    # the Link cell links to its record, the name URL-encoded
    assert 'href="/app/lead-source/%3Cimg%20src%3Dx%20onerror%3D%22alert%281%29%22%3E"' in html


def test_link_cells_open_their_records_and_users_show_their_names(rctx, report_site):
    """Sales Forecast's Salesperson column (a Link to User) shows the user's name (sp1 is
    "A-Sp1 Tester"); Crisis Cases' Case column would link /app/case/<name>: here Source
    ROI's Lead Source column links /app/lead-source/Expo."""
    client = _client(rctx, report_site, report_site["mgr"])
    html = _page(client, "Sales Forecast", group_by="rep").content.decode()
    assert "A-Sp1 Tester" in html and report_site["sp1"] not in html.split('id="report-table"')[1]
    html = _page(client, "Source ROI").content.decode()
    assert '<a href="/app/lead-source/Expo">Expo</a>' in html


def test_a_query_report_runs_for_the_administrator_only(rctx, report_site):
    """A Query Report (raw SQL, no row rules) opens for the Administrator; a Sales Manager
    (who may report on Opportunities) gets the 403 page."""
    rctx.db.commit()
    rctx.db.begin()
    lowcode.get_doc({"doctype": "Report", "report_name": "Big Deals SQL", "ref_doctype": "Opportunity",
                     "report_type": "Query Report",
                     "query": "SELECT `title` AS `Title:Data:120`, `opportunity_amount` AS `Amount:Currency:120` "
                              "FROM `tabOpportunity` WHERE `opportunity_amount` >= %(min_amount)s ORDER BY `title`",
                     "filters": [{"fieldname": "min_amount", "label": "Minimum Amount", "fieldtype": "Currency",
                                  "mandatory": 1}]}).insert()
    rctx.db.commit()
    admin = _client(rctx, report_site, "Administrator")
    html = _page(admin, "Big Deals SQL", min_amount="6000").content.decode()
    # O3 (converted from L3, titled after it) 10000 and O7 6000 reach 6000; O11 2000 and the rest do not
    assert table_rows(html, "report-table") == [["L3 Report", "10,000.00"], ["O7", "6,000.00"]]
    assert "Set the mandatory filters: Minimum Amount" in _page(admin, "Big Deals SQL").content.decode()
    refused = _page(_client(rctx, report_site, report_site["mgr"]), "Big Deals SQL")
    assert refused.status_code == 403 and b"Query Report" in refused.content


def test_date_cells_in_a_jalali_users_calendar(rctx, report_site):
    """O13 was opened on 2000-02-01, which is 12 Bahman 1378: a Date column shows it in the
    Jalali calendar of the user (here the Administrator, who alone runs a Query Report)."""
    rctx.db.commit()
    rctx.db.begin()
    lowcode.get_doc({"doctype": "Report", "report_name": "Deal Dates SQL", "ref_doctype": "Opportunity",
                     "report_type": "Query Report",
                     "query": "SELECT `title` AS `Title:Data:120`, `transaction_date` AS `Opened:Date:120` "
                              "FROM `tabOpportunity` WHERE `title`='O13'"}).insert()
    _set_user(rctx, "Administrator", calendar="Jalali")
    try:
        html = _page(_client(rctx, report_site, "Administrator"), "Deal Dates SQL").content.decode()
        assert table_rows(html, "report-table") == [["O13", "1378/11/12"]]
        _set_user(rctx, "Administrator", calendar="Gregorian")
        html = _page(_client(rctx, report_site, "Administrator"), "Deal Dates SQL").content.decode()
        assert table_rows(html, "report-table") == [["O13", "2000-02-01"]]
    finally:
        _set_user(rctx, "Administrator", calendar="Gregorian")


def test_a_saved_report_builder_report_opens_in_its_report_view(rctx, report_site):
    rctx.db.commit()
    rctx.db.begin()
    lowcode.get_doc({"doctype": "Report", "report_name": "My Deals", "ref_doctype": "Opportunity",
                     "report_type": "Report Builder", "json": "{}"}).insert()
    rctx.db.commit()
    response = _page(_client(rctx, report_site, "Administrator"), "My Deals")
    assert response.status_code == 302 and response["Location"] == "/app/opportunity/view/report?report=My%20Deals"


def test_every_standard_report_renders(rctx, report_site):
    """The sweep: every Script Report of every installed app, for the Administrator."""
    names = rctx.db.sql("SELECT `name` FROM `tabReport` WHERE `report_type`='Script Report'", pluck=True)
    assert {"Weighted Pipeline", "Sales Forecast", "Crisis Cases"} <= set(names)
    client = _client(rctx, report_site, "Administrator")
    wants_a_filter = set(rctx.db.sql("SELECT `parent` FROM `tabReport Filter` WHERE `mandatory`=1 "
                                     "AND COALESCE(`default`, '')=''", pluck=True))
    assert "Up-sell Suggestions" in wants_a_filter  # a customer's suggestions: no customer, no run
    for name in names:
        response = _page(client, name)
        assert response.status_code == 200, (name, response.content[:300])
        if name in wants_a_filter:
            assert b"Set the mandatory filters" in response.content, name
        else:
            assert b'id="report-table"' in response.content, name
    # and every CRM report for a Sales Manager and a salesperson (their rows, through row rules)
    crm = rctx.db.sql("SELECT `name` FROM `tabReport` WHERE `report_type`='Script Report' AND `module`='CRM'",
                      pluck=True)
    assert len(crm) >= 12
    for user in (report_site["mgr"], report_site["sp1"]):
        client = _client(rctx, report_site, user)
        for name in crm:
            response = _page(client, name)
            assert response.status_code == 200 and b'id="report-table"' in response.content, (user, name)


def test_reports_are_reachable(rctx, report_site):
    """A Script Report's record opens its page; the Reports list per module shows what the
    user may run; the CRM workspace's Report shortcuts open the page."""
    client = _client(rctx, report_site, report_site["sp1"])
    response = client.get("/app/report/Weighted%20Pipeline")
    assert response.status_code == 302 and response["Location"] == "/app/query-report/Weighted%20Pipeline"
    assert 'href="/app/query-report" id="nav-reports"' in client.get("/app/build/__modules").content.decode()
    html = client.get("/app/query-report").content.decode()
    assert "/app/query-report/Weighted%20Pipeline" in html and "/app/query-report/Crisis%20Cases" not in html
    home = client.get("/app").content.decode()
    assert 'href="/app/query-report/Sales%20Forecast"' in home
    assert "/app/query-report/Crisis%20Cases" not in home  # the Service workspace's, not sp1's to run
    rctx.db.commit()
    rctx.db.begin()
    agent = make_user("qr", "support", roles=("Support Agent",))
    home = _client(rctx, report_site, agent).get("/app").content.decode()
    assert 'href="/app/query-report/Crisis%20Cases"' in home and "/app/query-report/Sales%20Forecast" not in home


def test_a_slow_reports_result_is_kept_a_minute_per_user(rctx, report_site):
    """A report slower than ``slow_report_seconds`` answers its kept result (with when it was
    computed) until REPORT_CACHE_SECONDS pass, per user; a fast one never; an action's rows,
    ``ignore_prepared_report`` and a permissions change compute afresh. Here every report
    counts as slow (the threshold 0), on the data set's Weighted Pipeline."""
    from lowcode.api import query_report
    from lowcode.caches import bump_perm_version, cache
    from lowcode.meta import check_version
    from lowcode.sites import read_json, write_json
    import os

    def run(user, **kwargs):
        with as_user(user):
            return query_report.run("Weighted Pipeline", **kwargs)

    mgr, sp1 = report_site["mgr"], report_site["sp1"]
    assert "computed_at" not in run(mgr) and "computed_at" not in run(mgr)  # fast: never kept
    path = os.path.join(rctx.site_path, "site_config.json")
    original = read_json(path)
    write_json(path, dict(original, slow_report_seconds=0))
    rctx.conf["slow_report_seconds"] = 0
    try:
        first = run(mgr)
        assert "computed_at" not in first and len(first["result"]) == 3
        kept = run(mgr)
        assert kept["computed_at"] and kept["execution_time"] == first["execution_time"]
        assert kept["result"] == first["result"]
        mine = run(sp1)  # another user: their own rows (row rules), not the manager's kept ones
        assert "computed_at" not in mine and len(mine["result"]) == 2
        assert "computed_at" not in run(mgr, ignore_prepared_report=True)
        rctx.db.commit()
        rctx.db.begin()
        bump_perm_version()
        rctx.db.commit()
        rctx.db.begin()
        check_version()  # as the next request starts
        assert "computed_at" not in run(mgr)  # roles or user permissions changed: computed afresh
        # the desk page says when its figures were computed
        client = _client(rctx, report_site, mgr)
        _page(client, "Weighted Pipeline")
        html = _page(client, "Weighted Pipeline").content.decode()
        assert 'id="report-computed-at"' in html and "at most once a minute" in html
    finally:
        write_json(path, original)
        rctx.conf.pop("slow_report_seconds", None)
        cache().delete_prefix("report-result|")
