"""End to end: the lead conversion dialog and the duplicate warning while typing
(Debian's chromium against a real server; see conftest). An English-speaking salesperson
at 1366 px converts a qualified lead from its form: the dialog suggests the existing
customer (matched on name) and contact (matched on e-mail), refuses an amount that is no
number inside the dialog, then makes the opportunity for the chosen customer and contact
without a new customer. A Persian-speaking salesperson at 390 px types a mobile number in
Persian digits on a new lead and is warned of their earlier lead with that mobile,
before saving, and opens the conversion dialog of another lead on the phone."""
import re

import pytest
from playwright.sync_api import expect

import lowcode

from tests.e2e.conftest import desk_user, login

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1366, "height": 900}
REP, REP_FA = "e2e.convert.rep@example.com", "e2e.convert.fa@example.com"
PASSWORD = "Kerman-Pistachio-38"
MOBILE_FA = "09123334455"


@pytest.fixture
def records(server):
    """A qualified lead of the English salesperson whose organisation already is a
    customer with a contact of the lead's e-mail; an earlier lead of the Persian one."""
    from lowcode.workflow import apply_workflow
    with lowcode.site_context(server.site, bench=server.bench) as local:
        desk_user(REP, "Sam", PASSWORD, language="en", calendar="Gregorian")
        desk_user(REP_FA, "Parvin", PASSWORD, language="fa", calendar="Jalali")
        customer = lowcode.get_doc({"doctype": "Customer", "customer_name": "Convert Dialog Co"}).insert().name
        contact = lowcode.get_doc({"doctype": "Contact", "first_name": "Roya", "last_name": "Amini",
                                   "email_id": "roya@convert-dialog.example"}).insert().name
        lowcode.set_user(REP)
        lead = lowcode.get_doc({"doctype": "Lead", "first_name": "Roya", "last_name": "Amini", "lead_owner": REP,
                                "company_name": "Convert Dialog Co", "email_id": "roya@convert-dialog.example"}
                               ).insert()
        apply_workflow(lead, "Contact")
        apply_workflow(lead, "Qualify")
        lowcode.set_user(REP_FA)
        earlier = lowcode.get_doc({"doctype": "Lead", "first_name": "کاوه", "last_name": "رضایی",
                                   "company_name": "کاشی نو", "mobile_no": MOBILE_FA}).insert().name
        qualified = lowcode.get_doc({"doctype": "Lead", "first_name": "مینا", "last_name": "کریمی",
                                     "company_name": "فرش آریا"}).insert()
        apply_workflow(qualified, "Contact")
        apply_workflow(qualified, "Qualify")
        lowcode.set_user("Administrator")
        local.db.commit()
        return {"customer": customer, "contact": contact, "lead": lead.name, "earlier": earlier,
                "lead_fa": qualified.name}


def _stored(server, sql, values=()):
    with lowcode.site_context(server.site, bench=server.bench) as local:
        return local.db.sql(sql, values)


def page_width(page):
    return page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")


