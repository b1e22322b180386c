"""The desk's look in Chromium: the main pages in English, Persian and Hebrew at 1366 px
and 390 px without a console error or a failed request, each page's screenshot written
to ``screenshots/<page>-<lang>-<width>.png`` at the repository root for a reviewer; the
phone layout (list rows as cards, filters behind a button, the form's bottom action bar,
tap-to-call and tap-to-text) and dark mode following the system's colour scheme (two dark
screenshots, ``lead-list-fa-390-dark.png`` and ``lead-form-fa-390-dark.png``)."""
import os
import re

import lowcode
import pytest
from lowcode import sites
from playwright.sync_api import expect

from .conftest import FA_PASSWORD, FA_USER, ROOT, login, set_language

SCREENSHOTS = os.path.join(ROOT, "screenshots")
WIDTHS = {1366: {"viewport": {"width": 1366, "height": 900}},
          390: {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
                "device_scale_factor": 2}}


@pytest.fixture(scope="module", autouse=True)
def no_realtime_client(server):
    """This server (uvicorn, as conftest starts it) runs no realtime service, and a desk
    page would then log its WebSocket's refused connection, which this module counts
    as an error: the site turns the live desk off (test_realtime_e2e.py covers it)."""
    path = os.path.join(server.bench, server.site, "site_config.json")
    conf = sites.read_json(path)
    sites.write_json(path, dict(conf, disable_realtime=1))
    yield
    sites.write_json(path, conf)


def main_pages(server):
    """{page: path} of the pages a reviewer looks at; the lead and the case are the demo's."""
    with lowcode.site_context(server.site, bench=server.bench) as local:
        lead = local.db.sql("SELECT `name` FROM `tabLead` WHERE `mobile_no` IS NOT NULL AND `mobile_no`!='' "
                            "ORDER BY `name` LIMIT 1", pluck=True)[0]
    return {"home": "/app", "lead-list": "/app/lead", "lead-form": f"/app/lead/{lead}",
            "kanban": "/app/lead/view/kanban", "dashboard": "/app/sales-dashboard", "report": "/app/lead/view/report",
            "calendar": "/app/task/view/calendar", "settings": "/app/build", "inbox": "/app/inbox",
            "case-list": "/app/case"}


class Watch:
    """Console errors, uncaught exceptions and failed requests (a network failure or an
    answer of 400 and more) of a page, each with the page it happened on."""

    def __init__(self, page):
        self.problems = []
        page.on("console", lambda m: self.problems.append(f"{page.url}: console {m.type}: {m.text}")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: self.problems.append(f"{page.url}: {e}"))
        # A request the browser cancels because the page is left (an htmx fragment still
        # loading when Save is tapped) is no failure: net::ERR_ABORTED.
        page.on("requestfailed", lambda r: self.problems.append(f"{page.url}: {r.url} failed: {r.failure}")
                if "ERR_ABORTED" not in (r.failure or "") else None)
        page.on("response", lambda r: self.problems.append(f"{page.url}: {r.url} answered {r.status}")
                if r.status >= 400 else None)


def settle(page):
    """htmx fragments arrived, and charts (drawn once their box has a width) done animating."""
    page.wait_for_load_state("networkidle")
    if page.locator("[data-chart]").count():
        page.wait_for_timeout(800)


def test_main_pages_in_three_languages_at_two_widths_without_console_errors(pages, server):
    os.makedirs(SCREENSHOTS, exist_ok=True)
    paths = main_pages(server)
    problems, written = [], 0
    try:
        for width, options in WIDTHS.items():
            page = pages.new(state=None, **options)
            watch = Watch(page)
            login(page, server.url, FA_USER, FA_PASSWORD)
            for lang in ("en", "fa", "he"):
                set_language(server, FA_USER, lang)
                for name, path in paths.items():
                    page.goto(path)
                    settle(page)
                    expect(page.locator("html")).to_have_attribute("lang", lang)
                    page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}-{lang}-{width}.png"), full_page=True)
                    written += 1
                    if watch.problems:
                        problems += [f"{name} {lang} {width}: {p}" for p in watch.problems]
                        watch.problems.clear()
    finally:
        set_language(server, FA_USER, "en")
        print(f"\n{written} screenshots in {SCREENSHOTS}")
    assert written == len(paths) * 6
    assert not problems, "\n".join(problems)


