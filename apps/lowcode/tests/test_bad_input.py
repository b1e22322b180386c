"""Bad input is a 4xx naming the parameter or field, never a 500: wrong types, huge and
negative numbers, deeply nested JSON, dates out of range, unpaired surrogates, bodies
too large. Each case here answered 500 before; nothing is written by a refused request.

Over HTTP as Administrator and as a Sales User (who may read and write the test's
own DocType), on SQLite and MariaDB."""
import json
import os

import pytest

import lowcode
from lowcode import params
from lowcode.exceptions import BadRequest, DataError, ValidationError
from lowcode.sites import read_json, write_json

from crm_app.tests.helpers import body, make_user, refresh, token
from .desk_helpers import login

BIG = "99999999999999999999"
NESTED = "[" * 5000 + "]" * 5000
FIELDS = [
    {"fieldname": "title", "fieldtype": "Data", "label": "Title"},
    {"fieldname": "qty", "fieldtype": "Int", "label": "Qty"},
    {"fieldname": "amount", "fieldtype": "Currency", "label": "Amount"},
    {"fieldname": "spent", "fieldtype": "Duration", "label": "Spent"},
    {"fieldname": "flag", "fieldtype": "Check", "label": "Flag"},
    {"fieldname": "due", "fieldtype": "Date", "label": "Due", "in_list_view": 1},
    {"fieldname": "extra", "fieldtype": "JSON", "label": "Extra"},
]


@pytest.fixture
def api(ctx, make_doctype, unique):
    """The test's own DocType (one record), and API tokens for Administrator and a
    Sales User; ``api.call(who, method, path, ...)`` -> (status, JSON body)."""
    dt = make_doctype(FIELDS, autoname="hash", permissions=[
        {"role": r, "read": 1, "write": 1, "create": 1, "delete": 1, "report": 1, "export": 1}
        for r in ("System Manager", "Sales User")])
    record = lowcode.get_doc({"doctype": dt, "title": "kept", "due": "2026-05-15"}).insert().name
    sales = make_user(unique, "badinput", roles=("Sales User",))
    tokens = {"admin": token("Administrator"), "sales": token(sales)}
    refresh(ctx)

    class Api:
        doctype, name, user = dt, record, sales
        auth = tokens

        @staticmethod
        def count():
            return ctx.db.sql(f"SELECT COUNT(*) FROM `tab{dt}`")[0][0]

    return Api


def call(client, auth, method, path, data=None, raw=None, **kw):
    if raw is not None:
        r = client.generic(method.upper(), path, raw, content_type="application/json", **auth, **kw)
    elif method == "get":
        r = client.get(path, data or {}, **auth, **kw)
    else:
        r = client.generic(method.upper(), path, json.dumps(data), content_type="application/json", **auth, **kw)
    return r.status_code, body(r)


def refused(client, auth, method, path, status, names, data=None, raw=None):
    code, data = call(client, auth, method, path, data, raw)
    assert code in (status if isinstance(status, tuple) else (status,)), (code, data)
    assert names in (data.get("field") or "") + data["message"], data
    return data


WHO = ["admin", "sales"]


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("query, names", [
    ({"limit_page_length": BIG}, "limit_page_length"),
    ({"limit_start": BIG}, "limit_start"),
    ({"limit": BIG}, "limit"),
    ({"limit_page_length": "abc"}, "limit_page_length"),
    ({"limit_start": "-1"}, "limit_start"),
    ({"filters": NESTED}, "filters"),
    ({"fields": NESTED}, "fields"),
])
def test_list_parameters(ctx, client, api, who, query, names):
    refused(client, api.auth[who], "get", f"/api/resource/{api.doctype}", 400, names, query)


