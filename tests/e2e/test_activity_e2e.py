"""End to end: the activity panel on a lead (Debian's chromium against a real server;
see conftest). An English-speaking salesperson at 1366 px logs a call (its dialog starts
with the lead's mobile) and adds a note, a Persian-speaking salesperson at 390 px makes
a task with a Jalali due date; each shows in the lead's timeline without a reload, and a
note without a title is refused inside its dialog."""
import re

import jdatetime
import pytest
from playwright.sync_api import expect

import lowcode

from tests.e2e.conftest import desk_user, login

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1366, "height": 900}
REP, REP_FA = "e2e.activity.rep@example.com", "e2e.activity.fa@example.com"
PASSWORD = "Shiraz-Garden-47"
MOBILE = "09121234567"


@pytest.fixture
def leads(server):
    """Two salespeople (English; Persian with the Jalali calendar) and a lead of each."""
    with lowcode.site_context(server.site, bench=server.bench) as local:
        desk_user(REP, "Sam", PASSWORD, language="en", calendar="Gregorian")
        desk_user(REP_FA, "Parvin", PASSWORD, language="fa", calendar="Jalali")
        names = []
        for owner, first in ((REP, "Nima"), (REP_FA, "Sahar")):
            lowcode.set_user(owner)
            names.append(lowcode.get_doc({"doctype": "Lead", "first_name": first, "company_name": "Activity Co",
                                          "mobile_no": MOBILE}).insert().name)
        lowcode.set_user("Administrator")
        local.db.commit()
        return names


def linked(server, doctype, lead, field):
    with lowcode.site_context(server.site, bench=server.bench):
        return lowcode.get_all(doctype, filters={"reference_doctype": "Lead", "reference_name": lead}, pluck=field)


def open_lead(page, lead):
    page.goto(f"/app/lead/{lead}")
    page.locator("#activity-panel [data-activity]").first.wait_for()
    page.evaluate("window.__notReloaded = true")  # gone if the page reloads


def save_dialog(page, kind):
    page.locator(f"#activity-{kind} button.btn-primary").click()


def page_width(page):
    return page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")


def test_log_a_call_add_a_note_and_a_task_from_the_lead(pages, server, shot, leads):
    lead, lead_fa = leads
    rep = pages.new(state=None, viewport=WIDE)
    login(rep, server.url, REP, PASSWORD)
    open_lead(rep, lead)
    for label in ("Log a call", "Add a note", "New task", "Schedule a meeting", "Send SMS"):
        assert rep.locator("#activity-panel [role=toolbar]").get_by_text(label, exact=True).is_visible(), label
    rep.click("[data-activity=call]")
    dialog = rep.locator("#activity-call")
    dialog.locator("#f-act-call-outcome").wait_for(state="visible")
    expect(dialog.locator("#f-act-call-direction")).to_be_focused()  # the dialog starts in its first field
    assert dialog.locator("#f-act-call-phone").input_value() == MOBILE  # prefilled from the lead
    dialog.locator("#f-act-call-outcome").select_option("No Answer")
    dialog.locator("#f-act-call-notes").fill("Try again tomorrow")
    shot(rep, "call-dialog-1366-en", full_page=False)
    save_dialog(rep, "call")
    dialog.wait_for(state="hidden")
    timeline = rep.locator("#timeline")
    assert timeline.get_by_text("No Answer").first.is_visible()
    assert linked(server, "Call Log", lead, "outcome") == ["No Answer"]

    # A note without its title is refused in the dialog, naming the field; then saved.
    rep.click("[data-activity=note]")
    note = rep.locator("#activity-note")
    note.locator("#f-act-note-title").wait_for(state="visible")
    note.locator("#f-act-note-content").fill("Budget approved in May")
    save_dialog(rep, "note")
    # Auto-waiting checks: the error answer is swapped in, then the field it names is marked.
    expect(note.locator("[data-activity-error]")).to_contain_text("Title")
    expect(note.locator("#f-act-note-title")).to_have_class(re.compile(r"\bis-invalid\b"))
    assert not linked(server, "Note", lead, "name")
    note.locator("#f-act-note-title").fill("Budget")
    save_dialog(rep, "note")
    note.wait_for(state="hidden")
    expect(rep.locator(".modal-backdrop")).to_have_count(0)  # the page is usable again
    assert timeline.get_by_text("Budget", exact=True).is_visible()
    assert rep.evaluate("window.__notReloaded === true"), "the page reloaded"
    shot(rep, "timeline-1366-en")

    fa = pages.new(state=None, viewport=PHONE, is_mobile=True, has_touch=True)
    login(fa, server.url, REP_FA, PASSWORD)
    open_lead(fa, lead_fa)
    assert fa.locator("html").get_attribute("dir") == "rtl"
    fa.get_by_role("button", name="کار جدید").click()
    task = fa.locator("#activity-task")
    task.locator("#f-act-task-subject").wait_for(state="visible")
    task.locator("#f-act-task-subject").fill("ارسال پیش‌فاکتور")
    task.locator("#f-act-task-due_date").fill("۱۴۰۵/۱۰/۰۱")
    assert page_width(fa) <= PHONE["width"] + 2, "the dialog scrolls sideways on a phone"
    shot(fa, "task-dialog-390-fa", full_page=False)
    save_dialog(fa, "task")
    task.wait_for(state="hidden")
    expect(fa.locator(".modal-backdrop")).to_have_count(0)
    assert fa.locator("#timeline").get_by_text("ارسال پیش‌فاکتور").first.is_visible()
    assert fa.evaluate("window.__notReloaded === true"), "the page reloaded"
    assert [str(d) for d in linked(server, "Task", lead_fa, "due_date")] == \
        [jdatetime.date(1405, 10, 1).togregorian().isoformat()]
    assert page_width(fa) <= PHONE["width"] + 2
    shot(fa, "timeline-390-fa")
    assert not pages.js_errors, pages.js_errors
