"""End to end: the desk in a real browser (Debian's chromium through Playwright)
against a real server (uvicorn) on a fresh SQLite site with demo data.

Each test opens its own browser context (Administrator's session, logged in once
through the login form, unless the test logs in itself) and creates the records it
needs, so the tests do not depend on each other's outcome (test 03 does leave its
custom field on Lead for the later ones). Screenshots of each important step go to
test-artifacts/e2e/ (see conftest.py)."""
import datetime
import re
import uuid
import warnings
from urllib.parse import parse_qs, quote, urlparse

import jdatetime
import pytest
from playwright.sync_api import expect

import lowcode

from .conftest import FA_PASSWORD, FA_USER, login

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

PERSIAN_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
#: a Jalali date as the desk shows it (YYYY/MM/DD), in this century of the Jalali calendar
JALALI_DATE = re.compile(r"\b14\d\d/(0[1-9]|1[0-2])/(0[1-9]|[12]\d|3[01])\b")
#: how far the page may be wider than a phone's screen (rounding of sub-pixel layouts)
OVERFLOW_TOLERANCE = 2


def ascii_digits(text):
    return (text or "").translate(PERSIAN_DIGITS)


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:6].upper()}"


#: uncaught errors from known bugs, tolerated (each reported as a warning instead):
#: frappe-charts redraws from its ResizeObserver while its first draw is still under way
#: (the page's layout settling, a resize, a phone turned) and throws; seen in about one
#: load of the home page's workspace charts in seven.
KNOWN_JS_ERRORS = {
    "Failed to execute 'removeChild' on 'Node': The node to be removed is not a child of this node.":
        "known bug: frappe-charts (workspace charts on /app) throws when resized during its first draw",
}


def assert_no_js_errors(pages):
    unknown = []
    for error in pages.js_errors:
        known = next((why for text, why in KNOWN_JS_ERRORS.items() if error.endswith(text)), None)
        if known:
            warnings.warn(f"{known}: {error}")
        else:
            unknown.append(error)
    assert not unknown, "uncaught JavaScript errors:\n" + "\n".join(unknown)


def save_with_ctrl_s(page):
    """Ctrl+S, which the desk binds to the form's Save button; waits for the reload."""
    with page.expect_navigation():
        page.keyboard.press("Control+S")


# -- 1. log in ---------------------------------------------------------------------------------

def test_01_login(pages, server, shot):
    page = pages.new(state=None, viewport={"width": 1280, "height": 900})
    page.goto("/app")
    expect(page).to_have_url(re.compile(r"/login\?redirect-to=(%2F|/)app$"))  # the desk needs a login
    page.fill("#usr", "Administrator")
    page.fill("#pwd", "admin")
    shot(page, "login-page")
    with page.expect_navigation():
        page.click("form[action='/login'] button[type=submit]")
    expect(page).to_have_url(re.compile(r"/app/?$"))
    expect(page.locator("nav.navbar")).to_contain_text("Administrator")
    expect(page.locator("main")).to_contain_text("Lead")  # the home lists the modules' DocTypes
    shot(page, "home")
    assert_no_js_errors(pages)


def test_01b_wrong_password_is_refused(pages, shot):
    page = pages.new(state=None)
    page.goto("/login")
    page.fill("#usr", "Administrator")
    page.fill("#pwd", "not-the-password")
    with page.expect_navigation():
        page.click("form[action='/login'] button[type=submit]")
    expect(page.get_by_role("alert")).to_be_visible()
    assert "/app" not in urlparse(page.url).path
    shot(page, "refused")


# -- 2. create a record ------------------------------------------------------------------------

