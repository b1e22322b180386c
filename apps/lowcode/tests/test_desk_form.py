"""The form view over HTTP: a new document's form is editable, saving reads values in
the user's calendar and digits, and a validation error re-shows the form naming the
field with nothing written."""
import re

import lowcode
from lowcode.utils import route_for

from .desk_helpers import commit, login


def _doctype(make_doctype, unique):
    return make_doctype([{"fieldname": "title", "fieldtype": "Data", "label": "Title", "reqd": 1},
                         {"fieldname": "due", "fieldtype": "Date", "label": "Due"},
                         {"fieldname": "amount", "fieldtype": "Currency", "label": "Amount"},
                         {"fieldname": "email", "fieldtype": "Data", "options": "Email", "label": "Email"}],
                        name=f"Form Test {unique}", title_field="title")


def test_new_form_is_editable_and_saves_jalali_dates_and_persian_digits(ctx, client, make_doctype, unique):
    doctype = _doctype(make_doctype, unique)
    ctx.db.sql("UPDATE `tabUser` SET `calendar`='Jalali' WHERE `name`='Administrator'")
    commit(ctx)
    try:
        csrf = login(ctx, client, "Administrator")
        route = route_for(doctype)
        page = client.get(f"/app/{route}/new").content.decode()
        for field in ("title", "due", "amount", "email"):
            assert re.search(rf'<input[^>]+name="{field}"(?![^>]*readonly)', page), f"{field} is not editable"
        r = client.post(f"/app/{route}/new", {"csrf_token": csrf, "title": f"T {unique}", "due": "۱۴۰۵/۰۱/۰۱",
                                              "amount": "۱۲٬۵۰۰", "email": "a@b.ir"})
        assert r.status_code == 302, r.content[:500]
        ctx.db.commit()
        name = r["Location"].rsplit("/", 1)[1]
        doc = lowcode.get_doc(doctype, name)
        assert (doc.due, doc.amount) == ("2026-03-21", 12500.0)  # 1 Farvardin 1405
    finally:
        ctx.db.sql("UPDATE `tabUser` SET `calendar`='Gregorian' WHERE `name`='Administrator'")
        ctx.db.commit()


def test_invalid_value_reshows_the_form_with_the_field_named(ctx, client, make_doctype, unique):
    doctype = _doctype(make_doctype, unique)
    commit(ctx)
    csrf = login(ctx, client, "Administrator")
    route = route_for(doctype)
    r = client.post(f"/app/{route}/new", {"csrf_token": csrf, "title": f"Bad {unique}", "email": "not-an-email"})
    assert r.status_code == 417
    html = r.content.decode()
    assert "is-invalid" in html and "not-an-email" in html
    ctx.db.commit()
    assert lowcode.get_all(doctype, filters={"title": f"Bad {unique}"}) == []


def test_phone_field_form_has_a_tel_input_stores_e164_and_shows_a_call_link(ctx, client, make_doctype, unique):
    doctype = make_doctype([{"fieldname": "title", "fieldtype": "Data", "label": "Title", "reqd": 1},
                            {"fieldname": "mobile", "fieldtype": "Phone", "label": "Mobile", "in_list_view": 1}],
                           name=f"Phone Form {unique}", title_field="title")
    commit(ctx)
    csrf = login(ctx, client, "Administrator")
    route = route_for(doctype)
    page = client.get(f"/app/{route}/new").content.decode()
    assert re.search(r'<input[^>]+type="tel"[^>]+name="mobile"', page), "no tel input for the Phone field"
    # an invalid number: the form again, the field named, nothing written
    r = client.post(f"/app/{route}/new", {"csrf_token": csrf, "title": f"Bad {unique}", "mobile": "۰۹۱۲"})
    assert r.status_code == 417
    assert "is-invalid" in r.content.decode() and "Mobile" in r.content.decode()
    ctx.db.commit()
    assert lowcode.get_all(doctype, filters={"title": f"Bad {unique}"}) == []
    # Persian digits as typed, stored in E.164
    r = client.post(f"/app/{route}/new", {"csrf_token": csrf, "title": f"Ok {unique}", "mobile": "۰۹۱۲ ۳۴۵ ۶۷۸۹"})
    assert r.status_code == 302, r.content[:500]
    ctx.db.commit()
    name = r["Location"].rsplit("/", 1)[1]
    assert lowcode.get_doc(doctype, name).mobile == "+989123456789"
    page = client.get(f"/app/{route}/{name}").content.decode()
    assert 'value="+989123456789"' in page and 'href="tel:+989123456789"' in page
    # the list links the number for a call too
    listing = client.get(f"/app/{route}").content.decode()
    assert 'href="tel:+989123456789"' in listing


def test_controls_two_types_share_know_which_type_they_show(ctx, client, make_doctype, unique):
    """controls/date.html serves Date and Datetime, textarea.html Long Text and JSON: each
    needs the field's type (a Datetime's picker has a time input; JSON is shown as JSON)."""
    doctype = make_doctype([{"fieldname": "title", "fieldtype": "Data", "label": "Title", "reqd": 1},
                            {"fieldname": "day", "fieldtype": "Date", "label": "Day"},
                            {"fieldname": "starts", "fieldtype": "Datetime", "label": "Starts"},
                            {"fieldname": "settings", "fieldtype": "JSON", "label": "Settings"},
                            {"fieldname": "story", "fieldtype": "Long Text", "label": "Story"}],
                           name=f"Shared Controls {unique}", title_field="title")
    doc = lowcode.get_doc({"doctype": doctype, "title": "x", "settings": {"a": [1, 2]}}).insert()
    commit(ctx)
    login(ctx, client, "Administrator")
    page = client.get(f"/app/{route_for(doctype)}/{doc.name}").content.decode()
    assert re.search(r'<input[^>]+name="day"[^>]+data-datepicker="date"', page)
    assert re.search(r'<input[^>]+name="starts"[^>]+data-datepicker="datetime"', page)
    settings = re.search(r'<textarea[^>]+name="settings"[^>]*>(.*?)</textarea>', page, re.S)
    assert "font-monospace" in settings.group(0) and settings.group(1).strip() == '{"a": [1, 2]}'
    assert re.search(r'<textarea[^>]+name="story"[^>]+rows="6"', page)
