"""End to end: numbers keep their order in right-to-left pages, and a phone number finds
its lead however it is typed (Persian at 390 px, English at 1366 px).

The order is read from the rendered page: the left edge of each character of the cell,
so a "-4.7%" shown as "4.7%-" (what an RTL paragraph does to an unisolated number) or
a phone number with its groups reversed fails."""
import random
from urllib.parse import quote

import phonenumbers
import pytest
from playwright.sync_api import expect

import lowcode

from .conftest import FA_PASSWORD, FA_USER, login
from .test_desk_e2e import PHONE, assert_no_js_errors, unique

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")

#: [(character, its line's top, its left edge)] of every visible character under an element, in DOM order
CHARACTERS = """el => { const out = [], walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT); let n;
    while ((n = walk.nextNode())) for (let i = 0; i < n.data.length; i++) {
        const r = document.createRange(); r.setStart(n, i); r.setEnd(n, i + 1);
        const box = r.getBoundingClientRect(); if (box.width && n.data[i].trim()) out.push([n.data[i], Math.round(box.top), box.left]); }
    return out; }"""


def shown_in_order(locator):
    """The element's text as the eye reads it (lines top down, each left to right), and
    as it is stored."""
    chars = locator.evaluate(CHARACTERS)
    return "".join(c for c, _, _ in sorted(chars, key=lambda c: (c[1], c[2]))), "".join(c for c, _, _ in chars)


def mobile():
    while True:
        number = "0912" + "".join(random.choice("0123456789") for _ in range(7))
        if phonenumbers.is_valid_number(phonenumbers.parse(number, "IR")):
            return number


@pytest.fixture(scope="module")
def figures(server):
    """A DocType listing a signed percentage and a phone number (and linking a lead), with
    one record, and a lead with a mobile number; the Persian user reads Persian."""
    doctype, number = f"Figure {unique('T')}", mobile()
    with lowcode.site_context(server.site, bench=server.bench) as local:
        lowcode.get_doc({"doctype": "DocType", "name": doctype, "module": "Custom", "title_field": "title",
                         "fields": [{"fieldname": "title", "fieldtype": "Data", "label": "Title", "in_list_view": 1},
                                    {"fieldname": "change", "fieldtype": "Percent", "label": "Change",
                                     "in_list_view": 1},
                                    {"fieldname": "phone", "fieldtype": "Data", "options": "Phone",
                                     "label": "Phone", "in_list_view": 1},
                                    {"fieldname": "lead", "fieldtype": "Link", "options": "Lead", "label": "Lead"}],
                         "permissions": [{"role": "System Manager", "read": 1, "write": 1, "create": 1}]}).insert()
        lowcode.get_doc({"doctype": doctype, "title": "Q3", "change": -4.7, "phone": "+98 912 345 6789"}).insert()
        lead = lowcode.get_doc({"doctype": "Lead", "first_name": unique("Phone"), "company_name": "Dial Co",
                                "mobile_no": number}).insert()
        local.db.sql("UPDATE `tabUser` SET `language`='fa', `use_local_digits`=0 WHERE `name`=%s", (FA_USER,))
        local.db.commit()
    return {"route": doctype.lower().replace(" ", "-"), "lead": lead.name, "mobile": number}


def check_order(page, route, problems):
    page.goto(f"/app/{route}")
    row = page.locator("#list-results tbody tr").first
    expect(row).to_be_visible()
    for what, cell in (("percent", row.locator("td", has_text="4.7%")), ("phone", row.locator("a[data-tel]"))):
        seen, stored = shown_in_order(cell.first)
        if seen != stored:
            problems.append((what, stored, seen))


def test_persian_phone_keeps_numbers_in_order_and_finds_the_lead_by_any_form(pages, server, shot, figures):
    page = pages.new(state=None, **PHONE)
    login(page, server.url, FA_USER, FA_PASSWORD)
    assert page.evaluate("document.documentElement.dir") == "rtl"
    problems = []
    check_order(page, figures["route"], problems)
    shot(page, "fa-390-list")
    assert not problems, f"numbers reordered in RTL: {problems}"
    assert "-4.7%" in shown_in_order(page.locator("td", has_text="4.7%").first)[0]

    # the mobile in Persian digits, in the search box every page has
    page.fill("nav input[name=q]", figures["mobile"].translate(PERSIAN))
    with page.expect_navigation():
        page.press("nav input[name=q]", "Enter")
    expect(page.locator(f"main a[href='/app/lead/{quote(figures['lead'])}']")).to_be_visible()
    shot(page, "fa-390-phone-search")
    assert_no_js_errors(pages)


def test_english_desktop_finds_the_lead_by_its_international_form(pages, shot, figures):
    page = pages.new(viewport={"width": 1366, "height": 900})
    problems = []
    check_order(page, figures["route"], problems)
    assert not problems, problems
    m = figures["mobile"]
    page.goto("/app/lead")
    page.fill("#list-filters input[name=q]", f"+98 {m[1:4]} {m[4:7]} {m[7:]}")
    lead_link = f"/app/lead/{quote(figures['lead'])}?list="  # list rows carry the list's query
    expect(page.locator(f"#list-results a[href^='{lead_link}']")).to_be_visible()
    shot(page, "en-1366-list-phone-search")
    page.fill("nav input[name=q]", f"{m[:4]}-{m[4:7]}-{m[7:]}")
    with page.expect_navigation():
        page.press("nav input[name=q]", "Enter")
    expect(page.locator(f"main a[href='/app/lead/{quote(figures['lead'])}']")).to_be_visible()
    # link search: a Link field to Lead offers the lead for its number as typed
    page.goto(f"/app/{figures['route']}/new")
    page.locator("#f-lead").fill(f"+98 {m[1:4]} {m[4:7]} {m[7:]}")
    expect(page.locator(f"#f-lead-dl option[value='{figures['lead']}']")).to_have_count(1)
    assert_no_js_errors(pages)
