"""The admin's builders in Chromium: in Customize Form (English, 1366 px) a field is
dragged into another section and a field is added between two others with "+", and the
real form shows the saved layout; the Print Format editor's preview follows the
template as it is typed (Persian, 390 px; side by side at 1366 px), and the builder
fits a phone in Persian."""
import os
from urllib.parse import quote

import lowcode
from playwright.sync_api import expect

from .conftest import ARTIFACTS, DESKTOP, FA_PASSWORD, FA_USER, PHONE, login, set_language

DOCTYPE = "E2E Builder Sample"


def make_sample_doctype(server):
    """The DocType both tests customise (made once per server, whichever test runs first)."""
    with lowcode.site_context(server.site, bench=server.bench) as local:
        if lowcode.db.exists("DocType", DOCTYPE):
            return
        lowcode.get_doc({"doctype": "DocType", "name": DOCTYPE, "module": "Custom", "fields": [
            {"fieldname": "title", "fieldtype": "Data", "label": "Title"},
            {"fieldname": "status", "fieldtype": "Data", "label": "Status"},
            {"fieldname": "notes", "fieldtype": "Small Text", "label": "Notes"},
            {"fieldname": "other", "fieldtype": "Section Break", "label": "Other"},
            {"fieldname": "city", "fieldtype": "Data", "label": "City"},
        ], "permissions": [{"role": "System Manager", "read": 1, "write": 1, "create": 1, "print": 1}]}).insert()
        local.db.commit()


def field_order(server):
    with lowcode.site_context(server.site, bench=server.bench):
        return [f.fieldname for f in lowcode.get_meta(DOCTYPE).fields]