def test_huge_limits_are_refused_but_zero_still_means_all(ctx, client, api):
    auth = api.auth["admin"]
    for path, key in ((f"/api/resource/{api.doctype}", "limit_page_length"),
                      ("/api/method/frappe.client.get_list", "limit_page_length"),
                      ("/api/method/frappe.desk.reportview.get", "page_length"),
                      ("/api/method/frappe.desk.search.search_link", "page_length"),
                      ("/api/method/frappe.desk.reportview.export_query", "limit")):
        # 400 where the API reads the parameter, 417 where the query layer does
        refused(client, auth, "get", path, (400, 417), key, {"doctype": api.doctype, key: BIG})
        refused(client, auth, "get", path, 400, key, {"doctype": api.doctype, key: "abc"})
    code, data = call(client, auth, "get", f"/api/resource/{api.doctype}", {"limit_page_length": "0"})
    assert code == 200 and [r["name"] for r in data["data"]] == [api.name]
    code, data = call(client, auth, "post", "/api/method/frappe.client.get_list",
                      {"doctype": api.doctype, "limit_page_length": 1e300})
    assert code in (400, 417) and data["field"] == "limit_page_length", data


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("payload, status, field", [
    ({"docstatus": [1]}, 417, "docstatus"),
    ({"idx": [1]}, 417, "idx"),
    ({"docstatus": "abc"}, 417, "docstatus"),
    ({"idx": BIG}, 417, "idx"),
    ({"flag": "abc"}, 417, "flag"),
    ({"qty": int(BIG)}, 417, "qty"),
    ({"amount": 1e22}, 417, "amount"),
    ({"spent": 1e300}, 417, "spent"),
    ({"spent": "99999999999999999999999d"}, 417, "spent"),
    ({"spent": "\u00b2:00"}, 417, "spent"),  # a digit to str.isdigit(), not to int()
    ({"extra": NESTED}, 417, "extra"),
    ({"owner": ["x"]}, 417, "owner"),
    ({"title": "\ud800"}, 400, "request body"),
])
def test_document_values(ctx, client, api, who, payload, status, field):
    before = api.count()
    refused(client, api.auth[who], "post", f"/api/resource/{api.doctype}", status, field, payload)
    refused(client, api.auth[who], "put", f"/api/resource/{api.doctype}/{api.name}", status, field, payload)
    assert api.count() == before


@pytest.mark.parametrize("raw, names", [
    (NESTED, "request body"),
    ('{"title": ' + NESTED + "}", "request body"),
    ('{"data": "[1]"}', "data"),
    ('{"data": "5"}', "data"),
    ('{"data": "' + NESTED + '"}', "data"),
])
def test_request_bodies(ctx, client, api, raw, names):
    before = api.count()
    refused(client, api.auth["sales"], "post", f"/api/resource/{api.doctype}", 400, names, raw=raw)
    assert api.count() == before


@pytest.mark.parametrize("method, data, status, names", [
    ("frappe.client.insert", {"doc": [{"title": "x"}]}, 400, "doc"),
    ("frappe.client.insert", {"doc": 5}, 417, "doc"),
    ("frappe.client.insert", {"doc": "[1]"}, 417, "doc"),
    ("frappe.client.insert", {"doc": NESTED}, 417, "doc"),
    ("frappe.client.insert_many", {"docs": [5]}, 417, "doc"),
    ("frappe.client.save", {"doc": [1]}, 400, "doc"),
    ("frappe.client.submit", {"doc": "[1]"}, 417, "doc"),
    ("frappe.client.delete", {"doctype": "{dt}", "name": [1]}, 400, "name"),
    ("frappe.client.cancel", {"doctype": ["{dt}"], "name": "x"}, 400, "doctype"),
    ("frappe.client.rename_doc", {"doctype": "{dt}", "old_name": [1], "new_name": {}}, 400, "old_name"),
    ("frappe.client.set_value", {"doctype": "{dt}", "name": ["x"], "fieldname": {"qty": 1}}, 400, "name"),
    ("frappe.client.get_list", {"doctype": {"a": 1}}, 400, "doctype"),
    ("frappe.client.get_list", {"doctype": "{dt}", "order_by": [1]}, 400, "order_by"),
    ("frappe.model.workflow.apply_workflow", {"doc": [1], "action": "x"}, 400, "doc"),
    ("frappe.core.doctype.user.user.generate_keys", {"user": [1]}, 400, "user"),
    ("login", {"usr": [1], "pwd": {}}, 400, "usr"),
])
def test_method_arguments(ctx, client, api, method, data, status, names):
    data = json.loads(json.dumps(data).replace("{dt}", api.doctype))
    before = api.count()
    refused(client, api.auth["sales"], "post", f"/api/method/{method}", status, names, data)
    assert api.count() == before


