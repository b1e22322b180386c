"""An app adds a field type through its ``field_types`` hook, in one file (plus its control
template): on the sites that install the app the type has a column, its own validation,
list filters, a desk control, and a place in the DocField/Custom Field option lists;
other sites do not know it."""
import pytest

import lowcode
from lowcode import installer
from lowcode.exceptions import ValidationError
from lowcode.fields import registry, types_where
from lowcode.meta import get_meta
from lowcode.utils import route_for

from .desk_helpers import commit, login

FIELD_TYPE = '''
import re

from lowcode.fields import FieldType
from lowcode.fields.base import ascii_digits


class PostalCode(FieldType):
    """An Iranian postal code: ten digits, typed with or without the dash."""
    name = "Postal Code {unique}"
    ltr = True
    control_template = "{app}/controls/postal_code.html"

    def length(self, df):
        return 10

    def coerce(self, value, df):
        value = super().coerce(value, df)
        text = ascii_digits(value or "").replace("-", "").replace(" ", "")
        if not text:
            return None
        if not re.fullmatch(r"[0-9]{{10}}", text):
            raise self.error(df, f"{{value!r}} is not a ten-digit postal code")
        return text

    def format(self, value, df, prefs):
        return value[:5] + "-" + value[5:]
'''

CONTROL = ('<input class="{{ cls }}" id="{{ id }}" name="{{ name }}" value="{{ value or \'\' }}" '
           'inputmode="numeric" dir="ltr" data-postal-code {{ \'readonly\' if ro }}>\n')


def test_an_app_registers_a_field_type_through_its_hook(ctx, client, temp_app, make_doctype, unique):
    app = temp_app(hooks=f'field_types = ["ftapp_{unique}.postal.PostalCode"]\n', name=f"ftapp_{unique}")
    app.write("postal.py", FIELD_TYPE.format(unique=unique, app=app.name))
    app.write(f"templates/{app.name}/controls/postal_code.html", CONTROL)
    type_name = f"Postal Code {unique}"
    assert type_name not in registry  # not installed yet: unknown here
    with pytest.raises(ValidationError) as info:
        make_doctype([{"fieldname": "postal", "fieldtype": type_name, "label": "Postal"}])
    assert info.value.field == "fieldtype" and type_name in str(info.value)
    ctx.db.rollback()
    ctx.db.begin()

    installer.install_app(app.name)
    ctx.db.commit()
    doctype = None
    try:
        assert type_name in registry and type_name in types_where("ltr")
        assert type_name in get_meta("DocField").get_field("fieldtype").options.split("\n")
        assert type_name in get_meta("Custom Field").get_field("fieldtype").options.split("\n")
        doctype = make_doctype([{"fieldname": "title", "fieldtype": "Data", "label": "Title"},
                                {"fieldname": "postal", "fieldtype": type_name, "label": "Postal",
                                 "in_standard_filter": 1, "in_list_view": 1}], title_field="title")
        # a column, holding what the type's coerce made of the input
        doc = lowcode.get_doc({"doctype": doctype, "title": "Home", "postal": "۱۲۳۴۵-۶۷۸۹۰"}).insert()
        assert ctx.db.sql(f"SELECT `postal` FROM `tab{doctype}` WHERE `name`=%s", (doc.name,))[0][0] == "1234567890"
        other = lowcode.get_doc({"doctype": doctype, "title": "Work", "postal": "9876543210"}).insert()
        # its validation, naming the field, nothing written
        with pytest.raises(ValidationError) as info:
            lowcode.get_doc({"doctype": doctype, "title": "Bad", "postal": "123"}).insert()
        assert info.value.field == "postal" and "ten-digit" in str(info.value)
        assert not lowcode.get_list(doctype, filters={"title": "Bad"})
        # list filters, through the API and the desk's list
        assert lowcode.get_list(doctype, filters={"postal": "12345-67890"}, pluck="name") == [doc.name]
        csrf = login(ctx, client, "Administrator")
        page = client.get(f"/app/{route_for(doctype)}", {"postal": "12345-67890"}).content.decode()
        assert doc.name in page and other.name not in page
        assert "12345-67890" in page  # the list shows the type's format
        # the desk control: the app's template, and the form reads the typed value back
        page = client.get(f"/app/{route_for(doctype)}/new").content.decode()
        assert 'name="postal"' in page and "data-postal-code" in page
        r = client.post(f"/app/{route_for(doctype)}/new", {"csrf_token": csrf, "title": "Shop",
                                                            "postal": "۵۵۵۵۵-۴۴۴۴۴"})
        assert r.status_code == 302, r.content[:500]
        ctx.db.commit()
        assert lowcode.get_list(doctype, filters={"title": "Shop"}, pluck="postal") == ["5555544444"]
        # the builders offer it
        for url in (f"/app/customize-form?doctype={doctype}", f"/app/doctype-builder/{doctype}"):
            assert f'<option value="{type_name}"' in client.get(url).content.decode(), url
    finally:
        ctx.db.rollback()
        ctx.db.begin()
        if doctype:  # before the app goes, so no DocType is left with a type nobody knows
            lowcode.delete_doc("DocType", doctype, ignore_permissions=True, force=True)
            ctx.db.commit()


