"""End to end: quick entry dialogs (Debian's chromium against a real server; see conftest).
An English-speaking salesperson at 1366 px makes a customer from the list's "New" (the
dialog refuses a missing name on the field, then saves and shows a toast with a link and the assignment rule's notice;
"Edit full form" carries what was typed); a Persian-speaking salesperson at 390 px picks
"+ Create a new Customer" in a task's Customer field, saves the dialog, and the new
customer's name is in the field."""
import re

import pytest
from playwright.sync_api import expect

import lowcode

from tests.e2e.conftest import FA_USER, login

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1366, "height": 900}
REP, REP_FA = "e2e.quick.rep@example.com", "e2e.quick.fa@example.com"
PASSWORD = "Shiraz-Garden-47"


@pytest.fixture
def reps(server):
    from lowcode.auth import set_password
    with lowcode.site_context(server.site, bench=server.bench) as local:
        for email, first, language in ((REP, "Sam", "en"), (REP_FA, "Parvin", "fa")):
            if not lowcode.db.exists("User", email):
                lowcode.get_doc({"doctype": "User", "email": email, "first_name": first, "language": language,
                                 "roles": [{"role": "Sales User"}]}).insert(ignore_permissions=True)
                set_password(email, PASSWORD)
        if not lowcode.db.exists("Assignment Rule", "E2E customers"):  # assigns the list's new customer
            lowcode.get_doc({"doctype": "Assignment Rule", "rule_name": "E2E customers", "document_type": "Customer",
                             "condition": "doc.customer_name == 'Blue Sky Trading'",
                             "users": [{"user": FA_USER}]}).insert(ignore_permissions=True)
        local.db.commit()


def customers(server, name):
    with lowcode.site_context(server.site, bench=server.bench):
        return lowcode.get_all("Customer", filters={"customer_name": name}, pluck="name")


def page_width(page):
    return page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")


def test_quick_entry_from_the_list_and_from_a_link_field(pages, server, shot, reps):
    rep = pages.new(state=None, viewport=WIDE)
    login(rep, server.url, REP, PASSWORD)
    rep.goto("/app/customer")
    rep.click("#list-new")
    dialog = rep.locator("#quick-entry")
    dialog.locator("#qe-f-customer_name").wait_for(state="visible")
    expect(dialog.locator("#qe-f-customer_name")).to_be_focused()
    assert dialog.locator("#qe-f-tax_id").count() == 0  # mandatory and quick-entry fields only
    dialog.locator("#qe-f-email_id").fill("hello@bluesky.example.com")
    dialog.locator("#quick-entry-save").click()
    expect(dialog.locator("#qe-f-customer_name")).to_have_class(re.compile(r"\bis-invalid\b"))
    assert dialog.locator("#qe-f-email_id").input_value() == "hello@bluesky.example.com"  # kept
    dialog.locator("#qe-f-customer_name").fill("Blue Sky Trading")
    shot(rep, "dialog-1366-en", full_page=False)
    dialog.locator("#quick-entry-save").click()
    dialog.wait_for(state="hidden")
    [name] = customers(server, "Blue Sky Trading")
    toast = rep.locator("#toasts .toast")
    expect(toast).to_contain_text("Customer saved:")
    # the assignment rule's notice, for the user whose save it assigned
    expect(toast.locator("[data-notice]")).to_have_text("Assigned to Parisa by rule E2E customers (round robin)")
    expect(toast.get_by_role("link", name="Blue Sky Trading")).to_have_attribute("href", f"/app/customer/{name}")
    expect(rep.locator("#list-results")).to_contain_text("Blue Sky Trading")  # the list refreshed
    expect(rep.locator(".modal-backdrop")).to_have_count(0)
    shot(rep, "toast-1366-en", full_page=False)
    # "Edit full form" carries what was typed.
    rep.click("#list-new")
    dialog.locator("#qe-f-customer_name").wait_for(state="visible")
    dialog.locator("#qe-f-customer_name").fill("Green Leaf")
    with rep.expect_navigation():
        dialog.locator("[data-edit-full-form]").click()
    assert "/app/customer/new?" in rep.url
    assert rep.locator("#f-customer_name").input_value() == "Green Leaf"

    fa = pages.new(state=None, viewport=PHONE, is_mobile=True, has_touch=True)
    login(fa, server.url, REP_FA, PASSWORD)
    fa.goto("/app/task/new")
    assert fa.locator("html").get_attribute("dir") == "rtl"
    field = fa.locator("#f-customer")
    label = field.get_attribute("data-create-label")
    assert label.startswith("+ ") and "Create" not in label  # in Persian
    field.fill("آسمان آبی")
    fa.locator(f'#f-customer-dl option[value="{label}"]').wait_for(state="attached")  # ends the suggestions
    field.fill(label)  # what picking the suggestion does
    dialog = fa.locator("#quick-entry")
    dialog.locator("#qe-f-customer_name").wait_for(state="visible")
    assert dialog.locator("#qe-f-customer_name").input_value() == "آسمان آبی"  # what was typed
    assert page_width(fa) <= PHONE["width"] + 2, "the dialog scrolls sideways on a phone"
    shot(fa, "link-dialog-390-fa", full_page=False)
    dialog.locator("#quick-entry-save").click()
    dialog.wait_for(state="hidden")
    [name] = customers(server, "آسمان آبی")
    expect(field).to_have_value(name)
    expect(fa.locator("#toasts .toast")).to_contain_text("ذخیره شد")  # in Persian
    expect(fa.locator("#toasts .toast")).to_contain_text("آسمان آبی")
    assert page_width(fa) <= PHONE["width"] + 2
    shot(fa, "link-saved-390-fa", full_page=False)
    assert not pages.js_errors, pages.js_errors