def test_02_create_lead_with_ctrl_s(page, pages, shot, db_value):
    company = unique("Kish Trading")
    page.goto("/app/lead/new")
    page.fill("#f-first_name", "Ava")
    page.fill("#f-company_name", company)
    page.fill("#f-mobile_no", "09121234567")
    shot(page, "filled")
    save_with_ctrl_s(page)
    expect(page).to_have_url(re.compile(r"/app/lead/LEAD-[\w.-]+(\?notice=1)?$"))  # notice: an assignment rule's
    expect(page.locator("#form-error")).to_have_count(0)
    name = urlparse(page.url).path.rsplit("/", 1)[1]
    expect(page.locator("#f-first_name")).to_have_value("Ava")
    expect(page.locator("#f-company_name")).to_have_value(company)
    expect(page.locator("#f-mobile_no")).to_have_value("09121234567")
    expect(page.locator(".breadcrumb-item.active")).to_contain_text("Ava")
    shot(page, "saved")
    assert db_value("Lead", name, "company_name") == company
    assert db_value("Lead", name, "mobile_no") == "09121234567"
    assert_no_js_errors(pages)


def test_02b_invalid_mobile_is_refused_on_the_form(page, pages, shot):
    page.goto("/app/lead/new")
    page.fill("#f-first_name", "Bad")
    page.fill("#f-mobile_no", "0912")
    save_with_ctrl_s(page)
    expect(page.locator("#form-error")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/app/lead/new$"))
    expect(page.locator("#f-first_name")).to_have_value("Bad")  # the input is kept
    shot(page, "refused")
    assert_no_js_errors(pages)


# -- 3. a custom field -------------------------------------------------------------------------

def test_03_custom_field_form_and_list_filter(page, pages, shot, make_lead):
    # Customize Form: add a Data field "Loyalty Code", offered as a list filter.
    page.goto("/app/customize-form?doctype=Lead")
    expect(page.locator("#field-editor")).to_be_visible()
    page.locator("[data-add-field]").last.click()  # the form builder's "+ Add field" of the last column
    dialog = page.locator("#new-field-dialog")
    dialog.locator("#nf-label").fill("Loyalty Code")
    dialog.locator("#nf-fieldtype").select_option("Data")
    dialog.locator("#nf-add").click()
    expect(dialog).to_be_hidden()
    row = page.locator("#field-list li.field-row:focus-within")  # the new field's card, focused
    key = row.get_attribute("data-key")
    expect(page.locator(f"#f-{key}-label")).to_have_value("Loyalty Code")
    row.locator("details > summary").click()  # its other properties
    page.check(f"#f-{key}-in_standard_filter")
    page.check(f"#f-{key}-in_list_view")
    row.scroll_into_view_if_needed()
    shot(page, "customize-new-field", full_page=False)
    with page.expect_navigation():
        page.click("#save-button")
    expect(page.locator("#form-error")).to_have_count(0)
    expect(page.get_by_role("status")).to_contain_text("Saved")
    fieldname = "custom_loyalty_code"  # the label, scrubbed, with the custom_ prefix
    added = page.locator(f'#field-list li.field-row[data-fieldname="{fieldname}"]')
    expect(added).to_have_count(1)
    expect(added).to_contain_text("Custom")
    added.scroll_into_view_if_needed()
    shot(page, "customize-saved", full_page=False)

    # The form has the field: fill it and save.
    name = make_lead(first_name="Loyal", company_name=unique("Loyal Co"))
    other = make_lead(first_name="Disloyal", company_name=unique("Other Co"))
    code = unique("LC")
    page.goto(f"/app/lead/{name}")
    field = page.locator(f"#f-{fieldname}")
    expect(page.locator(f'label[for="f-{fieldname}"]')).to_have_text("Loyalty Code")
    field.fill(code)
    save_with_ctrl_s(page)
    expect(page.locator("#form-error")).to_have_count(0)
    expect(page.locator(f"#f-{fieldname}")).to_have_value(code)
    shot(page, "lead-with-custom-field")
    page.goto(f"/app/lead/{other}")
    page.fill(f"#f-{fieldname}", code + "-X")  # a near miss the filter must not match
    save_with_ctrl_s(page)
    expect(page.locator("#form-error")).to_have_count(0)

    # The list filtered by the query string shows exactly that lead.
    page.goto(f"/app/lead?{fieldname}={quote(code)}")
    rows = page.locator("#list-results tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td a").first).to_have_text(name)
    expect(rows.first).to_contain_text(code)  # in list view: a column of its own
    shot(page, "list-filtered-by-url")

    # The list's own filter bar has the field too (in_standard_filter).
    page.goto("/app/lead")
    expect(page.locator("#list-results tbody tr")).not_to_have_count(1)
    box = page.locator(f'#list-filters input[name="{fieldname}"]')
    with page.expect_response(lambda r: "/app/lead" in r.url and r.request.headers.get("hx-request") == "true"):
        box.fill(code)
        box.press("Tab")  # htmx filters on change
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td a").first).to_have_text(name)
    assert f"{fieldname}={code}" in page.url  # hx-push-url: the filtered list is a link
    shot(page, "list-filtered-by-filter-bar")
    assert_no_js_errors(pages)




