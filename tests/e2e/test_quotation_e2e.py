"""End to end, in Debian's chromium against a real server (see conftest.py): quotation
entry. Choosing a product fills its rate from the price list (else the product's standard
rate); line amounts and the totals follow as the user types, formatted as the desk formats
amounts; and the figures the page showed before saving are the ones the server saved
(crm_app/totals.py, quotation.py) and shows after: in English in dollars at 1366 px, and
in Persian in Rial (no decimals, Persian digits) on a 390 px phone. And a list names the
users (lead owners) by name, not e-mail."""
import json
import os

import pytest
from playwright.sync_api import expect

import lowcode

from .conftest import FA_PASSWORD, FA_USER, login

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
FIGURES = ["#f-total", "#f-net_total", "#f-total_taxes", "#f-grand_total"]


def _set_currency(server, currency):
    """The site's currency (site_config.json, read by each request), as a site sets it."""
    path = os.path.join(server.bench, server.site, "site_config.json")
    with open(path, encoding="utf-8") as f:
        conf = json.load(f)
    conf["currency"] = currency
    with open(path, "w", encoding="utf-8") as f:
        json.dump(conf, f)


@pytest.fixture
def catalogue(server):
    """Two products (one priced on a price list, one only by its standard rate), the
    price list, and a customer."""
    from crm_app.tests.helpers import tag
    with lowcode.site_context(server.site, bench=server.bench) as local:
        t = tag()[:6]
        priced = lowcode.get_doc({"doctype": "Product", "product_code": f"E2E-A-{t}", "product_name": f"Router {t}",
                                  "standard_rate": 999, "uom": "Nos"}).insert().name
        plain = lowcode.get_doc({"doctype": "Product", "product_code": f"E2E-B-{t}", "product_name": f"Cable {t}",
                                 "standard_rate": 1999.99}).insert().name
        price_list = lowcode.get_doc({"doctype": "Price List", "price_list_name": f"E2E {t}"}).insert().name
        lowcode.get_doc({"doctype": "Item Price", "product": priced, "price_list": price_list,
                         "rate": 1250.75}).insert()
        customer = local.db.sql("SELECT `name` FROM `tabCustomer` ORDER BY `name` LIMIT 1", pluck=True)[0]
        local.db.commit()
    return {"priced": priced, "plain": plain, "price_list": price_list, "customer": customer}


def _line(page, i, product, qty, discount=None):
    page.click("[data-add-row=items]")
    page.fill(f"[name=items-{i}-product]", product)
    page.press(f"[name=items-{i}-product]", "Tab")  # left: the product is taken
    expect(page.locator(f"[name=items-{i}-rate]")).not_to_have_value("")
    page.fill(f"[name=items-{i}-qty]", qty)
    if discount is not None:
        page.fill(f"[name=items-{i}-discount_percentage]", discount)


def _tax(page, i, description, rate):
    page.click("[data-add-row=taxes]")
    page.fill(f"[name=taxes-{i}-description]", description)
    page.fill(f"[name=taxes-{i}-rate]", rate)


def _shown(page, items, taxes):
    """The figures as the page shows them: each line's amount, each tax, the totals."""
    cells = [f"[data-for=items-{i}-amount]" for i in range(1, items + 1)] + \
            [f"[data-for=taxes-{i}-tax_amount]" for i in range(1, taxes + 1)] + FIGURES
    return {sel: page.locator(sel).inner_text().strip() for sel in cells}


def _figures(page):
    """The totals the script computed (before saving)."""
    return [float(page.locator(sel).get_attribute("data-value")) for sel in FIGURES]


def _saved_figures(doc):
    return [float(doc.total), float(doc.net_total), float(doc.total_taxes), float(doc.grand_total)]


def _save(page):
    with page.expect_navigation():
        page.click("#save-button")
    expect(page.locator("#form-error")).to_have_count(0)
    return page.url.split("?")[0].rsplit("/", 1)[1]


def _stored(server, name):
    with lowcode.site_context(server.site, bench=server.bench):
        return lowcode.get_doc("Quotation", name)


