"""End to end: the team inbox on a phone (Debian's chromium against a real server; see
conftest). An English-speaking agent opens a received e-mail in the inbox and makes a
task of it for a Persian-speaking colleague; the colleague sees the message as theirs,
right to left, and the task in their notifications. Both at 390 px, the list also at
1366 px."""
import jdatetime
import pytest

import lowcode

from tests.e2e.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1366, "height": 900}
COLLEAGUE = "e2e.inbox.colleague@example.com"
COLLEAGUE_PASSWORD = "Isfahan-Bridge-33"


@pytest.fixture
def message(server):
    """A received e-mail about a lead, and a Persian-speaking Sales User colleague."""
    from lowcode.auth import set_password
    with lowcode.site_context(server.site, bench=server.bench) as local:
        if not local.db.exists("User", COLLEAGUE):
            lowcode.get_doc({"doctype": "User", "email": COLLEAGUE, "first_name": "Maryam", "language": "fa",
                             "calendar": "Jalali",
                             "roles": [{"role": "Sales User"}]}).insert(ignore_permissions=True)
            set_password(COLLEAGUE, COLLEAGUE_PASSWORD)
        lead = lowcode.get_doc({"doctype": "Lead", "first_name": "Reza", "company_name": "Inbox Co",
                                "email_id": "reza@example.org"}).insert()
        doc = lowcode.get_doc({"doctype": "Communication", "communication_medium": "Email",
                               "sent_or_received": "Received", "subject": "Where is my order?",
                               "sender": "reza@example.org", "content": "<p>Order 42 has not arrived.</p>",
                               "communication_date": "2099-01-01 10:00:00", "reference_doctype": "Lead",
                               "reference_name": lead.name}).insert(ignore_permissions=True)
        local.db.commit()
        return doc.name, lead.name


def page_width(page):
    return page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")


def test_inbox_to_task_to_colleague_on_a_phone(pages, server, shot, message, db_value):
    name, lead = message
    wide = pages.new(viewport=WIDE)
    wide.goto("/app/inbox")
    assert wide.locator(f".inbox-row[data-name='{name}']").is_visible()
    shot(wide, "inbox-1366")

    agent = pages.new(viewport=PHONE, is_mobile=True, has_touch=True)
    agent.goto("/app/inbox")
    row = agent.locator(f".inbox-row[data-name='{name}']")
    assert row.get_by_text("Unread").is_visible()
    assert page_width(agent) <= PHONE["width"] + 2, "the inbox scrolls sideways on a phone"
    shot(agent, "inbox-390-en")
    with agent.expect_navigation():
        row.locator("a").first.click()
    agent.wait_for_load_state("networkidle")  # the htmx POST that marks it read
    assert int(db_value("Communication", name, "seen")) == 1
    agent.fill("#task-assigned", COLLEAGUE)
    agent.fill("#task-due", "2099-01-05")
    agent.fill("#task-note", "Please call Reza")
    with agent.expect_navigation():
        agent.click("#inbox-task")
    assert agent.locator("#inbox-notice").is_visible()
    assert agent.locator("#inbox-tasks a").first.inner_text() == "Where is my order?"
    assert page_width(agent) <= PHONE["width"] + 2
    shot(agent, "task-made-390-en")

    colleague = pages.new(state=None, viewport=PHONE, is_mobile=True, has_touch=True)
    login(colleague, server.url, COLLEAGUE, COLLEAGUE_PASSWORD)
    colleague.goto("/app/inbox?assigned=mine")
    assert colleague.locator("html").get_attribute("dir") == "rtl"
    assert colleague.get_by_role("heading", name="صندوق تیم").is_visible()
    mine = colleague.locator(f".inbox-row[data-name='{name}']")
    assert mine.is_visible() and "Where is my order?" in mine.inner_text()
    assert page_width(colleague) <= PHONE["width"] + 2, "the Persian inbox scrolls sideways on a phone"
    shot(colleague, "inbox-390-fa")
    # The navbar's bell: the assignment, which opens the task (linked to the lead).
    with lowcode.site_context(server.site, bench=server.bench):
        [task] = lowcode.get_all("Task", filters={"communication": name}, fields=["name", "assigned_to",
                                                                                    "reference_name"])
    assert (task["assigned_to"], task["reference_name"]) == (COLLEAGUE, lead)
    colleague.locator("#notification-count").wait_for()
    colleague.click("#notification-button")
    shot(colleague, "notifications-390-fa", full_page=False)
    with colleague.expect_navigation():
        colleague.locator("#notification-list button").first.click()
    assert colleague.url.endswith(f"/app/task/{task['name']}")
    assert colleague.locator("html").get_attribute("dir") == "rtl"
    assert page_width(colleague) <= PHONE["width"] + 2
    shot(colleague, "task-390-fa")

    # And back, in Persian: the colleague makes a task of the message for the agent, due on a Jalali date.
    colleague.goto(f"/app/inbox/{name}")
    # a Jalali sample date as the hint (the colleague may see it in Persian digits)
    hint = colleague.locator("#task-due").get_attribute("placeholder")
    assert hint.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")) == "1405/01/01", hint
    colleague.fill("#task-assigned", "Administrator")
    colleague.fill("#task-due", "۱۴۷۷/۱۰/۱۲")
    with colleague.expect_navigation():
        colleague.click("#inbox-task")
    assert colleague.get_by_text("وظیفه ساخته شد و به همکارتان خبر داده شد.").is_visible()
    assert page_width(colleague) <= PHONE["width"] + 2
    shot(colleague, "task-made-390-fa")
    with lowcode.site_context(server.site, bench=server.bench):
        back = lowcode.get_all("Task", filters={"communication": name, "assigned_to": "Administrator"},
                               fields=["due_date"])
    assert [str(t["due_date"]) for t in back] == [jdatetime.date(1477, 10, 12).togregorian().isoformat()]