def test_phone_layout_and_dark_mode(pages, server, make_lead):
    os.makedirs(SCREENSHOTS, exist_ok=True)
    name = make_lead(first_name="Tap", company_name="Phone Co", mobile_no="+98 912 555 0101")
    set_language(server, FA_USER, "fa")
    try:
        phone = pages.new(state=None, color_scheme="dark", **WIDTHS[390])
        watch = Watch(phone)
        login(phone, server.url, FA_USER, FA_PASSWORD)
        # Dark mode follows the system's colour scheme.
        expect(phone.locator("html")).to_have_attribute("data-bs-theme", "dark")
        assert phone.evaluate("getComputedStyle(document.body).backgroundColor") != "rgb(255, 255, 255)"

        # The list: rows as cards (no table header; each row a block as wide as the
        # screen) with title, status badge and labelled fields; filters behind a button.
        phone.goto("/app/lead")
        rows = phone.locator("#list-results tbody tr")
        expect(rows.first).to_be_visible()
        expect(phone.locator("#list-results thead")).to_be_hidden()
        assert rows.first.evaluate("r => [getComputedStyle(r).display, getComputedStyle(r).flexDirection]") == [
            "flex", "column"]
        box = rows.first.bounding_box()
        assert box["width"] <= 390 and box["height"] > 40, box
        title, ident = rows.first.locator("td.list-title-field"), rows.first.locator("td.list-title a")
        expect(title).to_be_visible()
        expect(ident).to_be_visible()
        assert title.bounding_box()["y"] < ident.bounding_box()["y"]  # the lead's name first, then its id
        expect(rows.first.locator(".status-badge")).to_be_visible()
        assert rows.first.locator("td[data-label]").count() >= 2
        filters, toggle = phone.locator("#list-filters"), phone.locator("#filters-toggle")
        expect(filters).to_be_hidden()
        expect(toggle).to_have_text(re.compile("فیلتر"))
        toggle.tap()
        expect(filters.locator("input[name=q]")).to_be_visible()
        assert phone.evaluate("document.documentElement.scrollWidth") <= 392
        phone.screenshot(path=os.path.join(SCREENSHOTS, "lead-list-fa-390-dark.png"), full_page=False)

        # The form: Save and the actions in a bar at the bottom of the screen; the mobile
        # number calls, texts from the phone and sends through the site's SMS gateway.
        phone.goto(f"/app/lead/{name}")
        bar = phone.locator("#form-actions")
        expect(bar).to_be_visible()
        assert bar.evaluate("b => getComputedStyle(b).position") == "fixed"
        box = bar.bounding_box()
        assert abs(box["y"] + box["height"] - 844) <= 1 and box["width"] >= 389, box
        save = bar.locator("#save-button")
        expect(save).to_be_in_viewport()
        field = phone.locator('.field[data-fieldname="mobile_no"]')
        expect(field.locator("a[data-tel]")).to_have_attribute("href", "tel:+989125550101")
        expect(field.locator("a[data-sms]")).to_have_attribute("href", "sms:+989125550101")
        expect(field.locator("a[data-send-sms]")).to_have_attribute("href", f"/app/send-sms/{name}?doctype=Lead")
        phone.screenshot(path=os.path.join(SCREENSHOTS, "lead-form-fa-390-dark.png"), full_page=False)
        # Saving shows the toast once, above the bar.
        phone.fill("#f-city", "Qom")
        with phone.expect_navigation():
            save.tap()
        toast = phone.locator("#toasts .toast")
        expect(toast).to_be_visible()
        expect(toast).to_have_text("ذخیره شد")
        assert toast.bounding_box()["y"] + toast.bounding_box()["height"] <= bar.bounding_box()["y"] + 1
        phone.reload()
        expect(phone.locator("#toasts .toast")).to_have_count(0)
        assert not watch.problems, watch.problems

        # A light system gets the light theme.
        light = pages.new(color_scheme="light", **WIDTHS[1366])
        light.goto("/app")
        expect(light.locator("html")).to_have_attribute("data-bs-theme", "light")
        # unless the user chose the dark desk in their settings
        light.goto("/app/my-settings")
        light.select_option("#desk_theme", "Dark")
        with light.expect_navigation():
            light.click("main form button.btn-primary")
        expect(light.locator("html")).to_have_attribute("data-bs-theme", "dark")
        light.goto("/app/lead")
        expect(light.locator("html")).to_have_attribute("data-bs-theme", "dark")
        light.goto("/app/my-settings")
        light.select_option("#desk_theme", "Automatic")
        with light.expect_navigation():
            light.click("main form button.btn-primary")
        expect(light.locator("html")).to_have_attribute("data-bs-theme", "light")
    finally:
        set_language(server, FA_USER, "en")


def test_charts_resized_while_they_draw_log_no_error(pages):
    """frappe-charts redraws on every resize, and threw when one came while its first
    drawing still animated (a full-page screenshot, a phone turned sideways). Each page's
    charts are drawn (the service dashboard loaded frappe-charts but not report.js, which
    draws them)."""
    page = pages.new(**WIDTHS[1366])
    watch = Watch(page)
    for path in ("/app/sales-dashboard", "/app/service-dashboard", "/app/lead/view/report?group_by=status&chart=bar"):
        page.goto(path)
        expect(page.locator("[data-chart]").first).to_be_attached()
        for width in (900, 1366, 600, 1100):
            page.set_viewport_size({"width": width, "height": 900})
            page.wait_for_timeout(60)
        page.wait_for_timeout(1500)
        expect(page.locator("[data-chart] svg").first).to_be_visible()
        # and the chart was redrawn at the last width
        box, svg = page.evaluate("""() => { const el = document.querySelector('[data-chart]');
            return [el.clientWidth, el.querySelector('svg.frappe-chart').getBoundingClientRect().width]; }""")
        assert abs(box - svg) <= 40, (path, box, svg)
    assert not watch.problems, watch.problems