def test_an_app_doctype_may_use_the_app_own_field_type(ctx, temp_app, unique):
    app = temp_app(hooks=f'field_types = ["ftown_{unique}.postal.PostalCode"]\n', name=f"ftown_{unique}")
    app.write("postal.py", FIELD_TYPE.format(unique=unique, app=app.name))
    doctype = f"Branch {unique}"
    app.write_doctype({"name": doctype, "autoname": "field:title",
                       "fields": [{"fieldname": "title", "fieldtype": "Data", "label": "Title"},
                                  {"fieldname": "postal", "fieldtype": f"Postal Code {unique}", "label": "Postal"}],
                       "permissions": [{"role": "System Manager", "read": 1, "write": 1, "create": 1}]})
    installer.install_app(app.name)
    ctx.db.commit()
    doc = lowcode.get_doc({"doctype": doctype, "title": "North", "postal": "12345 67890"}).insert()
    assert ctx.db.sql(f"SELECT `postal` FROM `tab{doctype}` WHERE `name`=%s", (doc.name,))[0][0] == "1234567890"


def test_an_installed_app_whose_hooks_break_is_an_error_not_no_types(ctx, temp_app, unique):
    # Registry._site() once swallowed any exception: a broken hooks.py looked like an app
    # without field types, and its DocTypes then failed later with "unknown fieldtype".
    from lowcode import apps
    app = temp_app(name=f"ftbroken_{unique}")
    app.write("hooks.py", 'app_name = "x"\nraise RuntimeError("hooks of ftbroken are broken")\n')
    lowcode.get_doc({"doctype": "Installed App", "app_name": app.name, "app_version": "0.0.1",
                     "idx": 99}).insert(ignore_permissions=True)  # recorded as installed
    apps.clear_cache(ctx.site)
    try:
        assert "Data" in registry  # the engine's own types need no hooks
        with pytest.raises(RuntimeError, match="ftbroken are broken"):
            registry.get(f"Nothing {unique}")
        with pytest.raises(RuntimeError, match="ftbroken are broken"):
            types_where("numeric")
    finally:
        ctx.db.rollback()
        ctx.db.begin()
        apps.clear_cache(ctx.site)


def test_the_desk_shows_each_field_as_its_type_says(ctx, client, make_doctype):
    # read_only_template, filter_template, option_list, kind() and rich_text decide what
    # the form, the list and the print show: no template names a type any more
    target = make_doctype([{"fieldname": "title", "fieldtype": "Data", "label": "Title"}])
    doctype = make_doctype([
        {"fieldname": "phone", "fieldtype": "Data", "options": "Phone", "label": "Phone", "read_only": 1,
         "in_list_view": 1},
        {"fieldname": "status", "fieldtype": "Select", "options": "Open\nClosed", "label": "Status",
         "in_standard_filter": 1},
        {"fieldname": "done", "fieldtype": "Check", "label": "Done", "in_standard_filter": 1},
        {"fieldname": "due", "fieldtype": "Date", "label": "Due", "in_standard_filter": 1},
        {"fieldname": "ref", "fieldtype": "Link", "options": target, "label": "Ref", "read_only": 1,
         "in_standard_filter": 1},
        {"fieldname": "notes", "fieldtype": "Text Editor", "label": "Notes"}])
    linked = lowcode.get_doc({"doctype": target, "title": "T"}).insert()
    doc = lowcode.get_doc({"doctype": doctype, "phone": "+989121234567", "status": "Open", "ref": linked.name,
                           "notes": "<p><b>bold</b></p>"}).insert()
    ctx.db.commit()
    login(ctx, client, "Administrator")
    page = client.get(f"/app/{route_for(doctype)}").content.decode()
    assert '<select class="form-select form-select-sm" name="status"' in page and '<option value="Closed"' in page
    assert '<select class="form-select form-select-sm" name="done"' in page
    assert 'name="due"' in page and 'data-datepicker="date"' in page
    assert f'data-link="{target}"' in page and 'list="dl-ref"' in page
    assert 'href="tel:+989121234567" dir="ltr" data-tel' in page  # the list's phone cell
    form = client.get(f"/app/{route_for(doctype)}/{doc.name}").content.decode()
    assert f'<a href="/app/{route_for(target)}/{linked.name}">' in form  # a read-only Link
    assert 'href="tel:+989121234567" dir="ltr" data-tel' in form and "data-sms" in form  # a read-only phone
    printed = client.get("/printview", {"doctype": doctype, "name": doc.name}).content.decode()
    assert 'class="print-value rich"><p><b>bold</b></p>' in printed