def test_03b_saving_customize_form_keeps_select_options(page, pages, shot, make_lead, db_value):
    page.goto("/app/customize-form?doctype=Lead")
    with page.expect_navigation():
        page.click("#save-button")  # no change at all
    expect(page.get_by_role("status")).to_contain_text("Saved")
    name = make_lead(first_name=unique("Untouched"), company_name="Blank Salutation Co")
    page.goto(f"/app/lead/{name}")
    shot(page, "lead-form-after-customize-save", full_page=False)
    save_with_ctrl_s(page)  # the user changes nothing
    expect(page.locator("#form-error")).to_have_count(0)
    assert (db_value("Lead", name, "salutation"), db_value("Lead", name, "no_of_employees")) == (None, None)


# -- 4. kanban ---------------------------------------------------------------------------------

def drag(page, source, target):
    """A real mouse drag (SortableJS listens to native drag events in Chromium): press
    on the card, move in steps to the middle of the target column, release."""
    source.scroll_into_view_if_needed()
    box = source.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 12)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 5, box["y"] + 20, steps=5)
    tbox = target.bounding_box()
    # Aim at the middle of the part of the column that is on screen (the board scrolls).
    left, right = max(tbox["x"], 0), min(tbox["x"] + tbox["width"], page.viewport_size["width"])
    assert right - left > 40, f"the target column is off screen: {tbox}"
    x, y = (left + right) / 2, tbox["y"] + min(tbox["height"] / 2, 60)
    page.mouse.move(x, y, steps=20)
    page.mouse.move(x + 2, y + 2, steps=5)
    page.mouse.up()




def column(page, value):
    """The first board column for ``value`` (its card list)."""
    return page.locator(f'.kanban-cards[data-value="{value}"]').first


def card_in(page, value, name):
    return page.locator(f'.kanban-cards[data-value="{value}"] .kanban-card[data-name="{name}"]')


def duplicate_columns(page):
    values = page.eval_on_selector_all(".kanban-cards", "els => els.map(e => e.dataset.value)")
    return sorted({v for v in values if values.count(v) > 1})


