"""End to end: the desk's date picker (static/datepicker.js) on a Date field, in Persian
with the Jalali calendar and Persian digits on a 390 px phone, and in English with the
Gregorian calendar at 1366 px driven from the keyboard; and a workspace chart's axis in
Jalali dates."""
import datetime

import jdatetime
import pytest
from playwright.sync_api import expect

import lowcode

from .conftest import FA_PASSWORD, FA_USER, login
from .test_desk_e2e import assert_no_js_errors, unique

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1366, "height": 900}}
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
LATIN = str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")


def set_prefs(server, user, language, calendar, digits):
    with lowcode.site_context(server.site, bench=server.bench) as local:
        local.db.sql("UPDATE `tabUser` SET `language`=%s, `calendar`=%s, `use_local_digits`=%s WHERE `name`=%s",
                     (language, calendar, digits, user))
        local.db.commit()


def test_jalali_picker_in_persian_on_a_phone(pages, server, shot, make_lead, db_value):
    set_prefs(server, FA_USER, "en", "Gregorian", 0)
    try:
        page = pages.new(state=None, **PHONE)
        login(page, server.url, FA_USER, FA_PASSWORD)
        # choosing Persian brings the Jalali calendar and Persian digits
        page.goto("/app/my-settings")
        page.select_option("#language", "fa")
        expect(page.locator("#calendar")).to_have_value("Jalali")
        expect(page.locator("#use_local_digits")).to_be_checked()
        with page.expect_navigation():
            page.locator("main form button.btn-primary").tap()
        with lowcode.site_context(server.site, bench=server.bench) as local:
            assert local.db.sql("SELECT `language`, `calendar`, `use_local_digits` FROM `tabUser` WHERE `name`=%s",
                                (FA_USER,))[0] == ("fa", "Jalali", 1)
        name = make_lead(first_name=unique("Picker"), lead_date="2026-12-05")  # 1405/09/14
        page.goto(f"/app/lead/{name}")
        field = page.locator("#f-lead_date")
        expect(field).to_have_value("۱۴۰۵/۰۹/۱۴")
        field.tap()
        picker = page.locator(".dp[role=dialog]")
        expect(picker).to_be_visible()
        # Persian month and year, Saturday first, the stored day chosen
        expect(picker.locator("[data-dp-title]")).to_have_text("آذر ۱۴۰۵")
        assert picker.locator("[role=columnheader]").first.inner_text().strip() == "ش"
        expect(picker.locator('[data-dp-day="14"]')).to_have_attribute("aria-pressed", "true")
        expect(picker.locator('[data-dp-day="14"]')).to_have_text("۱۴")
        box = picker.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box  # on the screen
        shot(page, "fa-picker-open", full_page=False)

        picker.get_by_role("button", name="ماه آینده").tap()  # next month: Dey
        expect(picker.locator("[data-dp-title]")).to_have_text("دی ۱۴۰۵")
        picker.locator('[data-dp-day="3"]').tap()
        expect(picker).to_have_count(0)
        expect(field).to_have_value("۱۴۰۵/۱۰/۰۳")
        with page.expect_navigation():
            page.locator("#save-button").tap()
        expect(page.locator("#form-error")).to_have_count(0)
        assert str(db_value("Lead", name, "lead_date")) == jdatetime.date(1405, 10, 3).togregorian().isoformat()
        expect(page.locator("#f-lead_date")).to_have_value("۱۴۰۵/۱۰/۰۳")

        # Escape closes it; typing Latin digits moves the open month
        page.locator("#f-lead_date").tap()
        expect(picker).to_be_visible()
        page.keyboard.press("Escape")
        expect(picker).to_have_count(0)
        expect(page.locator("#f-lead_date")).to_be_focused()
        page.locator("#f-lead_date").tap()
        page.locator("#f-lead_date").fill("")
        page.locator("#f-lead_date").press_sequentially("1404/1/20")
        expect(picker.locator("[data-dp-title]")).to_have_text("فروردین ۱۴۰۴")
        expect(picker.locator('[data-dp-day="20"]')).to_have_attribute("aria-pressed", "true")
        shot(page, "fa-picker-typed", full_page=False)

        # a workspace chart's axis: Jalali dates
        page.goto("/app")
        chart = page.locator("[data-dashboard-chart] [data-chart]").first
        expect(chart).to_be_attached()
        labels = page.evaluate("JSON.parse(document.querySelector('[data-dashboard-chart] [data-chart]')"
                               ".dataset.chart).labels")
        assert labels and all(str(label).translate(LATIN)[:2] in ("13", "14") for label in labels), labels
        shot(page, "fa-home-chart")
        assert_no_js_errors(pages)
    finally:
        set_prefs(server, FA_USER, "en", "Gregorian", 0)