@pytest.mark.parametrize("doctype, data, field", [
    ("Report", {"report_name": "r-{u}", "ref_doctype": "ToDo", "json": NESTED}, "json"),
    ("Number Card", {"label": "n-{u}", "document_type": "ToDo", "filters_json": NESTED}, "filters_json"),
    ("User", {"email": ["u-{u}@example.com"], "first_name": "U"}, "email"),
])
def test_controllers_refuse_bad_values(ctx, client, api, unique, doctype, data, field):
    """Values a DocType's controller reads before the fields are coerced."""
    data = json.loads(json.dumps(data).replace("{u}", unique))
    refused(client, api.auth["admin"], "post", f"/api/resource/{doctype}", 417, field, data)


def test_aggregate_of_a_back_quoted_field(ctx, client, api):
    """Frappe clients send fields=["count(`name`)"]: the key keeps the back-quotes."""
    for path in (f"/api/resource/{api.doctype}", "/api/method/frappe.client.get_list"):
        code, data = call(client, api.auth["sales"], "get", path,
                          {"doctype": api.doctype, "fields": '["count(`name`)"]', "order_by": "count(`name`) desc"})
        assert code == 200, data
        assert (data.get("data") or data.get("message")) == [{"count(`name`)": 1}]


@pytest.mark.parametrize("query, names", [
    ({"days_back": "abc"}, "days_back"),
    ({"days_back": BIG}, "days_back"),
    ({"days_back": "-1"}, "days_back"),
    ({"days_ahead": "99999999"}, "days_ahead"),
])
def test_ics_feed_days(ctx, client, api, query, names):
    auth = api.auth["sales"]
    refused(client, auth, "get", "/api/method/crm_app.activities.ics_feed", 400, names, query)
    r = client.get("/api/method/crm_app.activities.ics_feed", {"days_back": "7"}, **auth)
    assert r.status_code == 200 and r.content.startswith(b"BEGIN:VCALENDAR")


@pytest.mark.parametrize("who", ["Administrator", "user"])
def test_desk_list_and_calendar_parameters(ctx, client, api, who):
    from lowcode.utils import route_for
    login(ctx, client, "Administrator" if who == "Administrator" else api.user)
    route = route_for(api.doctype)
    for query, names in (({"page_length": "abc"}, "page_length"), ({"page": "abc"}, "page"),
                         ({"page": BIG}, "page")):
        r = client.get(f"/app/{route}", query)
        assert r.status_code == 400 and names in r.content.decode(), (query, r.status_code)
    assert client.get(f"/app/{route}", {"page_length": "100", "page": "2"}).status_code == 200
    r = client.get(f"/app/{route}", {"filters": NESTED})
    assert r.status_code == 417 and "filters" in r.content.decode()
    for mode in ("month", "week", "day"):
        for day in ("0001-01-01", "9999-12-31", "abc"):
            r = client.get(f"/app/{route}/view/calendar", {"date": day, "mode": mode})
            assert r.status_code == 400 and "date" in r.content.decode(), (mode, day, r.status_code)
    assert client.get(f"/app/{route}/view/calendar", {"date": "9998-12-31", "mode": "month"}).status_code == 200


