"""End to end, in Debian's chromium against a real server with demo data (see
conftest.py): the Opportunity board at 1366 px in English (every column reachable,
card titles from the title field, column totals), and previous/next on a lead within
the list's filter and the board at 390 px in Persian."""
import re

import pytest
from playwright.sync_api import expect

import lowcode

from .conftest import FA_PASSWORD, FA_USER, login

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


def test_opportunity_board_at_1366(pages, server, shot):
    page = pages.new(viewport={"width": 1366, "height": 900})
    with lowcode.site_context(server.site, bench=server.bench) as local:
        stages = local.db.sql("SELECT `sales_stage`, COUNT(*), SUM(`opportunity_amount`) FROM `tabOpportunity` "
                              "GROUP BY `sales_stage`")
    expected = {stage: (count, amount) for stage, count, amount in stages}
    page.goto("/app/opportunity/view/kanban")
    columns = page.locator(".kanban-column")
    expect(columns.first).to_be_visible()
    shot(page, "board-en-1366")
    assert columns.count() == 6  # Prospecting ... Won, Lost: the workflow's states

    # every column can be brought into view by scrolling the board, none cut off, and
    # the page itself never gets wider than the window
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    for i in range(columns.count()):
        column = columns.nth(i)
        column.evaluate("el => el.scrollIntoView({block: 'nearest', inline: 'nearest'})")
        box = column.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 1366 + 1, (i, box)
        value = column.locator(".kanban-cards").get_attribute("data-value")
        count, amount = expected.get(value, (0, 0))
        assert int(column.locator("[data-count]").get_attribute("data-count")) == count, value
        assert float(column.locator(".kanban-totals").get_attribute("data-amount")) == float(amount or 0), value
        expect(column.locator(".kanban-totals")).to_contain_text("Weighted")
    shot(page, "board-en-1366-scrolled")

    # card titles are the deals' titles, never their OPP-... ids
    titles = page.locator(".kanban-card a.fw-semibold").all_inner_texts()
    assert titles and not [t for t in titles if not t.strip() or re.match(r"OPP-\d", t)], titles

    # the Move to list offers only the transitions from the card's state: a won deal goes
    # nowhere; a lost one may be reopened, and once reopened its list is the new state's
    assert page.locator(".kanban-cards[data-value=Won] [data-move]").count() == 0
    lost = page.locator(".kanban-cards[data-value=Lost] .kanban-card").first
    name = lost.get_attribute("data-name")
    select = lost.locator("[data-move]")
    assert select.locator("option").evaluate_all("os => os.map(o => o.value)") == ["Prospecting", "Lost"]
    with page.expect_response(lambda r: r.url.endswith("/view/kanban/move")) as answer:
        select.select_option("Prospecting")
    assert answer.value.ok, answer.value.text()
    card = page.locator(f".kanban-cards[data-value=Prospecting] .kanban-card[data-name='{name}']")
    expect(card).to_be_visible()
    expect(card.locator("[data-move] option")).to_have_count(2)
    assert card.locator("[data-move] option").evaluate_all("os => os.map(o => o.value)") \
        == ["Prospecting", "Qualification"]  # reopening cleared the lost reason: Lose needs one
    expect(page.locator(".kanban-cards[data-value=Prospecting]").locator("xpath=..").locator("[data-count]")) \
        .to_have_text(str(expected.get("Prospecting", (0, 0))[0] + 1))
    shot(page, "board-en-1366-reopened")


PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


def test_prev_next_and_board_in_persian_at_390(pages, server, shot):
    with lowcode.site_context(server.site, bench=server.bench) as local:
        user = lowcode.get_doc("User", FA_USER)
        user.language, user.calendar, user.use_local_digits = "fa", "Jalali", 1
        user.save(ignore_permissions=True)
        local.db.commit()
    page = pages.new(state=None, **PHONE)
    login(page, server.url, FA_USER, FA_PASSWORD)
    page.goto("/app/lead?status=New")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    links = page.locator("#list-results tbody tr td:nth-child(2) a")
    expect(links.first).to_be_visible()
    names = [href.split("?")[0].rsplit("/", 1)[1] for href in
             [links.nth(i).get_attribute("href") for i in range(min(links.count(), 3))]]
    assert len(names) == 3, names
    links.first.click()
    nav = page.locator("#record-nav")
    expect(nav).to_be_visible()
    shot(page, "lead-fa-390")
    # the first row: no previous; the next is the list's second row, still within status=New
    expect(nav.locator("a[rel=prev]")).to_have_count(0)
    nav.locator("a[rel=next]").click()
    expect(page).to_have_url(re.compile(rf"/app/lead/{re.escape(names[1])}\?list="))
    nav.locator("a[rel=next]").click()
    expect(page).to_have_url(re.compile(rf"/app/lead/{re.escape(names[2])}\?list="))
    nav.locator("a[rel=prev]").click()
    expect(page).to_have_url(re.compile(rf"/app/lead/{re.escape(names[1])}\?list="))
    # Persian labels, and the buttons sit on the screen
    assert nav.locator("a[rel=prev]").get_attribute("aria-label") == "قبلی"
    box = nav.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390 + 2, box
    shot(page, "lead-fa-390-next")

    # the board on the same phone, in Persian: columns scroll inside the board, the
    # page keeps the phone's width, totals in Persian digits
    page.goto("/app/opportunity/view/kanban")
    expect(page.locator(".kanban-column").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 2
    last = page.locator(".kanban-column").last
    last.evaluate("el => el.scrollIntoView({block: 'nearest', inline: 'nearest'})")
    box = last.bounding_box()
    assert box["x"] >= -1 and box["x"] + box["width"] <= 390 + 2, box
    assert re.search("[۰-۹]", page.locator(".kanban-totals").first.inner_text())
    expect(page.locator(".kanban-totals").first).to_contain_text("وزن‌دار")
    shot(page, "board-fa-390")
