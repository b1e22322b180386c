"""The parties' 360° views in Chromium: an admin opens a demo supplier's form, follows its
"360° view" button and finds its contact, address and relation to a customer at 1366 px
in English; a Persian Sales Manager opens their own employee's view at 390 px (right to
left, translated, the sales sections shown, nothing wider than the phone)."""
import re
from urllib.parse import quote

from playwright.sync_api import expect

import lowcode

from .conftest import DESKTOP, FA_PASSWORD, FA_USER, PHONE, login, set_language


def _demo(server):
    with lowcode.site_context(server.site, bench=server.bench) as local:
        supplier = lowcode.get_all("Supplier", filters={"supplier_name": "پارس سخت‌افزار"}, pluck="name")[0]
        if not lowcode.db.exists("Employee", {"user_id": FA_USER}):
            lowcode.get_doc({"doctype": "Employee", "employee_name": "Parisa", "user_id": FA_USER,
                             "department": "Sales"}).insert(ignore_permissions=True)
        employee = lowcode.db.get_value("Employee", {"user_id": FA_USER}, "name")
        local.db.commit()
    return supplier, employee


def test_supplier_and_employee_360(pages, server, shot):
    supplier, employee = _demo(server)
    page = pages.new(**DESKTOP)
    page.goto(f"/app/supplier/{quote(supplier)}")
    with page.expect_navigation():
        page.locator("a", has_text="360° view").first.click()
    expect(page).to_have_url(re.compile(r"/app/supplier-360/"))
    expect(page.locator("main h1")).to_contain_text("پارس سخت‌افزار")
    expect(page.locator("#contacts li a")).to_have_count(1)
    expect(page.locator("#addresses li a").first).to_be_visible()
    expect(page.locator("#relations li")).to_contain_text("Supplier of")
    shot(page, "supplier-360-en-1366")

    set_language(server, FA_USER, "fa")
    try:
        phone = pages.new(state=None, **PHONE)
        login(phone, server.url, FA_USER, FA_PASSWORD)
        phone.goto(f"/app/employee-360/{quote(employee)}")
        expect(phone.locator("html")).to_have_attribute("dir", "rtl")
        expect(phone.locator("#relations-title")).to_have_text("ارتباط‌ها")
        expect(phone.locator("#section-employee-leads-title")).to_have_text("سرنخ‌های در اختیار")
        expect(phone.locator("#section-employee-opportunities-title")).to_be_visible()
        width = phone.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
        assert width <= 392, width
        shot(phone, "employee-360-fa-390")
    finally:
        set_language(server, FA_USER, "en")
    assert not pages.js_errors, pages.js_errors