def test_gregorian_picker_in_english_with_the_keyboard(pages, make_lead, db_value, shot):
    page = pages.new(**DESKTOP)
    name = make_lead(first_name=unique("Keys"), lead_date="2026-12-05")
    page.goto(f"/app/lead/{name}")
    field = page.locator("#f-lead_date")
    expect(field).to_have_value("2026-12-05")
    picker = page.locator(".dp[role=dialog]")
    field.focus()  # focus alone (tabbing through the form) leaves the form uncovered
    page.wait_for_timeout(200)
    expect(picker).to_have_count(0)
    field.click()
    expect(picker).to_be_visible()
    expect(picker.locator("[data-dp-title]")).to_have_text("December 2026")
    assert picker.locator("[role=columnheader]").first.inner_text().strip() == "S"  # Sunday first
    # typing moves the picker; the keyboard walks the grid
    field.fill("")
    field.press_sequentially("2027/3/9")
    expect(picker.locator("[data-dp-title]")).to_have_text("March 2027")
    expect(picker.locator('[data-dp-day="9"]')).to_have_attribute("aria-pressed", "true")
    field.press("Alt+ArrowDown")
    expect(picker.locator('[data-dp-day="9"]')).to_be_focused()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    expect(picker.locator('[data-dp-day="17"]')).to_be_focused()
    expect(picker.locator('[data-dp-day="17"]')).to_have_attribute("aria-label", "Wednesday, March 17, 2027")
    shot(page, "en-picker-keyboard", full_page=False)
    page.keyboard.press("Enter")
    expect(picker).to_have_count(0)
    expect(field).to_have_value("2027-03-17")
    expect(field).to_be_focused()
    with page.expect_navigation():
        page.keyboard.press("Control+s")
    expect(page.locator("#form-error")).to_have_count(0)
    assert str(db_value("Lead", name, "lead_date")) == "2027-03-17"

    # Today and Clear
    page.locator("#f-lead_date").click()
    picker.get_by_role("button", name="Today").click()
    expect(page.locator("#f-lead_date")).to_have_value(datetime.date.today().isoformat())
    page.locator("#f-lead_date").click()
    picker.get_by_role("button", name="Clear").click()
    expect(page.locator("#f-lead_date")).to_have_value("")

    # an input arriving later (htmx, a dialog) gets the picker through the delegated events
    page.evaluate("""document.querySelector('main').insertAdjacentHTML('afterbegin',
        '<div><input id="late-date" class="form-control" data-datepicker="date" value="2026-01-31"></div>')""")
    page.locator("#late-date").click()
    expect(page.locator("#late-date-picker [data-dp-title]")).to_have_text("January 2026")
    page.locator('#late-date-picker [data-dp="nm"]').click()
    page.locator('#late-date-picker [data-dp-day="28"]').click()
    expect(page.locator("#late-date")).to_have_value("2026-02-28")

    # a Datetime: the time input of the picker, then a day
    page.goto("/app/event/new")
    page.fill("#f-subject", unique("Meeting"))
    starts = page.locator("#f-starts_on")
    starts.click()
    picker.locator("[data-dp-time]").fill("14:30")
    picker.locator('[data-dp-day="10"]').click()
    day = datetime.date.today().replace(day=10)
    expect(starts).to_have_value(f"{day.isoformat()} 14:30")
    with page.expect_navigation():
        page.locator("#save-button").click()
    expect(page.locator("#form-error")).to_have_count(0)
    event = page.url.rstrip("/").rsplit("/", 1)[1]
    assert str(db_value("Event", event, "starts_on"))[:16] == f"{day.isoformat()} 14:30"
    assert_no_js_errors(pages)