def test_04_kanban_drag_runs_the_workflow(page, pages, shot, make_lead, db_value):
    title = unique("Kanban")
    name = make_lead(first_name=title, company_name="Drag Co")
    page.goto("/app/lead/view/kanban?field=status")
    expect(card_in(page, "New", name).first).to_be_visible()
    duplicates = duplicate_columns(page)
    new_count = column(page, "New").locator("xpath=..").locator("[data-count]")
    contacted_count = column(page, "Contacted").locator("xpath=..").locator("[data-count]")
    before = (int(new_count.inner_text()), int(contacted_count.inner_text()))
    shot(page, "before-drag")

    card = column(page, "New").locator(f'.kanban-card[data-name="{name}"]')
    with page.expect_response(lambda r: r.url.endswith("/view/kanban/move")) as moved:
        drag(page, card.locator(".card-body > div.small").first, column(page, "Contacted"))
    assert moved.value.ok, moved.value.text()
    assert moved.value.json()["value"] == "Contacted"
    expect(column(page, "Contacted").locator(f'.kanban-card[data-name="{name}"]')).to_have_count(1)
    expect(column(page, "New").locator(f'.kanban-card[data-name="{name}"]')).to_have_count(0)
    expect(page.locator("#kanban-message")).to_be_hidden()
    expect(new_count).to_have_text(str(before[0] - 1))
    expect(contacted_count).to_have_text(str(before[1] + 1))
    shot(page, "after-drag")

    page.reload()
    expect(card_in(page, "Contacted", name).first).to_be_visible()
    expect(card_in(page, "New", name)).to_have_count(0)
    assert db_value("Lead", name, "status") == "Contacted"
    page.goto(f"/app/lead/{name}")
    expect(page.locator("#workflow-state")).to_have_text("Contacted")
    expect(page.locator("#timeline")).to_contain_text("Contact: New → Contacted")  # a workflow action, not a plain edit
    assert_no_js_errors(pages)
    assert not duplicates, f"kanban columns shown more than once: {duplicates}"


def test_04b_kanban_move_to_list_offers_only_allowed_moves_and_the_server_refuses_others(page, pages, shot, make_lead,
                                                                                       db_value):
    """The card's "Move to" list (the keyboard and small-screen way) offers only the moves a
    transition allows; a move forged past it is refused by the same server check."""
    name = make_lead(first_name=unique("Stuck"), company_name="Drag Co")
    page.goto("/app/lead/view/kanban?field=status")
    card = column(page, "New").locator(f'.kanban-card[data-name="{name}"]')
    offered = card.locator("select[data-move] option").evaluate_all("(os) => os.map((o) => o.value)")
    assert "New" in offered and "Converted" not in offered, offered
    answer = page.evaluate("""async (name) => {
        const board = document.querySelector("[data-move-url]");
        const card = document.querySelector(`.kanban-card[data-name="${name}"]`);
        const body = new URLSearchParams({ name, field: board.dataset.field, value: "Converted",
                                           modified: card.dataset.modified });
        const r = await fetch(board.dataset.moveUrl, { method: "POST", body, credentials: "same-origin",
            headers: { "X-Frappe-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content,
                       Accept: "application/json" } });
        return { status: r.status, text: await r.text() };
    }""", name)
    assert answer["status"] >= 400 and "No action you may take" in answer["text"], answer
    shot(page, "refused")
    assert db_value("Lead", name, "status") == "New"
    assert_no_js_errors(pages)


# -- 5. workflow from the form -----------------------------------------------------------------

def test_05_workflow_action_from_the_form(page, pages, shot, make_lead, db_value):
    name = make_lead(first_name=unique("Flow"), company_name="Workflow Co")
    page.goto(f"/app/lead/{name}")
    expect(page.locator("#workflow-state")).to_have_text("New")
    actions = page.locator('#doc-form button[name="_action"][value^="workflow:"]')
    offered = actions.all_inner_texts()
    action = page.locator('#doc-form button[name="_action"][value="workflow:Contact"]').first
    expect(action).to_have_text("Contact")
    shot(page, "before-action", full_page=False)
    with page.expect_navigation():
        action.click()
    expect(page.locator("#form-error")).to_have_count(0)
    expect(page.locator("#workflow-state")).to_have_text("Contacted")
    timeline = page.locator("#timeline")
    entry = timeline.locator("li", has_text="Contact: New → Contacted")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("Workflow")
    expect(entry).to_contain_text("Administrator")
    # The next actions are Contacted's: Qualify and Disqualify, and no more Contact.
    expect(page.locator('#doc-form button[value="workflow:Qualify"]').first).to_be_visible()
    expect(page.locator('#doc-form button[value="workflow:Contact"]')).to_have_count(0)
    timeline.scroll_into_view_if_needed()
    shot(page, "after-action")
    assert db_value("Lead", name, "status") == "Contacted"
    assert_no_js_errors(pages)
    assert len(offered) == len(set(offered)), f"workflow buttons repeated on a New lead: {offered}"


