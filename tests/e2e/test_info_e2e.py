"""End to end (issue 10, the information centre): a salesperson finds the announcements
meant for their role on the home page and opens one, which marks it read; its author
sees who read it (English, 1366 px and the home on a phone). A Persian user sees an
announcement on the home page and browses the document archive on a phone (390 px): a
folder of another role is hidden, a file is uploaded into a folder, found by name and
previewed; the folder at 1366 px too."""
import re
import uuid

import pytest
from playwright.sync_api import expect

import lowcode

from .conftest import login
from .test_desk_e2e import PHONE, OVERFLOW_TOLERANCE, assert_no_js_errors, in_persian, overflowing, page_width

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

WIDE = {"viewport": {"width": 1366, "height": 900}}
PASSWORD = "Persepolis-Column-48"


def make_user(server, email, roles, language="en"):
    from lowcode.auth import set_password
    with lowcode.site_context(server.site, bench=server.bench) as local:
        for role in roles:
            if not local.db.exists("Role", role):
                lowcode.get_doc({"doctype": "Role", "role_name": role}).insert(ignore_permissions=True)
        lowcode.get_doc({"doctype": "User", "email": email, "first_name": "Reza", "language": language,
                         "roles": [{"role": r} for r in roles]}).insert(ignore_permissions=True)
        set_password(email, PASSWORD)
        local.db.commit()


def insert(server, values, user="Administrator"):
    with lowcode.site_context(server.site, bench=server.bench) as local:
        lowcode.set_user(user)
        doc = lowcode.get_doc(values).insert()
        local.db.commit()
        return doc.name


def test_announcements_on_home_are_read_and_counted(pages, server, shot):
    tag = uuid.uuid4().hex[:6]
    role = f"Field Sales {tag}"
    rep = f"e2e.rep.{tag}@example.com"
    make_user(server, rep, ["Sales User", role])
    news = insert(server, {"doctype": "Announcement", "title": f"New price list {tag}", "category": "Procedure",
                           "content": "<p>Prices change on <b>Monday</b>.</p>", "roles": [{"role": role}]})
    insert(server, {"doctype": "Announcement", "title": f"Board meeting {tag}", "category": "Event",
                    "content": "<p>Only for the board.</p>", "roles": [{"role": "System Manager"}]})

    page = pages.new(state=None, **WIDE)
    login(page, server.url, rep, PASSWORD)
    panel = page.locator("#announcements")
    expect(panel).to_contain_text(f"New price list {tag}")
    expect(panel).not_to_contain_text(f"Board meeting {tag}")
    item = panel.locator(f'details[data-name="{news}"]')
    expect(item.locator(".announcement-mark")).to_have_text("New")
    shot(page, "home-unread")
    item.locator("summary").click()
    expect(item.locator(".announcement-content")).to_contain_text("Prices change on Monday.")
    expect(item.locator(".announcement-mark")).to_have_text("Read")  # the POST answered
    shot(page, "home-read")
    page.reload()
    expect(page.locator(f'details[data-name="{news}"] .announcement-mark')).to_have_text("Read")

    phone = pages.new(state=None, **PHONE)  # the same home on a phone
    login(phone, server.url, rep, PASSWORD)
    expect(phone.locator(f'#announcements details[data-name="{news}"] .announcement-mark')).to_have_text("Read")
    assert page_width(phone) <= 390 + OVERFLOW_TOLERANCE, overflowing(phone)
    shot(phone, "home-phone")

    author = pages.new(**WIDE)
    author.goto(f"/app/announcement/{news}")
    expect(author.locator("#timeline")).to_contain_text("Read by 1 of 1 targeted users")
    author.locator("#timeline a", has_text="Read by 1 of 1").click()
    expect(author).to_have_url(re.compile(r"/app/announcement-read/"))
    expect(author.locator("#readers")).to_contain_text(rep)
    shot(author, "receipts")
    assert_no_js_errors(pages)


def test_persian_archive_on_a_phone(pages, server, shot):
    tag = uuid.uuid4().hex[:6]
    user = f"e2e.archive.{tag}@example.com"
    make_user(server, user, ["Sales User"], language="fa")
    folder = insert(server, {"doctype": "File", "is_folder": 1, "file_name": f"قراردادها {tag}"})
    insert(server, {"doctype": "File", "is_folder": 1, "file_name": f"هیئت مدیره {tag}",
                    "roles": [{"role": "System Manager"}]})

    insert(server, {"doctype": "Announcement", "title": f"جشنواره فروش {tag}", "category": "Event",
                    "content": "<p>از شنبه</p>"})
    page = pages.new(state=None, **PHONE)
    login(page, server.url, user, PASSWORD)
    expect(page.locator("#announcements-title")).to_have_text(in_persian("Announcements"))
    expect(page.locator("#announcements")).to_contain_text(f"جشنواره فروش {tag}")
    shot(page, "home-fa-phone")
    page.goto("/app/archive")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    expect(page.locator("h1")).to_contain_text(in_persian("Document Archive"))
    items = page.locator("#archive-items")
    expect(items).to_contain_text(f"قراردادها {tag}")
    expect(items).not_to_contain_text(f"هیئت مدیره {tag}")  # another role's folder
    shot(page, "archive-top")

    items.get_by_role("link", name=f"قراردادها {tag}").click()
    expect(page).to_have_url(re.compile(r"folder=" + folder))
    page.locator("#archive-upload input[type=file]").set_input_files(
        files=[{"name": f"notes-{tag}.txt", "mimeType": "text/plain", "buffer": "یادداشت جلسه\nline 2".encode()}])
    with page.expect_navigation():
        page.locator("#archive-upload button").click()
    expect(page.locator("#archive-items")).to_contain_text(f"notes-{tag}.txt")
    shot(page, "archive-uploaded")
    problems = overflowing(page) if page_width(page) > 390 + OVERFLOW_TOLERANCE else []

    page.fill("#archive-q", f"notes-{tag}")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("#archive-items")).to_contain_text(f"notes-{tag}.txt")
    with page.expect_navigation():
        page.locator("#archive-items a.archive-file").first.click()
    expect(page.locator("#preview pre")).to_contain_text("یادداشت جلسه")
    expect(page.locator("#preview-download")).to_have_text(in_persian("Download"))
    shot(page, "archive-preview")
    if page_width(page) > 390 + OVERFLOW_TOLERANCE:
        problems += overflowing(page)
    assert not problems, problems

    wide = pages.new(state=None, **WIDE)  # the same archive at 1366 px
    login(wide, server.url, user, PASSWORD)
    wide.goto("/app/archive?folder=" + folder)
    expect(wide.locator("#archive-items")).to_contain_text(f"notes-{tag}.txt")
    assert wide.evaluate("document.documentElement.dir") == "rtl"
    shot(wide, "archive-fa-wide")
    assert_no_js_errors(pages)
