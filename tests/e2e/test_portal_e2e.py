"""End to end: a customer's contact on a phone, in Persian, accepts the portal
invitation, files a complaint with an attachment and finds it among their cases
(Debian's chromium through Playwright against a real server; see conftest.py)."""
import re

import pytest
from playwright.sync_api import expect

import lowcode

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
PASSWORD = "Shiraz-Garden-47"
PERSIAN_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")


def invitation(server):
    """A customer, its contact and an invitation token, made in the test process."""
    from service_app.portal_users import invite
    with lowcode.site_context(server.site, bench=server.bench) as local:
        customer = lowcode.get_doc({"doctype": "Customer", "customer_name": "Portal E2E Co"}).insert()
        contact = lowcode.get_doc({"doctype": "Contact", "first_name": "Maryam", "last_name": "Ahmadi",
                                   "email_id": "maryam.portal@example.com",
                                   "links": [{"link_doctype": "Customer", "link_name": customer.name}]}).insert()
        _, token = invite(contact.name)
        local.db.commit()
        return customer.name, token


def test_a_customer_files_a_complaint_on_a_phone_in_persian(server, pages, shot, tmp_path, db_value):
    customer, token = invitation(server)
    page = pages.new(state=None, **PHONE)
    page.goto(f"/portal/invite/{token}?lang=fa")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    page.fill("#f-password", PASSWORD)
    page.fill("#f-confirm", PASSWORD)
    shot(page, "1-set-password")
    with page.expect_navigation():
        page.click("main button[type=submit]")
    assert page.url.endswith("/portal"), page.url
    page.click("main a[href='/portal/cases/new']")
    expect(page.locator("#f-subject")).to_have_attribute("data-kb-suggest", "fa")  # articles in her language
    page.fill("#f-subject", "مودم هر ساعت قطع می‌شود")
    page.fill("#f-description", "از دوشنبه، هر ساعت یک بار.")
    attachment = tmp_path / "log.txt"
    attachment.write_bytes(b"modem log")
    page.set_input_files("#f-files", str(attachment))
    shot(page, "2-complaint")
    with page.expect_navigation():
        page.click("main button[type=submit]")
    name = re.search(r"/portal/cases/([^?#]+)", page.url).group(1)
    expect(page.locator("[role=status]")).to_contain_text(name)
    expect(page.locator("main a[href^='/private/files/']")).to_have_count(1)
    # Persian was chosen when the password was set: dates are Jalali, in Persian digits.
    assert re.search(r"\b14\d\d/\d\d/\d\d\b", page.locator("main").inner_text().translate(PERSIAN_DIGITS))
    width = page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
    assert width <= 390 + 2, f"the case page is {width}px wide on a 390px phone"
    shot(page, "3-case")
    page.goto("/portal/cases")
    expect(page.locator(f"main a[href='/portal/cases/{name}']")).to_have_text("مودم هر ساعت قطع می‌شود")
    assert db_value("Case", name, "channel") == "Portal" and db_value("Case", name, "customer") == customer
    # The desk stays closed to the portal user.
    page.goto("/app")
    assert page.url.endswith("/portal"), page.url