def test_convert_dialog_and_duplicate_warning_while_typing(pages, server, shot, records):
    customers = _stored(server, "SELECT COUNT(*) FROM `tabCustomer`")[0][0]
    rep = pages.new(state=None, viewport=WIDE)
    login(rep, server.url, REP, PASSWORD)
    rep.goto(f"/app/lead/{records['lead']}")
    rep.get_by_role("link", name="Convert to customer").click()
    dialog = rep.locator("#convert-lead-modal")
    dialog.locator("[data-convert-form]").wait_for(state="visible")
    assert rep.url.endswith(f"/app/lead/{records['lead']}"), "the dialog opens on the form, not as a page"
    chosen = dialog.locator(f"input[name=customer_choice][value=\"{records['customer']}\"]")
    expect(chosen).to_be_checked()  # the matching customer, offered first
    assert "matched on name" in dialog.locator("[data-choices=customer]").inner_text()
    assert "matched on e-mail" in dialog.locator("[data-choices=contact]").inner_text()
    expect(dialog.locator("input[name=customer_choice][value=__new]")).not_to_be_checked()
    owner = _stored(server, "SELECT `lead_owner` FROM `tabLead` WHERE `name`=%s", (records["lead"],))[0][0]
    assert owner and dialog.locator("#f-opportunity_owner").input_value() == owner  # the lead owner by default
    dialog.locator(f"input[name=contact_choice][value=\"{records['contact']}\"]").check()
    dialog.locator("#f-opportunity_amount").fill("abc")
    dialog.locator("#f-expected_closing").fill("2031-03-15")
    shot(rep, "convert-dialog-1366-en", full_page=False)
    dialog.locator("[data-convert-submit]").click()
    expect(dialog.locator("[data-convert-error]")).to_contain_text("Opportunity Amount")
    expect(dialog.locator("#f-opportunity_amount")).to_have_class(re.compile(r"\bis-invalid\b"))
    assert _stored(server, "SELECT `status` FROM `tabLead` WHERE `name`=%s", (records["lead"],))[0][0] == "Qualified"
    dialog.locator("#f-opportunity_amount").fill("25000")
    with rep.expect_navigation(url=re.compile(r"/app/opportunity/")):
        dialog.locator("[data-convert-submit]").click()
    opportunity = rep.url.rsplit("/", 1)[1]
    row = _stored(server, "SELECT `party_name`, `contact`, `opportunity_owner`, `opportunity_amount` "
                          "FROM `tabOpportunity` WHERE `name`=%s", (opportunity,))[0]
    assert tuple(row[:3]) == (records["customer"], records["contact"], owner) and float(row[3]) == 25000
    assert _stored(server, "SELECT COUNT(*) FROM `tabCustomer`")[0][0] == customers  # no second customer
    shot(rep, "converted-opportunity-1366-en")

    fa = pages.new(state=None, viewport=PHONE, is_mobile=True, has_touch=True)
    login(fa, server.url, REP_FA, PASSWORD)
    fa.goto("/app/lead/new")
    assert fa.locator("html").get_attribute("dir") == "rtl"
    fa.locator("#f-first_name").fill("کاوه")
    persian = "".join("۰۱۲۳۴۵۶۷۸۹"[int(d)] for d in MOBILE_FA)
    fa.locator("#f-mobile_no").press_sequentially(persian[:4] + " " + persian[4:], delay=20)
    warning = fa.locator("#lead-duplicate-warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("تکراری احتمالی")
    expect(warning).to_contain_text("موبایل")
    link = warning.locator(f"a[href='/app/lead/{records['earlier']}']")
    expect(link).to_contain_text("کاوه رضایی")
    assert fa.url.endswith("/app/lead/new"), "the warning comes before saving"
    assert page_width(fa) <= PHONE["width"] + 2, "the warning scrolls sideways on a phone"
    shot(fa, "duplicate-warning-390-fa", full_page=False)
    fa.locator("#f-mobile_no").fill("")  # nothing typed, no warning
    expect(warning).to_be_hidden()

    # the conversion dialog in Persian on a phone: nothing matches, so a new customer is said
    fa.goto(f"/app/lead/{records['lead_fa']}")
    fa.locator("a[href^='/app/convert-lead/']").click()
    dialog_fa = fa.locator("#convert-lead-modal")
    dialog_fa.locator("[data-convert-form]").wait_for(state="visible")
    expect(dialog_fa.locator("#convert-lead-title")).to_have_text("تبدیل به مشتری")
    expect(dialog_fa.locator("[data-choices=customer] [data-no-match]")).to_be_visible()
    assert page_width(fa) <= PHONE["width"] + 2, "the dialog scrolls sideways on a phone"
    shot(fa, "convert-dialog-390-fa", full_page=False)
    assert not pages.js_errors, pages.js_errors