# -- 6. report builder -------------------------------------------------------------------------

def wait_for_bars(page, n):
    """frappe-charts draws an <svg> and then animates its bars up from zero height:
    wait until all ``n`` bars stand (and the animation is over) before looking."""
    page.wait_for_function("""n => {
        const bars = [...document.querySelectorAll('#report-chart svg rect.bar')];
        return bars.length === n && bars.every(b => parseFloat(b.getAttribute('height')) > 0);
    }""", arg=n)
    page.wait_for_timeout(600)


def test_06_grouped_report_with_chart_saved_and_reloaded(page, pages, shot, server):
    page.goto("/app/lead/view/report")
    expect(page.locator("#report-settings")).to_be_visible()
    page.select_option("#group-by", "status")
    page.select_option("#aggregate", "count")
    page.select_option("#chart-type", "bar")
    with page.expect_navigation():
        page.click("#report-settings button.btn-primary")
    expect(page.locator("#report-error")).to_have_count(0)
    expect(page.locator("#report-chart svg").first).to_be_visible()
    # One row per status, with its count; the counts add up to the total.
    rows = page.locator("#report-table tbody tr")
    statuses = [ascii_digits(t).strip() for t in rows.locator("td:first-child").all_inner_texts()]
    counts = [int(ascii_digits(t).strip()) for t in rows.locator("td:nth-child(2)").all_inner_texts()]
    assert "New" in statuses and len(statuses) == len(set(statuses)) >= 2, statuses
    with lowcode.site_context(server.site, bench=server.bench) as local:
        total = local.db.sql("SELECT COUNT(*) FROM `tabLead`")[0][0]
        by_status = dict(local.db.sql("SELECT `status`, COUNT(*) FROM `tabLead` GROUP BY `status`"))
    assert sum(counts) == total
    assert dict(zip(statuses, counts)) == by_status
    wait_for_bars(page, len(statuses))
    shot(page, "grouped-with-chart")

    report_name = unique("Leads by status")
    page.fill("#report-name-input", report_name)
    with page.expect_navigation():
        page.click("#report-save button.btn-primary")
    expect(page.locator("#save-error")).to_have_count(0)
    saved = parse_qs(urlparse(page.url).query).get("report", [None])[0]
    assert saved, f"saving did not open the saved report: {page.url}"
    expect(page.locator("#report-name")).to_have_text(report_name)

    # Reload it from its link, in a fresh page: same settings, same chart.
    page.goto("/app/lead")
    page.goto(f"/app/lead/view/report?report={quote(saved)}")
    expect(page.locator("#report-name")).to_have_text(report_name)
    expect(page.locator("#group-by")).to_have_value("status")
    expect(page.locator("#chart-type")).to_have_value("bar")
    wait_for_bars(page, len(statuses))
    assert [ascii_digits(t).strip() for t in rows.locator("td:first-child").all_inner_texts()] == statuses
    page.click("text=Saved reports")
    expect(page.locator("#saved-reports")).to_contain_text(report_name)
    shot(page, "reloaded-saved-report")
    assert_no_js_errors(pages)


