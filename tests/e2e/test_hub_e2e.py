"""The Settings hub in Chromium: an admin finds the permission manager through global
search and a module through the navigation's Modules menu at 1366 px in English, and
opens the hub from the navigation at 390 px in Persian (right to left, translated,
nothing wider than the phone)."""
import re
from urllib.parse import quote

from playwright.sync_api import expect

from .conftest import DESKTOP, FA_PASSWORD, FA_USER, PHONE, login, set_language


def test_admin_finds_tools_by_search_and_opens_the_hub(pages, server, shot):
    # English, 1366 px: type "permission" in the navigation's search, open the tool.
    page = pages.new(**DESKTOP)
    page.goto("/app")
    page.fill("nav input[name=q]", "permission")
    with page.expect_navigation():
        page.press("nav input[name=q]", "Enter")
    tools = page.locator("a.search-tool")
    expect(tools).to_have_count(2)
    shot(page, "search-en-1366")
    with page.expect_navigation():
        page.locator("a.search-tool", has_text="Role Permissions").click()
    expect(page).to_have_url(re.compile(r"/app/permission-manager$"))
    expect(page.locator("main h1")).to_contain_text("Role Permissions")
    # The navigation's Settings link is there too, with its label at this width.
    expect(page.locator("#nav-settings")).to_contain_text("Settings")
    # Its Modules menu (fetched on first opening) leads to a module on the home page.
    page.click("#nav-modules")
    crm = page.locator("#nav-modules-menu a", has_text="CRM")
    expect(crm).to_be_visible()
    expect(page.locator("#nav-modules-menu a[href='/app/build']")).to_be_visible()
    shot(page, "modules-menu-en-1366")
    crm.click()
    expect(page).to_have_url(re.compile(r"/app#module-crm$"))
    expect(page.locator("#module-crm")).to_be_visible()

    # Persian, 390 px: the hub from the navigation, right to left and translated.
    set_language(server, FA_USER, "fa")
    try:
        phone = pages.new(state=None, **PHONE)
        login(phone, server.url, FA_USER, FA_PASSWORD)
        expect(phone.locator("html")).to_have_attribute("dir", "rtl")
        settings = phone.locator("#nav-settings")
        expect(settings).to_be_visible()
        expect(settings).to_have_attribute("aria-label", "تنظیمات")
        with phone.expect_navigation():
            settings.click()
        expect(phone).to_have_url(re.compile(r"/app/build$"))
        expect(phone.locator("main h1")).to_have_text("تنظیمات")
        for label in ("مجوزهای نقش", "مجوزهای کاربر", "سفارشی‌سازی فرم", "تنظیمات پیامک", "وب‌هوک"):
            expect(phone.locator("a.hub-tool", has_text=label)).to_be_visible()
        assert phone.locator("a.hub-tool").count() >= 15
        width = phone.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
        assert width <= 392, width
        shot(phone, "hub-fa-390")
        # Persian search finds the same tools at this width.
        phone.goto("/app?q=" + quote("مجوز"))
        expect(phone.locator("a.search-tool")).to_have_count(2)
        shot(phone, "search-fa-390")
        with phone.expect_navigation():
            phone.locator("a.search-tool", has_text="مجوزهای نقش").click()
        expect(phone).to_have_url(re.compile(r"/app/permission-manager$"))
    finally:
        set_language(server, FA_USER, "en")
    assert not pages.js_errors, pages.js_errors