def test_quotation_live_totals_in_english_at_1366(pages, server, catalogue, shot):
    _set_currency(server, "USD")
    page = pages.new(viewport={"width": 1366, "height": 900})
    page.goto("/app/quotation/new")
    page.select_option("[name=quotation_to]", "Customer")
    page.fill("[name=party_name]", catalogue["customer"])
    page.fill("[name=price_list]", catalogue["price_list"])
    _line(page, 1, catalogue["priced"], "3", "7.5")
    # the price list's rate, the product's name as the description
    expect(page.locator("[name=items-1-rate]")).to_have_value("1250.75")
    expect(page.locator("[name=items-1-description]")).to_have_value(f"Router {catalogue['priced'][-6:]}")
    _line(page, 2, catalogue["plain"], "2")
    expect(page.locator("[name=items-2-rate]")).to_have_value("1999.99")  # no price: the standard rate
    page.fill("[name=discount_amount]", "100.5")
    _tax(page, 1, "VAT", "9")
    _tax(page, 2, "Municipal", "1.5")
    # 3 x 1250.75 less 7.5% = 3470.83125 -> 3,470.83; + 3,999.98 = 7,470.81; less 100.50 = 7,370.31
    expect(page.locator("#f-total")).to_have_text("7,470.81 USD")
    expect(page.locator("#f-net_total")).to_have_text("7,370.31 USD")
    live, figures = _shown(page, 2, 2), _figures(page)
    assert live["[data-for=items-1-amount]"] == "3,470.83 USD"
    shot(page, "quotation-en-1366-live")

    # the saved document has the same figures, and the page shows them the same way
    name = _save(page)
    saved = _stored(server, name)
    assert [float(i.amount) for i in saved.items] == [3470.83, 3999.98]
    assert (float(saved.total), float(saved.net_total)) == (7470.81, 7370.31)
    assert [float(t.tax_amount) for t in saved.taxes] == [663.33, 110.55]
    assert float(saved.grand_total) == 8144.19
    assert _saved_figures(saved) == figures
    assert _shown(page, 2, 2) == live
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    shot(page, "quotation-en-1366-saved")

    # editing a saved quotation: a quantity typed changes the figures before saving again
    page.fill("[name=items-2-qty]", "3")
    expect(page.locator("#f-total")).to_have_text("9,470.80 USD")
    live, figures = _shown(page, 2, 2), _figures(page)
    _save(page)
    assert _shown(page, 2, 2) == live
    assert _saved_figures(_stored(server, name)) == figures
    expect(page.locator("[name=items-2-qty]")).to_have_value("3")  # a quantity without ".0"

    # names everywhere: the leads' owners are listed by name, never by e-mail
    page.goto("/app/lead")
    owners = page.locator("#list-results tbody td a[href^='/app/user/']")
    expect(owners.first).to_be_visible()
    texts = owners.all_inner_texts()
    assert texts and not [t for t in texts if "@" in t], texts
    shot(page, "lead-owners-en-1366")


def test_quotation_live_totals_in_persian_rial_at_390(pages, server, catalogue, shot):
    _set_currency(server, "IRR")
    with lowcode.site_context(server.site, bench=server.bench) as local:
        user = lowcode.get_doc("User", FA_USER)
        user.language, user.calendar, user.use_local_digits = "fa", "Jalali", 1
        user.save(ignore_permissions=True)
        local.db.commit()
    page = pages.new(state=None, **PHONE)
    login(page, server.url, FA_USER, FA_PASSWORD)
    page.goto("/app/quotation/new")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    page.fill("[name=party_name]", catalogue["customer"])
    page.fill("[name=price_list]", catalogue["price_list"])
    _line(page, 1, catalogue["priced"], "۲")  # Persian digits typed: 2 x 1250.75 = 2501.5 -> 2,502
    _line(page, 2, catalogue["plain"], "1", "10")  # 1999.99 less 10% = 1799.991 -> 1799.99 -> 1,800
    _tax(page, 1, "مالیات", "9")
    expect(page.locator("[data-for=items-1-amount]")).to_have_text("۲,۵۰۲ IRR")
    live, figures = _shown(page, 2, 1), _figures(page)
    # no decimals for the Rial, Persian digits, grouping
    for text in live.values():
        assert "." not in text and not any(c in "0123456789" for c in text), live
    assert live["#f-total"] == "۴,۳۰۱ IRR"  # 2501.5 + 1799.99 = 4301.49
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 2
    shot(page, "quotation-fa-390-live")

    name = _save(page)
    saved = _stored(server, name)
    assert [float(i.amount) for i in saved.items] == [2501.5, 1799.99]
    assert _saved_figures(saved) == figures == [4301.49, 4301.49, 387.13, 4688.62]
    assert _shown(page, 2, 1) == live
    expect(page.locator("[name=items-1-qty]")).to_have_value("2")  # stored 2.0, shown without ".0"
    shot(page, "quotation-fa-390-saved")
