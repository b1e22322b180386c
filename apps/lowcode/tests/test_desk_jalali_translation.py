"""Persian in the desk: the site's Translation records over the shipped catalog (data
strings: Select values, workspace titles), every data string the apps define shipped in
fa and he, Persian's calendar and digits by default, dates read in the user's calendar
(typed, picked, in list filters) and charts bucketed and labelled in it. Both engines."""
import datetime
import html
import importlib.util
import os
import re

import jdatetime
import pytest
from babel.messages.pofile import read_po
from django.utils import translation

import lowcode
from lowcode import i18n
from lowcode.desk.doctype.dashboard_chart.dashboard_chart import buckets
from lowcode.desk.formatting import Prefs, parse_date_input, period_label

from .desk_helpers import commit, login, make_user

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def set_language(ctx, user, language):
    ctx.db.sql("UPDATE `tabUser` SET `language`=%s WHERE `name`=%s", (language, user))


@pytest.fixture
def persian_world(ctx, client, make_doctype, unique):
    """A DocType with a Select, a record, a public workspace, and a Persian System Manager
    logged in; the Translation records made are removed at the end."""
    doctype = make_doctype([{"fieldname": "title", "fieldtype": "Data", "label": "Title"},
                            {"fieldname": "stage", "fieldtype": "Select", "label": "Stage",
                             "options": f"Open\nWon {unique}", "in_standard_filter": 1}], title_field="title")
    record = lowcode.get_doc({"doctype": doctype, "title": "T", "stage": f"Won {unique}"}).insert()
    ws = lowcode.get_doc({"doctype": "Workspace", "label": f"Deals {unique}", "is_public": 1,
                          "shortcuts": [{"type": "DocType", "link_to": doctype}]}).insert()
    user = make_user(unique, "fa", ["System Manager"])
    set_language(ctx, user, "fa")
    csrf = login(ctx, client, user)
    made = []
    yield {"doctype": doctype, "route": doctype.lower().replace(" ", "-"), "record": record.name, "ws": ws.name,
           "user": user, "csrf": csrf, "made": made, "unique": unique}
    ctx.db.rollback()
    for name in made:
        if ctx.db.exists("Translation", name):
            lowcode.delete_doc("Translation", name, force=True)
    ctx.db.commit()


def add_translation(ctx, world, source, text, language="fa"):
    doc = lowcode.get_doc({"doctype": "Translation", "language": language, "source_text": source,
                           "translated_text": text}).insert()
    world["made"].append(doc.name)
    commit(ctx)
    return doc


def page(client, url):
    r = client.get(url)
    assert r.status_code == 200, r.content[:500]
    return html.unescape(r.content.decode())


def test_translation_record_translates_a_select_value_and_a_workspace_title(ctx, client, persian_world):
    w = persian_world
    won = f"Won {w['unique']}"
    before = page(client, f"/app/{w['route']}/{w['record']}")
    assert f'<option value="{won}" selected>{won}</option>' in before  # no translation yet: as stored
    add_translation(ctx, w, won, f"برنده {w['unique']}")
    add_translation(ctx, w, f"Deals {w['unique']}", f"معامله‌ها {w['unique']}")

    form = page(client, f"/app/{w['route']}/{w['record']}")
    assert f'<option value="{won}" selected>برنده {w["unique"]}</option>' in form  # shown translated, posted as stored
    listing = page(client, f"/app/{w['route']}")
    assert f">برنده {w['unique']}<" in listing  # the list's standard filter offers it translated
    home = page(client, "/app")
    assert re.search(rf'<h2[^>]*>معامله‌ها {w["unique"]}</h2>', home)
    assert ctx.db.get_value(w["doctype"], w["record"], "stage") == won  # the stored value never changes

    # an English user sees the English
    ctx.db.sql("UPDATE `tabUser` SET `language`='en' WHERE `name`=%s", (w["user"],))
    commit(ctx)
    assert f'<option value="{won}" selected>{won}</option>' in page(client, f"/app/{w['route']}/{w['record']}")