def test_06b_chart_labels_and_tooltips_are_text(page, pages, shot, make_lead):
    """A lead whose company is named like HTML: in the grouped report's chart (axis,
    legend, tooltip) it is shown as text and its handler never runs, however the
    viewer moves over the chart."""
    payload = '<img src=x onerror="window.__xss=1">'
    tag = unique("XSS")
    make_lead(company_name=f"{payload} {tag}")
    make_lead(company_name=f"Plain {tag}")
    import json
    for chart, marks in (("bar", "rect.bar"), ("pie", "path")):
        params = {"group_by": "company_name", "aggregate": "count", "chart": chart, "apply": "1",
                  "filters": json.dumps([["company_name", "like", f"%{tag}%"]])}
        page.goto("/app/lead/view/report?" + "&".join(f"{k}={quote(v)}" for k, v in params.items()))
        if chart == "bar":
            wait_for_bars(page, 2)
        else:
            expect(page.locator(f"#report-chart svg {marks}").first).to_be_visible()
            page.wait_for_timeout(800)
        for mark in page.locator(f"#report-chart svg {marks}").all():
            mark.hover(force=True)
            page.wait_for_timeout(150)
        # the tooltip shows the label as text
        assert page.evaluate("window.__xss") is None, chart
        assert page.locator("#report-chart img").count() == 0, chart
        if chart == "bar":
            # axis labels are SVG text: the name reads as written
            assert "<img" in page.evaluate("document.querySelector('#report-chart svg').textContent")
        page.mouse.move(5, 5)
    shot(page, "escaped-chart-labels")
    assert_no_js_errors(pages)


# -- 7. Persian, right to left, Jalali ---------------------------------------------------------

def set_language(page, language, calendar):
    page.goto("/app/my-settings")
    page.select_option("#language", language)
    page.select_option("#calendar", calendar)
    with page.expect_navigation():
        page.locator("main form button.btn-primary").click()
    expect(page).to_have_url(re.compile(r"/app/my-settings\?saved=1$"))


def in_persian(text):
    """The desk's own catalog's Persian for an English message."""
    from django.utils import translation
    with translation.override("fa"):
        return translation.gettext(text)


def untranslated(page, selector, english, attribute=None):
    """[(selector, shown)] when the element does not show the Persian for ``english``."""
    loc = page.locator(selector).first
    shown = (loc.get_attribute(attribute) if attribute else loc.inner_text()).strip()
    return [] if shown == in_persian(english) != english else [(selector, shown)]


def test_07_persian_rtl_and_jalali(pages, server, shot):
    page = pages.new(state=None, viewport={"width": 1280, "height": 900})
    login(page, server.url, FA_USER, FA_PASSWORD)
    with lowcode.site_context(server.site, bench=server.bench) as local:
        task, due = local.db.sql("SELECT `name`, `due_date` FROM `tabTask` WHERE `due_date` IS NOT NULL "
                                 "ORDER BY `name` LIMIT 1")[0]
    try:
        set_language(page, "fa", "Jalali")
        shot(page, "settings-saved")
        assert page.evaluate("document.documentElement.dir") == "rtl"
        assert page.evaluate("document.documentElement.lang") == "fa"
        # Bootstrap's RTL build is the stylesheet in use (loaded, rules parsed), not the LTR one.
        sheets = page.evaluate("""[...document.styleSheets].filter(s => s.href).map(s => {
            let rules = -1; try { rules = s.cssRules.length; } catch (e) {}
            return {href: s.href, rules}; })""")
        rtl = [s for s in sheets if "bootstrap.rtl" in s["href"]]
        assert rtl and rtl[0]["rules"] > 100, sheets
        assert not [s for s in sheets if s["href"].endswith("/bootstrap.css")], sheets
        # RTL layout really applies: the navbar's brand sits on the right.
        brand = page.locator(".navbar-brand").bounding_box()
        assert brand["x"] > 1280 / 2, brand
        missing = untranslated(page, "nav input[name=q]", "Search everything", attribute="placeholder")
        missing += untranslated(page, "main h1", "My settings")

        # The list's Modified column: Jalali dates.
        page.goto("/app/task")
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        modified = [ascii_digits(t) for t in page.locator("#list-results tbody tr td:last-child").all_inner_texts()]
        assert modified and all(JALALI_DATE.search(t) for t in modified), modified
        shot(page, "task-list")
        missing += untranslated(page, "main a.btn-primary", "New")

        # A Date field in a form: the Task's due date, in Jalali.
        page.goto(f"/app/task/{quote(task)}")
        expected = jdatetime.date.fromgregorian(date=datetime.date.fromisoformat(str(due)[:10])).strftime("%Y/%m/%d")
        shown = ascii_digits(page.locator("#f-due_date").input_value())
        assert shown == expected and JALALI_DATE.search(shown), (shown, expected, due)
        shot(page, "task-form")
        missing += untranslated(page, "#save-button", "Save")

        page.goto("/app/lead")
        shot(page, "lead-list")
        page.goto("/app/lead/new")
        shot(page, "lead-new")
        page.goto("/app/lead/view/kanban?field=status")
        shot(page, "lead-kanban")
        page.goto("/app")
        shot(page, "home")
        assert not missing, f"English left on Persian pages: {missing}"
    finally:
        set_language(page, "en", "Gregorian")
    assert page.evaluate("document.documentElement.dir") == "ltr"
    page.goto("/app/task")
    modified = page.locator("#list-results tbody tr td:last-child").first.inner_text()
    assert re.search(r"\b20\d\d-\d\d-\d\d\b", modified), modified
    assert_no_js_errors(pages)


