"""The knowledge base in a real browser: a guest on a phone, in Persian, finds an article
by typing it with Arabic letters, reads it (the page's script counts the view) and votes
once; an agent typing a case subject on the desk sees the same article suggested.
Suggestions are text: a title that looks like HTML is shown as typed."""
import lowcode
from playwright.sync_api import expect

PHONE = {"width": 390, "height": 844}


def _article(server, title, content, language):
    from lowcode.workflow import apply_workflow
    with lowcode.site_context(server.site, bench=server.bench) as local:
        if not local.db.exists("Help Category", "Internet"):
            lowcode.get_doc({"doctype": "Help Category", "category_name": "Internet"}).insert()
        doc = lowcode.get_doc({"doctype": "Help Article", "title": title, "content": content,
                               "language": language, "category": "Internet"}).insert()
        apply_workflow(doc, "Submit for Review")
        apply_workflow(doc, "Publish")
        local.db.commit()
        return doc.name, doc.route


def _counts(server, name):
    with lowcode.site_context(server.site, bench=server.bench) as local:
        return local.db.sql("SELECT `views`, `helpful` FROM `tabHelp Article` WHERE `name`=%s", (name,))[0]


def test_guest_finds_reads_and_rates_an_article_on_a_phone_in_persian(pages, server, shot):
    name, route = _article(server, "تنظیم مودم <b>خانگی</b>", "<p>مودم را می‌توانید در ۳ مرحله تنظیم کنید.</p>", "fa")
    page = pages.new(state=None, viewport=PHONE, locale="fa-IR")
    page.goto("/kb?lang=fa")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    search = page.locator("main input[data-kb-suggest]")
    search.press_sequentially("مودم خانگي", delay=30)  # Arabic yeh as typed on an Arabic keyboard
    hit = page.locator(".kb-suggestions a").first
    expect(hit).to_be_visible()
    expect(hit.locator("div")).to_have_text("تنظیم مودم <b>خانگی</b>")  # text, never markup
    assert page.locator(".kb-suggestions b").count() == 0
    shot(page, "suggestions")
    with page.expect_response(lambda r: r.url.endswith("/view") and r.request.method == "POST") as beacon:
        page.goto("/" + route)
    assert beacon.value.status == 204
    assert _counts(server, name)[0] == 1
    page.get_by_role("button", name="بله").click()
    expect(page.locator("#feedback")).to_contain_text("از بازخورد شما سپاسگزاریم")
    shot(page, "voted")
    assert _counts(server, name)[1] == 1
    assert not pages.js_errors, pages.js_errors


def test_agent_sees_suggestions_while_typing_a_case_subject(page, pages, server, shot):
    _article(server, "Printer offline after update", "<p>Restart the spooler.</p>", "en")
    page.goto("/app/case/new")
    page.locator('form [name="subject"]').press_sequentially("printer OFFLINE", delay=30)
    hit = page.locator(".kb-suggestions a").first
    expect(hit).to_contain_text("Printer offline after update")
    assert hit.get_attribute("href").startswith("/kb/article/printer-offline-after-update")
    shot(page, "case-subject")
    assert not pages.js_errors, pages.js_errors
