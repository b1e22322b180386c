"""End to end: the Opportunity board at 1366 px in English (every column reachable,
card titles from the title field, column totals) in Debian's chromium against a real
server with demo data (see conftest.py)."""
import re

import pytest
from playwright.sync_api import expect

import lowcode

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