def test_calendar_cannot_move_an_event_out_of_range(ctx, client, api):
    from lowcode.utils import route_for
    csrf = login(ctx, client, api.user)
    path = f"/app/{route_for(api.doctype)}/view/calendar/move"
    for to_date, status in (("9999-12-31", 400), ("9998-12-31", 417)):
        r = client.post(path, {"name": api.name, "field": "due", "from_date": "1000-01-01", "to_date": to_date},
                        HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
        assert r.status_code == status, r.content
    assert lowcode.db.get_value(api.doctype, api.name, "due") == "2026-05-15"


def test_names_longer_than_the_column_are_refused_on_both_engines(ctx, client, api, make_doctype, unique):
    prompted = make_doctype([{"fieldname": "title", "fieldtype": "Data"}], autoname="prompt")
    refresh(ctx)
    auth = api.auth["admin"]
    refused(client, auth, "post", f"/api/resource/{prompted}", 417, "name", {"__newname": "x" * 141})
    code, data = call(client, auth, "post", f"/api/resource/{prompted}", {"__newname": "x" * 140})
    assert code == 200, data
    refused(client, auth, "post", "/api/method/frappe.client.rename_doc", 417, "name",
            {"doctype": prompted, "old_name": "x" * 140, "new_name": "y" * 141})


def test_desk_forms_with_bad_values(ctx, client, api):
    from lowcode.utils import route_for
    csrf = login(ctx, client, "Administrator")
    route, post = route_for(api.doctype), {"HTTP_X_FRAPPE_CSRF_TOKEN": csrf}
    r = client.post(f"/app/{route}/{api.name}", {"_action": "app:abc"}, **post)
    assert r.status_code == 400 and "_action" in r.content.decode()
    r = client.post(f"/app/{route}/view/calendar/move", {"name": api.name, "field": "due", "from_date": "2026-05-15",
                                                          "to_date": "2026-05-16", "to_hour": "\u00b2"}, **post)
    assert r.status_code == 400 and "to_hour" in r.content.decode()
    r = client.post("/app/workflow-builder/__graph", {"states-0-state": "A", "states-0-doc_status": "abc"}, **post)
    assert r.status_code == 200  # a preview of rows not yet validated: drawn as a draft
    r = client.post("/app/customize-form", {"doctype": api.doctype, "row": "0", "f-0-fieldname": "wide",
                                            "f-0-label": "Wide", "f-0-fieldtype": "Data", "f-0-is_new": "1",
                                            "f-0-length": "99999999999999"}, **post)
    assert r.status_code == 417 and "length" in r.content.decode()
    assert not lowcode.get_meta(api.doctype).has_field("wide")


@pytest.mark.parametrize("typed", ["abc/1/2", "1403/13/40", "1/2", "9999/12/29", "\u00b2/1/1"])
def test_a_jalali_date_that_is_no_date_is_refused_by_field(ctx, client, api, typed):
    from lowcode.utils import route_for
    lowcode.db.sql("UPDATE `tabUser` SET `calendar`='Jalali' WHERE `name`=%s", (api.user,))
    csrf = login(ctx, client, api.user)
    r = client.post(f"/app/{route_for(api.doctype)}/new", {"title": "jalali", "due": typed},
                    HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 417 and "Due" in r.content.decode(), (r.status_code, r.content[:300])
    r = client.post(f"/app/{route_for(api.doctype)}/new", {"title": "jalali", "due": "1405/02/25"},
                    HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 302
    assert lowcode.db.sql(f"SELECT `due` FROM `tab{api.doctype}` WHERE `title`='jalali'")[0][0] == "2026-05-15"


@pytest.mark.parametrize("calendar", ["Jalali", "Gregorian"])
def test_dates_outside_the_jalali_years_and_typos_still_render(ctx, client, api, calendar):
    from lowcode.utils import route_for
    for due in ("0001-01-01", "9999-12-31"):
        lowcode.get_doc({"doctype": api.doctype, "title": f"edge {due}", "due": due}).insert()
    lowcode.db.sql("UPDATE `tabUser` SET `calendar`=%s WHERE `name`=%s", (calendar, api.user))
    csrf = login(ctx, client, api.user)
    r = client.get(f"/app/{route_for(api.doctype)}")
    assert r.status_code == 200 and "0001-01-01" in r.content.decode()
    r = client.post(f"/app/{route_for(api.doctype)}/new", {"title": "typo", "due": "2026-13-45", "qty": "1,2,x"},
                    HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 417 and "2026-13-45" in r.content.decode()


def test_field_lengths_are_bounded_in_definitions():
    from lowcode.exceptions import DocTypeDefinitionError
    from lowcode.meta import MAX_LENGTH, validate_definition
    for length in (MAX_LENGTH + 1, -1, "inf", "1e400"):
        with pytest.raises(DocTypeDefinitionError, match="length"):
            validate_definition({"name": "Wide", "fields": [{"fieldname": "a", "fieldtype": "Data", "length": length}]},
                                {})


@pytest.mark.parametrize("method, data, names", [
    ("crm_app.customer_360.get_customer_360", {"customer": {"a": 1}}, "customer"),
    ("crm_app.party_360.get_party_360", {"doctype": "Supplier", "name": {"a": 1}}, "name"),
    ("crm_app.reports.sales_funnel", {"from_date": [1]}, "from_date"),
    ("crm_app.doctype.lead.lead.duplicates", {"lead": [1]}, "lead"),
    ("crm_app.conversion.convert_lead", {"lead": [1]}, "lead"),
])
def test_crm_methods_check_argument_types(ctx, client, api, method, data, names):
    refused(client, api.auth["sales"], "post", f"/api/method/{method}", 400, names, data)


def test_oversized_bodies_are_413(ctx, client, api):
    from django.core.files.uploadedfile import SimpleUploadedFile
    auth = api.auth["admin"]
    before = api.count()
    big = b'{"title": "' + b"x" * (30 * 1024 * 1024) + b'"}'
    code, data = call(client, auth, "post", f"/api/resource/{api.doctype}", raw=big)
    assert code == 413 and data["exc_type"] == "RequestEntityTooLarge", data
    upload = SimpleUploadedFile("big.bin", b"x" * (26 * 1024 * 1024))
    r = client.post("/api/method/upload_file", {"file": upload, "doctype": api.doctype, "docname": api.name}, **auth)
    assert r.status_code == 413, r.content[:300]
    assert api.count() == before


def test_the_request_size_limit_is_per_site(ctx, client, api, bench, site):
    auth = api.auth["admin"]
    path = os.path.join(bench, site, "site_config.json")
    saved = read_json(path)
    write_json(path, dict(saved, max_request_size=1000))
    try:
        code, data = call(client, auth, "post", f"/api/resource/{api.doctype}", {"title": "x" * 2000})
        assert code == 413 and "1000" in data["message"], data
        code, data = call(client, auth, "post", f"/api/resource/{api.doctype}", {"title": "small"})
        assert code == 200, data
    finally:
        write_json(path, saved)


def test_malformed_forms_are_400(ctx, client, api):
    auth = api.auth["admin"]
    r = client.post("/api/method/frappe.client.get_list", {f"f{i}": "1" for i in range(1200)}, **auth)
    assert r.status_code == 400, r.content
    r = client.post("/api/method/upload_file", b"--x\r\nbroken", content_type="multipart/form-data", **auth)
    assert r.status_code == 400, r.content
    r = client.generic("POST", f"/api/resource/{api.doctype}", b"{}", content_type="application/json",
                       CONTENT_LENGTH="abc", **auth)
    assert r.status_code == 400, r.content


# -- the pieces underneath -----------------------------------------------------------------------

def test_integer_parameters():
    assert params.integer("20", "n") == 20 and params.integer(20.0, "n") == 20 and params.integer(" 1e3 ", "n") == 1000
    assert params.integer("", "n", default=7) == 7 and params.integer(None, "n") is None
    for bad in ("abc", "1.5", [1], {"a": 1}, True, float("nan"), float("inf"), "9" * 5000):
        with pytest.raises(BadRequest) as e:
            params.integer(bad, "n")
        assert e.value.field == "n"
    with pytest.raises(BadRequest, match="at most"):
        params.row_count(params.MAX_ROWS + 1, "limit")
    with pytest.raises(ValidationError, match="at least"):
        params.row_count(-1, "limit", error=ValidationError)


def test_json_parameters():
    assert params.loads('{"a": [1, {"b": "ü"}]}', "x") == {"a": [1, {"b": "ü"}]}
    depth = params.MAX_JSON_DEPTH
    assert params.loads("[" * depth + "]" * depth, "x")
    for bad in ("[" * (depth + 1) + "]" * (depth + 1), NESTED, '"\\ud800"', '{"\\udfff": 1}', "{bad", b"\xff"):
        with pytest.raises(BadRequest) as e:
            params.loads(bad, "x")
        assert e.value.field == "x"


def test_database_refusals_of_client_values_are_data_errors(ctx, api):
    """The safety net under every check: a value the database itself refuses becomes a
    417 naming the column where the engine says which."""
    db = ctx.db
    if db.db_type == "mariadb":
        for value, problem in (("x" * 200, "too long"), ("10000-01-01", "not valid")):
            column = "title" if problem == "too long" else "due"
            with pytest.raises(Exception) as raised:
                db.sql(f"UPDATE `tab{api.doctype}` SET `{column}`=%s WHERE `name`=%s", (value, api.name))
            error = db.client_value_error(raised.value)
            assert isinstance(error, DataError) and error.field == column and problem in error.message
    else:
        with pytest.raises(OverflowError) as raised:
            db.sql(f"SELECT 1 FROM `tab{api.doctype}` WHERE `qty`=%s", (10**20,))
        assert isinstance(db.client_value_error(raised.value), DataError)
    with pytest.raises(UnicodeEncodeError) as raised:
        db.sql(f"SELECT 1 FROM `tab{api.doctype}` WHERE `title`=%s", ("\ud800",))
    assert isinstance(db.client_value_error(raised.value), DataError)
    assert db.client_value_error(ValueError("a bug")) is None
