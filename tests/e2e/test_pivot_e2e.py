"""The report view's pivot table in chromium: chosen in the settings form, drawn as a
chart, every cell a link to its records; a lead named like HTML stays text in the
table and the chart's labels and tooltips; a Persian user reads it right to left with
Jalali months."""
from urllib.parse import urlencode

from playwright.sync_api import expect

import lowcode

from .conftest import FA_PASSWORD, FA_USER, login

XSS_NAME = '<img src=x onerror="window.__pivotXss=1">'


def lead_count(server, **where):
    with lowcode.site_context(server.site, bench=server.bench) as local:
        sql = "SELECT COUNT(*) FROM `tabLead`" + (" WHERE " + " AND ".join(f"`{k}`=%s" for k in where) if where else "")
        return local.db.sql(sql, tuple(where.values()))[0][0]


def test_pivot_chart_and_drill_down(page, pages, shot, server, make_lead):
    make_lead(first_name=XSS_NAME, last_name="", company_name="Pivot XSS Co")
    page.goto("/app/lead/view/report")
    page.select_option("#pivot-row-0", "status")
    page.select_option("#pivot-column", "creation:month")
    page.select_option("#chart-type", "bar")
    with page.expect_navigation():
        page.click("#report-settings button.btn-primary")
    expect(page.locator("#report-error")).to_have_count(0)
    expect(page.locator("#pivot-table")).to_be_visible()
    expect(page.locator("#report-chart svg").first).to_be_visible()
    grand = page.locator("#pivot-grand-total")
    assert int(grand.inner_text().replace(",", "")) == lead_count(server)
    # each status's total is the number of its leads
    for row in page.locator("#pivot-table tbody tr").all():
        status = row.locator("th").first.inner_text().strip()
        total = int(row.locator("td").last.inner_text().replace(",", ""))
        assert total == lead_count(server, status=status), status
    page.wait_for_timeout(1500)  # frappe-charts animates its first drawing
    shot(page, "pivot-by-status-and-month")
    # The grand total's link lists every lead.
    with page.expect_navigation():
        grand.click()
    expect(page.locator("#report-table")).to_be_visible()
    assert f"{lead_count(server):,} documents match" in page.locator("#report-count").inner_text()

    # A lead named like HTML: text in the table, the pie's legend and its tooltips.
    page.goto("/app/lead/view/report?" + urlencode({"pivot_rows": "company_name", "chart": "pie", "apply": "1",
                                                    "filters": '[["company_name", "=", "Pivot XSS Co"]]'}))
    expect(page.locator("#pivot-table tbody th").first).to_have_text("Pivot XSS Co")
    page.goto("/app/lead/view/report?" + urlencode({"pivot_rows": "lead_name", "chart": "bar", "apply": "1",
                                                    "filters": '[["company_name", "=", "Pivot XSS Co"]]'}))
    expect(page.locator("#pivot-table tbody th").first).to_contain_text("<img src=x")
    expect(page.locator("#report-chart svg").first).to_be_visible()
    page.wait_for_timeout(1500)
    page.locator("#report-chart svg rect.bar").first.hover()
    page.wait_for_timeout(300)
    assert page.evaluate("window.__pivotXss") is None
    assert not [e for e in pages.js_errors if "removeChild" not in e], pages.js_errors


def test_pivot_in_persian_reads_right_to_left_with_jalali_months(pages, shot, server):
    with lowcode.site_context(server.site, bench=server.bench) as local:
        local.db.sql("UPDATE `tabUser` SET `language`='fa', `calendar`='Jalali' WHERE `name`=%s", (FA_USER,))
        local.db.commit()
    page = pages.new(state=None, viewport={"width": 1280, "height": 900})
    login(page, server.url, FA_USER, FA_PASSWORD)
    page.goto("/app/lead/view/report?" + urlencode({"pivot_rows": "status", "pivot_column": "creation:month",
                                                    "chart": "line", "apply": "1"}))
    expect(page.locator("#pivot-table")).to_be_visible()
    assert page.evaluate("document.documentElement.dir") == "rtl"
    headers = page.locator("#pivot-table thead th").all_inner_texts()
    # the demo's leads were made today (1405 in the Jalali calendar), the last column is the total
    assert any("۱۴۰۵" in h or "1405" in h for h in headers), headers
    assert headers[-1] == "جمع"
    page.wait_for_timeout(1500)
    shot(page, "pivot-persian")
    assert not [e for e in pages.js_errors if "removeChild" not in e], pages.js_errors
