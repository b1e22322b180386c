"""Numbers in the desk: amounts in the currency's own precision (no ".00" for the Rial),
quantities without a trailing ".0", and numbers, amounts, percentages, dates and phone
numbers isolated left to right so Persian and Hebrew pages never reorder them."""
import pytest

import lowcode
from lowcode import auth
from lowcode.desk import formatting
from lowcode.desk.formatting import Prefs, display_value, format_value, isolate, parse_input
from lowcode.tests.desk_helpers import commit

FLOAT, PERCENT, CURRENCY = {"fieldtype": "Float"}, {"fieldtype": "Percent"}, {"fieldtype": "Currency"}


@pytest.mark.parametrize("value,shown", [(2.0, "2"), (2, "2"), (2.5, "2.5"), (0.1 + 0.2, "0.3"), (1234.125, "1,234.125"),
                                         (-3.0, "-3")])
def test_a_quantity_shows_the_decimals_it_has(value, shown):
    assert format_value(value, FLOAT, Prefs("en")) == shown


def test_a_field_precision_fixes_the_decimals():
    assert format_value(2, dict(FLOAT, precision="2"), Prefs("en")) == "2.00"
    # rounded (as Frappe and the browser round), not cut off
    assert format_value(1234.5, dict(CURRENCY, precision="0"), Prefs("en", currency="USD")) == "1,235 USD"


def test_amounts_use_the_currencys_precision_with_grouping():
    assert formatting.currency_precision("IRR") == formatting.currency_precision("IRT") == 0
    assert formatting.currency_precision("USD") == formatting.currency_precision("ILS") == 2
    assert format_value(1234567, CURRENCY, Prefs("fa", currency="IRR")) == "1,234,567 IRR"
    assert format_value(1234567.0, CURRENCY, Prefs("en", currency="IRT")) == "1,234,567 IRT"
    assert format_value(1234.5, CURRENCY, Prefs("en", currency="USD")) == "1,234.50 USD"
    assert format_value(1234567, CURRENCY, Prefs("fa", local_digits=True, currency="IRR")) == "۱,۲۳۴,۵۶۷ IRR"


@pytest.mark.parametrize("lang", ["en", "fa", "he"])
def test_a_negative_percentage_keeps_its_sign_and_is_isolated(lang):
    assert format_value(-4.7, PERCENT, Prefs(lang)) == "-4.7%"
    assert str(display_value(-4.7, PERCENT, Prefs(lang))) == '<bdi dir="ltr">-4.7%</bdi>'
    assert str(display_value(-4.7, PERCENT, Prefs(lang, local_digits=True))) == '<bdi dir="ltr">-۴.۷%</bdi>'


def test_dates_and_phones_are_isolated_and_text_is_only_escaped():
    assert str(display_value("2026-03-25", {"fieldtype": "Date"}, Prefs("fa"))) == '<bdi dir="ltr">2026-03-25</bdi>'
    assert str(display_value("+98 912 345 6789", {"fieldtype": "Data", "options": "Phone"}, Prefs("he"))) \
        == '<bdi dir="ltr">+98 912 345 6789</bdi>'
    assert str(display_value("<b>-5</b>", {"fieldtype": "Data"}, Prefs("fa"))) == "&lt;b&gt;-5&lt;/b&gt;"
    assert str(display_value(None, PERCENT, Prefs("fa"))) == ""


def test_plain_text_gets_unicode_isolates_and_input_drops_them():
    assert isolate("-4.7%") == "\u2066-4.7%\u2069" and isolate("") == ""
    assert parse_input("\u2066-4.7\u2069", PERCENT, Prefs("fa")) == "-4.7"
    assert parse_input("\u2066۱۴۰۵/۰۱/۰۵\u2069", {"fieldtype": "Date"}, Prefs("fa", "Jalali")) == "2026-03-25"