# -- 8. a phone ---------------------------------------------------------------------------------

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}


def page_width(page):
    return page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")


def overflowing(page):
    """Elements reaching past the right edge of the screen (outside any scrolling box)."""
    return page.evaluate("""() => {
        const W = document.documentElement.clientWidth, out = [];
        for (const el of document.querySelectorAll('body *')) {
            const r = el.getBoundingClientRect();
            if (r.width && r.right > W + 0.5) out.push(`${el.tagName.toLowerCase()}.${[...el.classList].join('.')}`
                                                       + ` ${Math.round(r.left)}..${Math.round(r.right)}`);
        }
        return out; }""")




def check_width(page, what, problems):
    width = page_width(page)
    if width > 390 + OVERFLOW_TOLERANCE:
        problems.append((what, width, overflowing(page)))


def test_08_phone_list_and_form(pages, shot, make_lead, db_value):
    page = pages.new(**PHONE)
    name = make_lead(first_name=unique("Phone"), company_name="Mobile Co")

    problems = []  # (page, its width, what sticks out): checked at the end, after the save
    page.goto("/app/lead")
    expect(page.locator("#list-results tbody tr").first).to_be_visible()
    shot(page, "list")
    check_width(page, "list", problems)

    page.goto(f"/app/lead/{name}")
    save = page.locator("#save-button")
    expect(save).to_be_visible()
    expect(save).to_be_in_viewport()  # no scrolling needed to find it
    shot(page, "form", full_page=False)
    check_width(page, "form", problems)

    page.locator("#f-city").tap()
    page.fill("#f-city", "Qom")
    shot(page, "form-edited", full_page=False)
    with page.expect_navigation():
        save.tap()
    expect(page.locator("#form-error")).to_have_count(0)
    expect(page.locator("#f-city")).to_have_value("Qom")
    expect(page.locator("#save-button")).to_be_visible()
    shot(page, "form-saved")
    check_width(page, "saved form", problems)
    assert db_value("Lead", name, "city") == "Qom"
    assert_no_js_errors(pages)
    assert not problems, f"wider than a 390px phone: {problems}"


# -- the web app manifest ----------------------------------------------------------------------

def test_09_web_app_manifest(page, pages):
    page.goto("/app")
    link = page.locator('link[rel="manifest"]')
    expect(link).to_have_attribute("href", "/manifest.webmanifest")
    r = page.request.get("/manifest.webmanifest")
    assert r.ok
    assert "json" in r.headers["content-type"]
    manifest = r.json()
    assert manifest["start_url"] == "/app"
    assert manifest["name"] and manifest["display"] == "standalone"
    icon = page.request.get(manifest["icons"][0]["src"])
    assert icon.ok and "svg" in icon.headers["content-type"]
    assert_no_js_errors(pages)