def test_saving_a_translation_clears_the_cache(ctx, client, persian_world):
    w = persian_world
    won = f"Won {w['unique']}"
    doc = add_translation(ctx, w, won, "یک")
    assert ">یک</option>" in page(client, f"/app/{w['route']}/{w['record']}")  # cached now
    doc = lowcode.get_doc("Translation", doc.name)
    doc.translated_text = "دو"
    doc.save()
    commit(ctx)
    shown = page(client, f"/app/{w['route']}/{w['record']}")
    assert ">دو</option>" in shown and ">یک</option>" not in shown
    lowcode.delete_doc("Translation", doc.name)
    commit(ctx)
    assert f">{won}</option>" in page(client, f"/app/{w['route']}/{w['record']}")


def test_site_translation_wins_over_the_shipped_catalog(ctx, unique):
    with translation.override("fa"):
        shipped = i18n.translate("Draft")
        assert shipped != "Draft"  # the catalog's Persian
        lowcode.get_doc({"doctype": "Translation", "language": "fa", "source_text": "Draft",
                         "translated_text": f"پیش‌نویس {unique}"}).insert()
        assert i18n.translate("Draft") == f"پیش‌نویس {unique}"
        assert lowcode._("Draft") == f"پیش‌نویس {unique}"
    with translation.override("he"):
        assert i18n.translate("Draft") != f"پیش‌نویس {unique}"  # another language's record is not used
    ctx.db.rollback()  # (forgets the cached map too)
    with translation.override("fa"):
        assert i18n.translate("Draft") == shipped