def test_a_persian_list_isolates_numbers_and_keeps_inputs_plain(ctx, client, make_doctype, unique):
    doctype = make_doctype([
        {"fieldname": "title", "fieldtype": "Data", "label": "Title", "in_list_view": 1},
        {"fieldname": "change", "fieldtype": "Percent", "label": "Change", "in_list_view": 1},
        {"fieldname": "qty", "fieldtype": "Float", "label": "Qty", "in_list_view": 1},
        {"fieldname": "due", "fieldtype": "Date", "label": "Due"},
    ], title_field="title")
    user = f"fa-{unique}@example.com"
    lowcode.get_doc({"doctype": "User", "email": user, "first_name": "Persian", "language": "fa",
                     "calendar": "Jalali", "roles": [{"role": "System Manager"}]}).insert()
    doc = lowcode.get_doc({"doctype": doctype, "title": "Fall", "change": -4.7, "qty": 2.0,
                           "due": "2026-03-25"}).insert()
    commit(ctx)
    client.cookies["sid"] = auth.start_session(user, desk=True).sid
    commit(ctx)
    route = doctype.lower().replace(" ", "-")
    page = client.get(f"/app/{route}").content.decode()
    assert '<bdi dir="ltr">-4.7%</bdi>' in page
    assert '<bdi dir="ltr">2</bdi>' in page  # the quantity 2.0 without its ".0"
    form = client.get(f"/app/{route}/{doc.name}").content.decode()
    assert 'value="1405/01/05"' in form  # an input's value: the text, never markup


@pytest.mark.parametrize("value,held", [(2.0, "2"), (2.5, "2.5"), (1500000.0, "1500000"), (1.23456789, "1.23456789"),
                                        (-4.7, "-4.7"), (None, ""), ("abc", "abc")])
def test_a_number_input_holds_the_value_without_a_trailing_zero(value, held):
    assert formatting.input_value(value, FLOAT) == held
    assert formatting.input_value("2.0", {"fieldtype": "Data"}) == "2.0"  # text stays as typed


def test_a_quotation_form_shows_quantities_without_dot_zero(ctx, client):
    from crm_app.tests.helpers import make_customer, make_product, make_quotation
    product = make_product(rate=1500000)
    quotation = make_quotation(make_customer().name, [{"product": product, "qty": 2, "rate": 1500000}])
    commit(ctx)
    client.cookies["sid"] = auth.start_session("Administrator", desk=True).sid
    commit(ctx)
    form = client.get(f"/app/quotation/{quotation.name}").content.decode()
    assert 'name="items-1-qty"' in form
    assert 'value="2"' in form and 'value="2.0"' not in form
    assert 'value="1500000"' in form and "1500000.0" not in form


def test_a_reply_quotes_the_date_isolated_for_right_to_left_text():
    from django.utils import translation
    from lowcode.channels.compose import reply_values
    with translation.override("fa"):
        values = reply_values({"subject": "Offer", "content": "<p>Hello</p>", "sender": "a@example.com",
                               "communication_date": "2026-05-01 10:30:00"})
    assert "\u20662026-05-01 10:30\u2069" in values["message"] and "\u2066a@example.com\u2069" in values["message"]


def test_month_keys_and_labels_follow_the_calendar():
    from lowcode.desk.formatting import Prefs, month_label, month_of
    jalali, gregorian = Prefs("fa", "Jalali", True), Prefs("en", "Gregorian", False)
    assert month_of("2026-01-20", jalali) == "1404-10" and month_of("2026-01-21", jalali) == "1404-11"
    assert month_of("2026-01-21 09:00:00", gregorian) == "2026-01" and month_of(None, gregorian) == ""
    assert month_label("1404-11", jalali) == "بهمن ۱۴۰۴"
    assert month_label("2026-01", gregorian) == "Jan 2026"


def test_a_number_field_shows_what_was_typed_when_it_is_not_a_number():
    # a form shown again with the typed text and its error: no unit or sign added
    prefs = Prefs(lang="en", currency="USD")
    for fieldtype in ("Int", "Float", "Currency", "Percent", "Rating", "Duration", "Check"):
        assert format_value("12abc", {"fieldtype": fieldtype, "fieldname": "x"}, prefs) == "12abc", fieldtype
