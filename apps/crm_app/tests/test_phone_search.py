"""Phone search is normalised: a number however typed (09123456789, +98 912 345 6789,
0912-345-6789, Persian digits) finds the same lead in list, link and global search,
through its indexed ``*_e164`` columns, and only the leads the user may read."""
import html
import re

import phonenumbers
import pytest

import lowcode
from lowcode import query
from lowcode.fields.text import phone_search_e164
from lowcode.tests.desk_helpers import login

from crm_app.tests.helpers import as_user, make_lead, make_user, ok, unique_mobile

_PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def typed_forms(mobile):
    """The ways people type the mobile ``09123456789``."""
    e164 = phonenumbers.format_number(phonenumbers.parse(mobile, "IR"), phonenumbers.PhoneNumberFormat.E164)
    return [mobile, f"+98 {mobile[1:4]} {mobile[4:7]} {mobile[7:]}", f"{mobile[:4]}-{mobile[4:7]}-{mobile[7:]}",
            mobile.translate(_PERSIAN)], e164


def test_a_search_term_is_a_phone_number_only_when_it_is_one():
    forms, e164 = typed_forms("09123456789")
    assert {phone_search_e164(f) for f in forms} == {e164} == {"+989123456789"}
    for text in ("2024", "Sara Karimi", "0912", "LEAD-0001", "", None, "12345678901234567"):
        assert phone_search_e164(text) is None, text


def test_a_phone_search_is_an_equality_on_the_normalised_columns(ctx):
    meta = lowcode.get_meta("Lead")
    assert query.search_or_filters(meta, "0912-345-6789") == [["mobile_e164", "=", "+989123456789"],
                                                               ["phone_e164", "=", "+989123456789"]]
    assert ["lead_name", "like", "%Sara%"] in query.search_or_filters(meta, "Sara")
    # a DocType without normalised columns keeps searching the text
    assert all(op == "like" for _, op, _ in query.search_or_filters(lowcode.get_meta("Product"), "09123456789"))


@pytest.fixture
def leads(ctx, unique):
    """Alice's and Bob's leads (Sales Users: each sees only their own) with the same mobile."""
    alice, bob = make_user(unique, "alice"), make_user(unique, "bob")
    mobile = unique_mobile()
    with as_user(alice):
        mine = make_lead("Parisa", mobile_no=mobile)
    with as_user(bob):
        theirs = make_lead("Reza", mobile_no=mobile)
    return {"alice": alice, "mine": mine.name, "theirs": theirs.name, "mobile": mobile}


def test_every_way_of_typing_a_number_finds_the_same_lead_everywhere(ctx, client, leads):
    login(ctx, client, leads["alice"])
    forms, _ = typed_forms(leads["mobile"])
    for typed in forms:
        found = ok(client.get("/api/method/frappe.desk.search.search_link",
                              {"doctype": "Lead", "txt": typed}))["message"]
        assert [r["value"] for r in found] == [leads["mine"]], typed  # Bob's lead stays hidden
        for url in ("/app/lead", "/app"):  # list search and global search
            response = client.get(url, {"q": typed})
            assert response.status_code == 200, (url, typed)
            text = html.unescape(response.content.decode())
            assert f"/app/lead/{leads['mine']}" in text, (url, typed)
            assert f"/app/lead/{leads['theirs']}" not in text, (url, typed)


def test_a_partial_number_still_searches_the_typed_text(ctx, client, leads):
    login(ctx, client, leads["alice"])
    found = ok(client.get("/api/method/frappe.desk.search.search_link",
                          {"doctype": "Lead", "txt": leads["mobile"][:8]}))["message"]
    assert leads["mine"] in [r["value"] for r in found]