def test_only_a_system_manager_writes_translations(ctx, client, unique):
    clerk = make_user(unique, "clerk", ["Sales User"])
    csrf = login(ctx, client, clerk)
    r = client.post("/api/resource/Translation", data={"language": "fa", "source_text": "New",
                                                       "translated_text": "X"},
                    content_type="application/json", HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 403, r.content
    assert not ctx.db.sql("SELECT 1 FROM `tabTranslation` WHERE `translated_text`='X'")
    assert client.get("/api/resource/Translation").status_code == 403
    lowcode.set_user(clerk)
    try:
        with pytest.raises(lowcode.PermissionError):
            lowcode.get_doc({"doctype": "Translation", "language": "fa", "source_text": "New",
                             "translated_text": "X"}).insert()
    finally:
        lowcode.set_user("Administrator")


def _extractor():
    spec = importlib.util.spec_from_file_location("extract_messages",
                                                  os.path.join(ROOT, "scripts", "extract_messages.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_data_string_of_the_apps_has_fa_and_he():
    extractor = _extractor()
    strings = extractor.data_messages()
    # Select options, workflow states and actions, fixture labels
    assert {"Draft", "Lost", "Sales", "New leads", "Open leads", "Service Team"} <= set(strings), strings[:50]
    missing = {}
    for lang in ("fa", "he"):
        with open(extractor.po_path(lang), "rb") as f:
            catalog = read_po(f, locale=lang)
        missing[lang] = [s for s in strings if not (catalog.get(s) and catalog.get(s).string
                                                     and not catalog.get(s).fuzzy)]
    assert missing == {"fa": [], "he": []}


def test_a_new_persian_user_gets_jalali_and_persian_digits(ctx, unique):
    fa = lowcode.get_doc({"doctype": "User", "email": f"fa-{unique}@example.com", "first_name": "P",
                          "language": "fa"}).insert()
    assert (fa.calendar, int(fa.use_local_digits)) == ("Jalali", 1)
    chosen = lowcode.get_doc({"doctype": "User", "email": f"fa2-{unique}@example.com", "first_name": "Q",
                              "language": "fa", "calendar": "Gregorian"}).insert()
    assert (chosen.calendar, int(chosen.use_local_digits or 0)) == ("Gregorian", 0)
    en = lowcode.get_doc({"doctype": "User", "email": f"en-{unique}@example.com", "first_name": "E"}).insert()
    assert (en.calendar, int(en.use_local_digits or 0)) == ("Gregorian", 0)


def test_choosing_persian_in_settings_brings_jalali_and_digits(ctx, client, unique):
    user = make_user(unique, "switch", [])
    csrf = login(ctx, client, user)

    def save(**form):
        r = client.post("/app/my-settings", data=dict(form, csrf_token=csrf), HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
        assert r.status_code == 302, r.content[:300]
        ctx.db.rollback()
        return ctx.db.sql("SELECT `calendar`, `use_local_digits` FROM `tabUser` WHERE `name`=%s", (user,),
                          as_dict=True)[0]

    # only the language changed on the form: Persian's calendar and digits come with it
    got = save(language="fa", calendar="Gregorian")
    assert (got["calendar"], int(got["use_local_digits"])) == ("Jalali", 1)
    # back to English: Gregorian and Latin digits again
    got = save(language="en", calendar="Jalali", use_local_digits="1")
    assert (got["calendar"], int(got["use_local_digits"])) == ("Gregorian", 0)
    # chosen otherwise on the same form: kept
    got = save(language="fa", calendar="Jalali")
    assert (got["calendar"], int(got["use_local_digits"])) == ("Jalali", 1)
    got = save(language="en", calendar="Gregorian", use_local_digits="1")  # from fa: calendar changed, digits kept on
    assert (got["calendar"], int(got["use_local_digits"])) == ("Gregorian", 0)


def test_dates_are_read_in_the_users_calendar():
    jalali, gregorian = Prefs("fa", "Jalali", 1), Prefs("en")
    assert parse_date_input("۱۴۰۵/۰۹/۱۴", jalali) == "2026-12-05"
    assert parse_date_input("1405/9/14", jalali) == "2026-12-05"
    assert parse_date_input("2026-12-05", jalali) == "2026-12-05"  # ISO stays Gregorian
    assert parse_date_input("2026/12/5", gregorian) == "2026-12-05"  # typed with slashes
    assert parse_date_input("2026-2-30", gregorian) == "2026-2-30"  # not a date: the field refuses it by name


def test_charts_follow_the_users_calendar():
    day = datetime.date(2026, 12, 5)  # 1405/09/14, a Saturday
    monthly = buckets("Last Quarter", "Monthly", today=day, calendar="Jalali")
    starts = [jdatetime.date.fromgregorian(date=start) for start, _ in monthly]
    assert all(j.day == 1 for j in starts) and [j.month for j in starts] == [6, 7, 8, 9]  # Jalali months
    assert all(a[1] == b[0] for a, b in zip(monthly, monthly[1:]))  # no gap, no overlap
    weekly = buckets("Last Month", "Weekly", today=day, calendar="Jalali")
    assert all(start.weekday() == 5 for start, _ in weekly)  # Saturday
    assert period_label(monthly[-1][0].isoformat(), "Monthly", Prefs("fa", "Jalali", 1)) == "آذر ۱۴۰۵"
    assert period_label("2026-12-01", "Monthly", Prefs("en")) == "Dec 2026"
    assert period_label(day.isoformat(), "Weekly", Prefs("fa", "Jalali", 1)) == "۱۴۰۵/۰۹/۱۴"


def test_list_date_filter_typed_in_jalali(ctx, client, make_doctype, unique):
    doctype = make_doctype([{"fieldname": "title", "fieldtype": "Data", "label": "Title", "in_list_view": 1},
                            {"fieldname": "due", "fieldtype": "Date", "label": "Due", "in_standard_filter": 1}],
                           title_field="title")
    lowcode.get_doc({"doctype": doctype, "title": f"Hit {unique}", "due": "2026-12-05"}).insert()
    lowcode.get_doc({"doctype": doctype, "title": f"Miss {unique}", "due": "2026-12-06"}).insert()
    user = make_user(unique, "jalali", ["System Manager"])
    ctx.db.sql("UPDATE `tabUser` SET `language`='fa', `calendar`='Jalali' WHERE `name`=%s", (user,))
    login(ctx, client, user)
    shown = page(client, f"/app/{doctype.lower().replace(' ', '-')}?due=" + "۱۴۰۵/۰۹/۱۴")
    assert f"Hit {unique}" in shown and f"Miss {unique}" not in shown
    assert 'data-datepicker="date"' in shown  # the filter input has the picker


def test_timeline_sentence_speaks_the_users_words(ctx, client, make_doctype, unique):
    doctype = make_doctype([{"fieldname": "title", "fieldtype": "Data", "label": "Title"},
                            {"fieldname": "stage", "fieldtype": "Select", "label": f"Phase {unique}",
                             "options": f"Open\nWon {unique}"}], title_field="title", track_changes=1)
    doc = lowcode.get_doc({"doctype": doctype, "title": "T", "stage": "Open"}).insert()
    doc.stage = f"Won {unique}"
    doc.save()
    made = [lowcode.get_doc({"doctype": "Translation", "language": "fa", "source_text": source,
                             "translated_text": text}).insert().name
            for source, text in ((f"Won {unique}", f"برنده {unique}"), (f"Phase {unique}", f"مرحله {unique}"))]
    user = make_user(unique, "reader", ["System Manager"])
    set_language(ctx, user, "fa")
    login(ctx, client, user)
    try:
        shown = page(client, f"/app/{doctype.lower().replace(' ', '-')}/{doc.name}")
        timeline = re.search(r'<ul[^>]*id="timeline".*?</ul>', shown, re.S).group(0)
        # the field's label and the Select's values in the site's words; "Open" from the catalog
        assert f"مرحله {unique}" in timeline and f"برنده {unique}" in timeline, timeline
        with translation.override("fa"):
            assert i18n.translate("Open") in timeline
    finally:
        ctx.db.rollback()
        for name in made:
            lowcode.delete_doc("Translation", name, force=True)
        ctx.db.commit()


def test_filter_builder_date_typed_in_jalali(ctx, client, make_doctype, unique):
    doctype = make_doctype([{"fieldname": "title", "fieldtype": "Data", "label": "Title", "in_list_view": 1},
                            {"fieldname": "due", "fieldtype": "Date", "label": "Due"}], title_field="title")
    user = make_user(unique, "builder", ["System Manager"])
    ctx.db.sql("UPDATE `tabUser` SET `language`='fa', `calendar`='Jalali' WHERE `name`=%s", (user,))
    login(ctx, client, user)
    r = client.get(f"/app/{doctype.lower().replace(' ', '-')}", {"add_field": "due", "add_op": ">=",
                                                                    "add_value": "۱۴۰۵/۰۹/۱۴"})
    assert r.status_code == 302
    from urllib.parse import parse_qs, urlsplit
    assert parse_qs(urlsplit(r["Location"]).query)["filters"] == ['[["due", ">=", "2026-12-05"]]']


def test_a_system_manager_edits_translations_in_the_desk(ctx, client, unique):
    admin = make_user(unique, "sysman", ["System Manager"])
    clerk = client.__class__(HTTP_HOST=client.defaults["HTTP_HOST"])
    login(ctx, clerk, make_user(unique, "clerk2", ["Sales User"]))
    assert clerk.get("/app/translation/new").status_code == 403
    csrf = login(ctx, client, admin)
    assert client.get("/app/translation/new").status_code == 200
    r = client.post("/app/translation/new", {"language": "fa", "source_text": f"Source {unique}",
                                             "translated_text": f"ترجمه {unique}"}, HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 302, r.content[:300]
    ctx.db.rollback()
    try:
        with translation.override("fa"):
            assert i18n.translate(f"Source {unique}") == f"ترجمه {unique}"
    finally:
        ctx.db.sql("DELETE FROM `tabTranslation` WHERE `source_text`=%s", (f"Source {unique}",))
        ctx.db.commit()
        i18n.forget_translations("fa")
