"""Number card filters through the filter builder, a saved report opened as the report
and added to a workspace, in Chromium: the card filter is built in English at 1366 px
(a Select field with "=", a date field with a timespan), the report is opened from the
Report list and added to a new private workspace in Persian at 390 px."""
import json
import re

import lowcode
from playwright.sync_api import expect

from .conftest import DESKTOP, FA_PASSWORD, FA_USER, PHONE, login, set_language


def stored(server, doctype, name, field):
    with lowcode.site_context(server.site, bench=server.bench) as local:
        return local.db.get_value(doctype, name, field)


def test_card_filter_built_in_english_at_1366(pages, server, shot):
    page = pages.new(**DESKTOP)
    page.goto("/app/number-card/new")
    page.fill("[name=label]", "Qualified leads this month")
    page.fill("[name=document_type]", "Lead")
    page.dispatch_event("[name=document_type]", "change")
    builder = page.locator("#filters-builder [data-filter-builder]")
    expect(builder).to_be_visible()
    expect(page.locator("textarea[name=filters_json]")).to_be_hidden()
    # A Select field: only its type's operators are offered.
    builder.locator("[data-fb=field]").select_option("status")
    expect(builder.locator("[data-fb=op] option[value='>']")).to_be_disabled()
    builder.locator("[data-fb=value]").fill("Qualified")
    builder.locator("[data-fb=add]").click()
    expect(page.locator("#filters-builder [data-fb-chips]")).to_contain_text("Status = Qualified")
    # A date field: the Timespan operator swaps the value for a list of timespans.
    builder = page.locator("#filters-builder [data-filter-builder]")
    builder.locator("[data-fb=field]").select_option("lead_date")
    builder.locator("[data-fb=op]").select_option("timespan")
    expect(builder.locator("[data-fb=value]")).to_be_hidden()
    builder.locator("[data-fb=timespan]").select_option("this month")
    shot(page, "card-builder-en-1366")
    builder.locator("[data-fb=add]").click()
    expect(page.locator("#filters-builder [data-fb-chips] li")).to_have_count(2)
    with page.expect_navigation():
        page.click("#save-button")
    expect(page).to_have_url(re.compile(r"/app/number-card/Qualified"))
    assert json.loads(stored(server, "Number Card", "Qualified leads this month", "filters_json")) == [
        ["status", "=", "Qualified"], ["lead_date", "timespan", "this month"]]
    # The saved card's form shows its filters in the builder again, and one can be removed.
    expect(page.locator("#filters-builder [data-fb-chips] li")).to_have_count(2)
    page.locator("#filters-builder [data-fb-remove='1']").click()
    expect(page.locator("#filters-builder [data-fb-chips] li")).to_have_count(1)
    shot(page, "card-saved-en-1366")
    assert not pages.js_errors, pages.js_errors


def test_saved_report_opened_and_added_to_a_workspace_in_persian_at_390(pages, server, shot):
    with lowcode.site_context(server.site, bench=server.bench) as local:
        lowcode.set_user("Administrator")
        if not local.db.exists("Report", "Leads by score"):
            lowcode.get_doc({"doctype": "Report", "report_name": "Leads by score", "ref_doctype": "Lead",
                             "is_public": 1, "json": json.dumps({"columns": ["lead_name", "status", "lead_score"],
                                                                 "filters": [["status", "!=", "Converted"]],
                                                                 "order_by": "lead_score desc"})}).insert()
        local.db.commit()
    set_language(server, FA_USER, "fa")
    try:
        phone = pages.new(state=None, **PHONE)
        login(phone, server.url, FA_USER, FA_PASSWORD)
        phone.goto("/app/report")
        with phone.expect_navigation():
            phone.locator("#list-results a", has_text="Leads by score").first.click()
        expect(phone).to_have_url(re.compile(r"/app/lead/view/report\?report=Leads"))
        expect(phone.locator("#report-name")).to_have_text("Leads by score")
        expect(phone.locator("#report-filters")).to_contain_text("وضعیت")  # the filter's field, translated
        expect(phone.locator("#report-edit")).to_be_visible()  # a System Manager may edit it
        width = phone.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
        assert width <= 392, width
        shot(phone, "report-fa-390")
        phone.click("#atw-open")
        expect(phone.locator("#atw-form")).to_be_visible()
        phone.locator("#atw-workspace").select_option("")
        phone.fill("#atw-new", "میز من")
        phone.fill("#atw-label", "سرنخ‌ها به ترتیب امتیاز")
        shot(phone, "add-to-workspace-fa-390")
        phone.locator("#atw-form button.btn-primary").click()
        expect(phone.locator("#atw-done")).to_be_visible()
        with phone.expect_navigation():
            phone.locator("#atw-done a").click()
        link = phone.locator("a", has_text="سرنخ‌ها به ترتیب امتیاز")
        expect(link).to_be_visible()
        with phone.expect_navigation():
            link.click()
        expect(phone).to_have_url(re.compile(r"/app/lead/view/report\?report=Leads"))
        shot(phone, "workspace-shortcut-fa-390")
    finally:
        set_language(server, FA_USER, "en")
    assert not pages.js_errors, pages.js_errors