def test_drag_a_field_and_insert_one_in_the_form_builder(pages, server, shot):
    make_sample_doctype(server)
    page = pages.new(**DESKTOP)
    page.goto("/app/customize-form?doctype=" + quote(DOCTYPE))
    other = page.locator("[data-section]").filter(has=page.locator("[data-fieldname=other]"))
    expect(other.locator("[data-fieldname=city]")).to_be_visible()
    shot(page, "builder-before-en-1366")

    # Drag Status by its handle into the Other section, below City.
    status = page.locator("li[data-fieldname=status]")
    status.locator(".drag-handle").drag_to(other.locator("li[data-fieldname=city]"),
                                           target_position={"x": 40, "y": 40})
    expect(other.locator("li[data-fieldname=status]")).to_have_count(1)

    # "+" on Title opens the small field editor; the new field goes between Title and Notes.
    page.locator("li[data-fieldname=title] [data-add-below]").click()
    dialog = page.locator("#new-field-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("#nf-label").fill("Floor")
    dialog.locator("#nf-fieldtype").select_option("Int")
    dialog.locator("#nf-reqd").check()
    dialog.locator("#nf-add").click()
    expect(dialog).to_be_hidden()
    new_row = page.locator("li.field-row").nth(1)
    expect(new_row.locator("input[name$='-label']")).to_have_value("Floor")

    # Without a mouse: "down" on Notes, the last field of its section, takes it into Other.
    page.locator("li[data-fieldname=notes] [data-move=down]").click()
    expect(other.locator("li.field-row").first).to_have_attribute("data-fieldname", "notes")

    # A new section at the end of the tab, with a field added through its column's button.
    page.locator("[data-tab] [data-add-layout='Section Break']").click()
    extra = page.locator("[data-section]").last
    extra.locator(".fb-section-row input[name$='-label']").fill("Extra")
    extra.locator("[data-add-field]").click()
    dialog.locator("#nf-label").fill("Hobby")
    dialog.locator("#nf-add").click()
    expect(extra.locator("li.field-row input[name$='-label']")).to_have_value("Hobby")
    shot(page, "builder-moved-en-1366")

    with page.expect_navigation():
        page.click("#save-button")
    expect(page.locator("[role=status]")).to_contain_text("Saved")
    assert field_order(server) == ["title", "custom_floor", "other", "notes", "city", "status", "custom_extra",
                                   "custom_hobby"]

    # The real form: Floor (mandatory) after Title; Status now in the Other section.
    page.goto(f"/app/{quote(lowcode.utils.route_for(DOCTYPE))}/new")
    other_section = page.locator("section", has=page.locator("h2", has_text="Other"))
    expect(other_section.locator("#f-status")).to_be_visible()
    expect(other_section.locator("#f-notes")).to_be_visible()
    extra_section = page.locator("section", has=page.locator("h2", has_text="Extra"))
    expect(extra_section.locator("#f-custom_hobby")).to_be_visible()
    expect(page.locator("#f-custom_floor")).to_be_visible()
    boxes = [page.locator(f"#f-{f}").bounding_box()["y"] for f in ("title", "custom_floor", "notes", "city")]
    assert boxes == sorted(boxes)
    shot(page, "builder-form-en-1366")
    assert not pages.js_errors, pages.js_errors


def snap(page, step, element="#pf-preview"):
    """A screenshot without the ``shot`` fixture's wait for network idle, which a frame
    whose srcdoc keeps changing never reaches."""
    page.locator(element).scroll_into_view_if_needed()
    page.screenshot(path=os.path.join(ARTIFACTS, f"print_preview--{step}.png"))


def test_print_format_preview_follows_typing_in_persian_on_a_phone(pages, server, db_value):
    fmt = "E2E Lead Format"
    with lowcode.site_context(server.site, bench=server.bench) as local:
        lowcode.get_doc({"doctype": "Print Format", "print_format_name": fmt, "doc_type": "Lead",
                         "html": "<h1 id='stored'>{{ doc.first_name }}</h1>"}).insert()
        local.db.commit()
    set_language(server, FA_USER, "fa")
    try:
        phone = pages.new(state=None, **PHONE)
        login(phone, server.url, FA_USER, FA_PASSWORD)
        phone.goto("/app/print-format/" + quote(fmt))
        expect(phone.locator("html")).to_have_attribute("dir", "rtl")
        panel = phone.locator("#pf-preview")
        expect(panel).to_be_visible()
        expect(panel.locator("h2")).not_to_have_text("Preview")  # translated
        expect(phone.locator("#pf-record")).not_to_have_value("")  # the latest lead, chosen for the admin
        frame = phone.frame_locator("#pf-frame")
        expect(frame.locator("#stored")).to_be_visible()

        # Typing a new template updates the frame; its script does not run.
        phone.locator("textarea[name=html]").fill(
            "<h2 id='draft'>پیش‌نمایش {{ doc.name }}</h2><p id='s'>static</p>"
            "<script>document.getElementById('s').textContent = 'ran'</script>")
        expect(frame.locator("#draft")).to_contain_text("پیش‌نمایش")
        expect(frame.locator("#s")).to_have_text("static")
        box = phone.locator("#pf-frame").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390 + 1, box
        snap(phone, "fa-390")

        # A template error shows as a message naming the line; the frame keeps the last page.
        phone.locator("textarea[name=html]").fill("<p>ok</p>\n{% if %}")
        expect(phone.locator("#pf-error")).to_be_visible()
        expect(phone.locator("#pf-error")).to_contain_text("2")
        snap(phone, "error-fa-390")
        # Nothing was saved by previewing.
        assert db_value("Print Format", fmt, "html") == "<h1 id='stored'>{{ doc.first_name }}</h1>"

        # The form builder on the phone, in Persian: the layout fits the width, "+" opens its editor.
        make_sample_doctype(server)
        phone.goto("/app/customize-form?doctype=" + quote(DOCTYPE))
        expect(phone.locator("[data-section]").first).to_be_visible()
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390 + 1
        phone.locator("li[data-fieldname=title] [data-add-below]").click()
        expect(phone.locator("#new-field-dialog")).to_be_visible()
        dialog_box = phone.locator("#new-field-dialog").bounding_box()
        assert dialog_box["x"] >= 0 and dialog_box["x"] + dialog_box["width"] <= 390 + 1, dialog_box
        snap(phone, "builder-fa-390", "#new-field-dialog")
        assert not pages.js_errors, pages.js_errors
    finally:
        set_language(server, FA_USER, "en")

    # English at 1366 px: the editor and the preview side by side.
    page = pages.new(**DESKTOP)
    page.goto("/app/print-format/" + quote(fmt))
    expect(page.frame_locator("#pf-frame").locator("#stored")).to_be_visible()
    editor, frame = page.locator("textarea[name=html]").bounding_box(), page.locator("#pf-frame").bounding_box()
    assert frame["x"] >= editor["x"] + editor["width"] and abs(frame["y"] - editor["y"]) < 200, (editor, frame)
    snap(page, "en-1366")
