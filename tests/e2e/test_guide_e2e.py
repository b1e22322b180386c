"""The user guide in Chromium: from the lead list, the navigation's Help link opens the
salespeople's page at its Leads section, in English at 1366 px; in Persian at 390 px the
same link opens the Persian page, right to left, at the same section, no wider than the
phone, and the contents list every page."""
import re

from playwright.sync_api import expect

from .conftest import DESKTOP, FA_PASSWORD, FA_USER, PHONE, login, set_language


def section_in_view(page, anchor):
    """The section is scrolled into the window (Bootstrap scrolls smoothly: wait for it)."""
    page.wait_for_function("""id => { const r = document.getElementById(id).getBoundingClientRect();
                                      return r.top >= 0 && r.top < window.innerHeight; }""", arg=anchor)
    return True


def test_help_link_opens_the_pages_own_section(pages, server, shot):
    page = pages.new(**DESKTOP)
    page.goto("/app/lead")
    help_link = page.locator("#nav-help")
    expect(help_link).to_contain_text("Help")
    with page.expect_navigation():
        help_link.click()
    expect(page).to_have_url(re.compile(r"/app/help/sales#leads$"))
    expect(page.locator("article h1")).to_have_text("Selling")
    expect(page.locator("h2#leads")).to_have_text("Leads")
    assert section_in_view(page, "leads")
    # the contents beside the page: every section of it, and the other pages
    expect(page.locator("nav a[href='#converting']")).to_be_visible()
    expect(page.locator("nav a[href='/app/help/admin']")).to_be_visible()
    shot(page, "guide-en-1366")
    # a link inside the guide to another page's section
    page.goto("/app/help/basics")
    with page.expect_navigation():
        page.locator("article a[href='sales']").first.click()
    expect(page).to_have_url(re.compile(r"/app/help/sales$"))

    set_language(server, FA_USER, "fa")
    try:
        phone = pages.new(state=None, **PHONE)
        login(phone, server.url, FA_USER, FA_PASSWORD)
        phone.goto("/app/opportunity/view/kanban")
        link = phone.locator("#nav-help")
        expect(link).to_have_attribute("aria-label", "راهنما")
        with phone.expect_navigation():
            link.click()
        expect(phone).to_have_url(re.compile(r"/app/help/sales#pipeline$"))
        expect(phone.locator("html")).to_have_attribute("dir", "rtl")
        expect(phone.locator("article h1")).to_have_text("فروش")
        expect(phone.locator("h3#pipeline")).to_have_text("قیف فروش")
        assert section_in_view(phone, "pipeline")
        width = phone.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
        assert width <= 392, width
        shot(phone, "guide-fa-390")
        phone.goto("/app/help")
        expect(phone.locator("article h2 a")).to_have_count(5)  # sales, service, ..., and selling's
        expect(phone.locator("article h2 a", has_text="خدمات مشتریان")).to_be_visible()
        expect(phone.locator("article h2 a", has_text="سفارش، صورت‌حساب و انبار")).to_be_visible()
    finally:
        set_language(server, FA_USER, "en")
    assert not pages.js_errors, pages.js_errors
