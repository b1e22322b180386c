"""The REST API over HTTP (Django's test client), on both engines: login and sessions,
token auth, /api/resource CRUD and list options, error statuses and shapes, the
frappe.client methods, the whitelist rules, files and the OpenAPI description.

Data set up through ``ctx`` is committed before a request can see it (requests use
their own connection); ``refresh`` also re-opens ctx in a *read* transaction, because
on SQLite a write transaction held here would block every request that writes.
"""
import json

import pytest

import lowcode
from lowcode import auth
from lowcode.testing.http import body, error, ok, post_json, put_json, refresh, token, write  # noqa: F401

PASSWORD = "Correct-Horse-9"


# -- helpers -----------------------------------------------------------------------------------

def ensure_role(role):
    if not lowcode.db.exists("Role", role):
        lowcode.get_doc({"doctype": "Role", "role_name": role}).insert()


def make_user(unique, tag, roles=("System Manager",), password=PASSWORD, first_name=None):
    email = f"{tag}-{unique}@example.com"
    for role in roles:
        ensure_role(role)
    lowcode.get_doc({"doctype": "User", "email": email, "first_name": first_name or tag.title(),
                     "last_name": "Tester", "roles": [{"role": r} for r in roles]}).insert()
    if password:
        auth.set_password(email, password)
    return email


def q(value):
    """A structured query-string argument, sent as JSON text as Frappe clients do."""
    return json.dumps(value)


def count_rows(ctx, doctype, where="1=1", values=()):
    return ctx.db.sql(f"SELECT COUNT(*) FROM `tab{doctype}` WHERE {where}", values)[0][0]


@pytest.fixture
def order_types(ctx, make_doctype):
    """A parent DocType with a child table; System Manager has full rights."""
    child = make_doctype([
        {"fieldname": "item", "fieldtype": "Data", "label": "Item"},
        {"fieldname": "amount", "fieldtype": "Float", "label": "Amount"},
    ], istable=1, permissions=[])
    parent = make_doctype([
        {"fieldname": "title", "fieldtype": "Data", "label": "Title", "reqd": 1},
        {"fieldname": "code", "fieldtype": "Data", "label": "Code", "unique": 1},
        {"fieldname": "qty", "fieldtype": "Int", "label": "Quantity"},
        {"fieldname": "status", "fieldtype": "Select", "label": "Status", "options": "Open\nClosed",
         "default": "Open"},
        {"fieldname": "items", "fieldtype": "Table", "label": "Items", "options": child},
    ])
    return parent, child


@pytest.fixture
def api_user(ctx, unique):
    """A System Manager with an API token: (email, auth headers)."""
    user = make_user(unique, "api")
    headers = token(user)
    refresh(ctx)
    return user, headers


# -- login, sessions, tokens ---------------------------------------------------------------------

def test_login_sets_sid_and_answers_like_frappe(ctx, client, unique):
    user = make_user(unique, "login", first_name="Sara")
    refresh(ctx)
    r = client.post("/api/method/login", {"usr": user, "pwd": PASSWORD})
    data = ok(r)
    assert data["message"] == "Logged In"
    assert "home_page" in data and data["home_page"]
    assert data["full_name"] == "Sara Tester"
    assert r.cookies["sid"].value and r.cookies["sid"]["httponly"]
    me = ok(client.get("/api/method/frappe.auth.get_logged_user"))
    assert me["message"] == user
    # the login is by e-mail in any case
    other = type(client)(HTTP_HOST=client.defaults["HTTP_HOST"])
    ok(other.post("/api/method/login", {"usr": user.upper(), "pwd": PASSWORD}))


def test_login_with_wrong_password_or_unknown_user_is_401(ctx, client, unique):
    user = make_user(unique, "wrongpw")
    refresh(ctx)
    r = client.post("/api/method/login", {"usr": user, "pwd": "not-the-password"},
                    REMOTE_ADDR=f"10.1.0.{int(unique, 16) % 250 + 1}")
    error(r, 401, "AuthenticationError")
    assert "sid" not in r.cookies or not r.cookies["sid"].value
    r = client.post("/api/method/login", {"usr": f"nobody-{unique}@example.com", "pwd": PASSWORD},
                    REMOTE_ADDR=f"10.1.1.{int(unique, 16) % 250 + 1}")
    error(r, 401, "AuthenticationError")
    error(client.get("/api/method/frappe.auth.get_logged_user"), 403, "PermissionError")  # Guest


def test_logout_ends_the_session(ctx, client, unique):
    user = make_user(unique, "logout")
    refresh(ctx)
    ok(client.post("/api/method/login", {"usr": user, "pwd": PASSWORD}))
    sid = client.cookies["sid"].value
    assert ok(client.get("/api/method/frappe.auth.get_logged_user"))["message"] == user
    ok(client.post("/api/method/logout"))
    error(client.get("/api/method/frappe.auth.get_logged_user"), 403, "PermissionError")
    # replaying the old cookie does not bring the session back
    replay = type(client)(HTTP_HOST=client.defaults["HTTP_HOST"])
    replay.cookies["sid"] = sid
    # an unknown or expired sid is Guest: 403 PermissionError, as Frappe answers (not 401)
    error(replay.get("/api/method/frappe.auth.get_logged_user"), 403, "PermissionError")
    refresh(ctx)
    assert count_rows(ctx, "Sessions", "`sid`=%s", (sid,)) == 0


def test_token_auth(ctx, client, unique):
    user = make_user(unique, "token")
    key, secret = auth.generate_keys(user)
    refresh(ctx)
    me = ok(client.get("/api/method/frappe.auth.get_logged_user", HTTP_AUTHORIZATION=f"token {key}:{secret}"))
    assert me["message"] == user
    # the scheme is case-insensitive, as in Frappe
    ok(client.get("/api/method/frappe.auth.get_logged_user", HTTP_AUTHORIZATION=f"Token {key}:{secret}"))
    error(client.get("/api/method/frappe.auth.get_logged_user", HTTP_AUTHORIZATION=f"token {key}:wrong{secret}"),
          401, "AuthenticationError")
    error(client.get("/api/method/frappe.auth.get_logged_user", HTTP_AUTHORIZATION=f"token nokey{unique}:{secret}"),
          401, "AuthenticationError")
    for header in (f"Bearer {key}:{secret}", f"token {key}{secret}", "token", f"Basic {key}"):
        error(client.get("/api/method/frappe.auth.get_logged_user", HTTP_AUTHORIZATION=header), 401,
              "AuthenticationError")
    # a bad token is refused even on a resource read, never treated as Guest
    error(client.get("/api/resource/User", HTTP_AUTHORIZATION=f"token {key}:bad"), 401)
    # new keys replace the old secret
    write(ctx)
    key2, secret2 = auth.generate_keys(user)
    refresh(ctx)
    error(client.get("/api/method/frappe.auth.get_logged_user", HTTP_AUTHORIZATION=f"token {key}:{secret}"), 401)
    ok(client.get("/api/method/frappe.auth.get_logged_user", HTTP_AUTHORIZATION=f"token {key2}:{secret2}"))


def test_guest_cannot_use_resources(ctx, client, order_types):
    parent, _ = order_types
    refresh(ctx)
    error(client.get(f"/api/resource/{parent}"), 403, "PermissionError")
    error(post_json(client, f"/api/resource/{parent}", {"title": "x"}), 403, "PermissionError")
    error(client.get("/api/method/frappe.client.get_list", {"doctype": parent}), 403, "PermissionError")
    refresh(ctx)
    assert count_rows(ctx, parent) == 0


# -- /api/resource ----------------------------------------------------------------------------------

def test_resource_create_read_update_delete_with_child_rows(ctx, client, order_types, api_user):
    parent, child = order_types
    user, h = api_user
    r = post_json(client, f"/api/resource/{parent}", {
        "title": "First", "code": "C-1", "qty": 3,
        "items": [{"item": "pen", "amount": 2.5}, {"item": "ink", "amount": 4}]}, **h)
    doc = ok(r)["data"]
    name = doc["name"]
    assert doc["doctype"] == parent and doc["title"] == "First" and doc["qty"] == 3
    assert doc["status"] == "Open"  # default applied
    assert doc["owner"] == user and doc["modified_by"] == user and doc["docstatus"] == 0
    assert [(row["item"], row["amount"], row["idx"]) for row in doc["items"]] == [("pen", 2.5, 1), ("ink", 4.0, 2)]
    assert all(row["parent"] == name and row["parenttype"] == parent and row["parentfield"] == "items"
               for row in doc["items"])

    read = ok(client.get(f"/api/resource/{parent}/{name}", **h))["data"]
    assert read["title"] == "First" and read["code"] == "C-1"
    assert [row["item"] for row in read["items"]] == ["pen", "ink"]

    upd = ok(put_json(client, f"/api/resource/{parent}/{name}", {
        "qty": 7, "items": [{"item": "paper", "amount": 1}]}, **h))["data"]
    assert upd["qty"] == 7 and upd["title"] == "First"
    assert [row["item"] for row in upd["items"]] == ["paper"]
    refresh(ctx)
    assert ctx.db.sql(f"SELECT `qty` FROM `tab{parent}` WHERE `name`=%s", (name,))[0][0] == 7
    assert ctx.db.sql(f"SELECT `item` FROM `tab{child}` WHERE `parent`=%s", (name,), pluck=True) == ["paper"]

    # a PUT carrying the current `modified` is not stale
    upd2 = ok(put_json(client, f"/api/resource/{parent}/{name}", {"title": "Renamed", "modified": upd["modified"]},
                       **h))["data"]
    assert upd2["title"] == "Renamed" and [row["item"] for row in upd2["items"]] == ["paper"]

    assert ok(client.delete(f"/api/resource/{parent}/{name}", **h)) == {"message": "ok"}
    error(client.get(f"/api/resource/{parent}/{name}", **h), 404, "DoesNotExistError")
    refresh(ctx)
    assert count_rows(ctx, parent, "`name`=%s", (name,)) == 0
    assert count_rows(ctx, child, "`parent`=%s", (name,)) == 0


def test_resource_create_accepts_frappe_data_form(ctx, client, order_types, api_user):
    parent, _ = order_types
    _, h = api_user
    doc = ok(client.post(f"/api/resource/{parent}", {"data": json.dumps({"title": "Form", "qty": 1})}, **h))["data"]
    assert doc["title"] == "Form" and doc["qty"] == 1


def test_resource_list_options(ctx, client, order_types, api_user):
    parent, _ = order_types
    _, h = api_user
    for i in range(1, 7):
        lowcode.get_doc({"doctype": parent, "title": f"Row {i}", "code": f"K{i}", "qty": i * 10,
                         "status": "Closed" if i % 2 else "Open"}).insert()
    refresh(ctx)
    url = f"/api/resource/{parent}"

    rows = ok(client.get(url, {"fields": q(["name", "title", "qty"]), "order_by": "qty asc"}, **h))["data"]
    assert [r["qty"] for r in rows] == [10, 20, 30, 40, 50, 60]
    assert set(rows[0]) == {"name", "title", "qty"}

    # default: names only, 20 per page
    rows = ok(client.get(url, **h))["data"]
    assert len(rows) == 6 and all(set(r) == {"name"} for r in rows)

    rows = ok(client.get(url, {"fields": q(["qty"]), "filters": q([["qty", ">", 25], ["status", "=", "Open"]]),
                               "order_by": "qty desc"}, **h))["data"]
    assert [r["qty"] for r in rows] == [60, 40]

    rows = ok(client.get(url, {"fields": q(["qty"]), "filters": q({"status": "Closed", "qty": ["<", 40]}),
                               "order_by": "qty asc"}, **h))["data"]
    assert [r["qty"] for r in rows] == [10, 30]

    rows = ok(client.get(url, {"fields": q(["qty"]), "filters": q([[parent, "qty", ">=", 20]]),
                               "or_filters": q([["code", "=", "K2"], ["code", "=", "K5"], ["title", "like", "%w 6"]]),
                               "order_by": "qty asc"}, **h))["data"]
    assert [r["qty"] for r in rows] == [20, 50, 60]

    rows = ok(client.get(url, {"fields": q(["qty"]), "order_by": "qty asc", "limit_start": 2,
                               "limit_page_length": 3}, **h))["data"]
    assert [r["qty"] for r in rows] == [30, 40, 50]

    rows = ok(client.get(url, {"fields": q(["qty"]), "filters": q([["qty", "in", [10, 60]]]),
                               "order_by": "qty asc"}, **h))["data"]
    assert [r["qty"] for r in rows] == [10, 60]

    rows = ok(client.get(url, {"fields": q(["status", "count(name) as n"]), "group_by": "status",
                               "order_by": "status asc"}, **h))["data"]
    assert rows == [{"status": "Closed", "n": 3}, {"status": "Open", "n": 3}]


# -- errors ------------------------------------------------------------------------------------------

def test_malformed_json_body_is_400(ctx, client, order_types, api_user):
    parent, _ = order_types
    _, h = api_user
    r = client.post(f"/api/resource/{parent}", '{"title": "x", ', content_type="application/json", **h)
    error(r, 400, "BadRequest", mentions="JSON")
    r = client.put(f"/api/resource/{parent}/whatever", "[1, 2", content_type="application/json", **h)
    error(r, 400, "BadRequest")
    r = client.post("/api/method/frappe.client.insert", "{not json", content_type="application/json", **h)
    error(r, 400, "BadRequest")
    refresh(ctx)
    assert count_rows(ctx, parent) == 0


def test_unknown_doctype_is_404(ctx, client, api_user, unique):
    _, h = api_user
    error(client.get(f"/api/resource/No Such {unique}", **h), 404, "DoesNotExistError", mentions=f"No Such {unique}")
    error(post_json(client, f"/api/resource/No Such {unique}", {"a": 1}, **h), 404, "DoesNotExistError")
    error(client.get(f"/api/resource/No Such {unique}/x", **h), 404, "DoesNotExistError")


def test_missing_document_is_404(ctx, client, order_types, api_user):
    parent, _ = order_types
    _, h = api_user
    error(client.get(f"/api/resource/{parent}/missing-doc", **h), 404, "DoesNotExistError", mentions="missing-doc")
    error(put_json(client, f"/api/resource/{parent}/missing-doc", {"qty": 1}, **h), 404, "DoesNotExistError")
    error(client.delete(f"/api/resource/{parent}/missing-doc", **h), 404, "DoesNotExistError")
    refresh(ctx)
    assert count_rows(ctx, parent) == 0


@pytest.mark.parametrize("args, field", [
    ({"filters": q([["nope", "=", 1]])}, "nope"),
    ({"filters": q({"nope": 1})}, "nope"),
    ({"or_filters": q([["nope", "=", 1]])}, "nope"),
    ({"fields": q(["name", "nope"])}, "nope"),
    ({"filters": q([["title", "=", 1], ["items.nope", "=", 1]])}, "nope"),
])
def test_unknown_field_in_query_is_417(ctx, client, order_types, api_user, args, field):
    parent, _ = order_types
    _, h = api_user
    error(client.get(f"/api/resource/{parent}", args, **h), 417, "InvalidFieldError", field=field, mentions=field)


def test_unknown_order_by_field_is_refused(ctx, client, order_types, api_user):
    parent, _ = order_types
    _, h = api_user
    error(client.get(f"/api/resource/{parent}", {"order_by": "nope desc"}, **h), 417, "InvalidFieldError",
          field="nope")
    error(client.get(f"/api/resource/{parent}", {"order_by": "qty; DROP TABLE x"}, **h), 417)


def test_bad_operator_is_417(ctx, client, order_types, api_user):
    parent, _ = order_types
    _, h = api_user
    error(client.get(f"/api/resource/{parent}", {"filters": q([["qty", "~~", 1]])}, **h), 417,
          "InvalidFieldError", field="qty", mentions="~~")
    # an operator that does not apply to the field type
    error(client.get(f"/api/resource/{parent}", {"filters": q([["qty", "like", "%1%"]])}, **h), 417,
          "InvalidFieldError", field="qty")
    # a filter value of the wrong type
    error(client.get(f"/api/resource/{parent}", {"filters": q([["qty", "=", "abc"]])}, **h), 417,
          field="qty")


def _create_conflicting(ctx, parent):
    lowcode.get_doc({"doctype": parent, "title": "Existing", "code": "TAKEN", "qty": 1}).insert()
    refresh(ctx)


@pytest.mark.parametrize("payload, status, exc_type, field, mention", [
    ({"title": "T", "nope": 1}, 417, "InvalidFieldError", "nope", "nope"),
    ({"title": "T", "qty": "abc"}, 417, "DataError", "qty", "Quantity"),
    ({"qty": 5}, 417, "MandatoryError", "title", "Title"),
    ({"title": "T", "status": "Bogus"}, 417, None, "status", "Status"),
    ({"title": "T", "items": [{"item": "x", "bad_col": 1}]}, 417, "InvalidFieldError", "bad_col", "bad_col"),
    ({"title": "T", "items": [{"item": "x", "amount": "lots"}]}, 417, "DataError", "amount", "Amount"),
    ({"title": "T", "items": "not a list"}, 417, None, "items", "items"),
    ({"title": "T", "code": "TAKEN"}, 409, "UniqueValidationError", "code", "Code"),
])
def test_invalid_create_is_refused_and_writes_nothing(ctx, client, order_types, api_user, payload, status,
                                                      exc_type, field, mention):
    parent, child = order_types
    _, h = api_user
    write(ctx)
    _create_conflicting(ctx, parent)
    error(post_json(client, f"/api/resource/{parent}", payload, **h), status, exc_type, field=field, mentions=mention)
    # the same through frappe.client.insert
    error(post_json(client, "/api/method/frappe.client.insert", {"doc": dict(payload, doctype=parent)}, **h),
          status, exc_type, field=field)
    refresh(ctx)
    assert count_rows(ctx, parent) == 1
    assert count_rows(ctx, child) == 0


@pytest.mark.parametrize("payload, status, exc_type, field", [
    ({"nope": 1}, 417, "InvalidFieldError", "nope"),
    ({"qty": "abc"}, 417, "DataError", "qty"),
    ({"title": ""}, 417, "MandatoryError", "title"),
    ({"code": "TAKEN"}, 409, "UniqueValidationError", "code"),
    ({"qty": 99, "items": [{"item": "new"}], "modified": "2000-01-01 00:00:00.000000"}, 409,
     "TimestampMismatchError", None),
])
def test_invalid_update_is_refused_and_writes_nothing(ctx, client, order_types, api_user, payload, status,
                                                      exc_type, field):
    parent, child = order_types
    _, h = api_user
    write(ctx)
    _create_conflicting(ctx, parent)
    write(ctx)
    doc = lowcode.get_doc({"doctype": parent, "title": "Mine", "code": "MINE", "qty": 2,
                           "items": [{"item": "old"}]}).insert()
    refresh(ctx)
    before = ok(client.get(f"/api/resource/{parent}/{doc.name}", **h))["data"]
    error(put_json(client, f"/api/resource/{parent}/{doc.name}", payload, **h), status, exc_type, field=field)
    after = ok(client.get(f"/api/resource/{parent}/{doc.name}", **h))["data"]
    assert after == before


def test_stale_write_after_a_concurrent_change_is_409(ctx, client, order_types, api_user):
    parent, _ = order_types
    _, h = api_user
    created = ok(post_json(client, f"/api/resource/{parent}", {"title": "v1", "qty": 1}, **h))["data"]
    name, opened_at = created["name"], created["modified"]
    ok(put_json(client, f"/api/resource/{parent}/{name}", {"qty": 2, "modified": opened_at}, **h))
    r = put_json(client, f"/api/resource/{parent}/{name}", {"qty": 3, "modified": opened_at}, **h)
    error(r, 409, "TimestampMismatchError")
    r = post_json(client, "/api/method/frappe.client.save",
                  {"doc": dict(created, qty=4, items=[])}, **h)
    error(r, 409, "TimestampMismatchError")
    refresh(ctx)
    assert ctx.db.sql(f"SELECT `qty` FROM `tab{parent}` WHERE `name`=%s", (name,))[0][0] == 2


def test_duplicate_name_is_409(ctx, client, make_doctype, api_user):
    dt = make_doctype([{"fieldname": "code", "fieldtype": "Data", "label": "Code"}], autoname="field:code")
    _, h = api_user
    refresh(ctx)
    ok(post_json(client, f"/api/resource/{dt}", {"code": "A1"}, **h))
    error(post_json(client, f"/api/resource/{dt}", {"code": "A1"}, **h), 409, "DuplicateEntryError")
    refresh(ctx)
    assert count_rows(ctx, dt) == 1


def test_method_not_allowed_on_resources(ctx, client, order_types, api_user):
    parent, _ = order_types
    _, h = api_user
    r = client.patch(f"/api/resource/{parent}", "{}", content_type="application/json", **h)
    assert r.status_code == 405
    body(r)


# -- frappe.client methods -----------------------------------------------------------------------------

def test_frappe_client_read_methods(ctx, client, order_types, api_user):
    parent, _ = order_types
    _, h = api_user
    names = []
    for i in range(1, 5):
        names.append(lowcode.get_doc({"doctype": parent, "title": f"T{i}", "code": f"G{i}", "qty": i,
                                      "items": [{"item": f"i{i}"}]}).insert().name)
    refresh(ctx)
    m = "/api/method/"

    rows = ok(client.get(m + "frappe.client.get_list", {
        "doctype": parent, "fields": q(["name", "qty"]), "filters": q({"qty": [">", 1]}), "order_by": "qty asc",
        "limit_page_length": 2}, **h))["message"]
    assert [r["qty"] for r in rows] == [2, 3]
    # POST with a JSON body works the same
    rows = ok(post_json(client, m + "frappe.client.get_list", {
        "doctype": parent, "fields": ["qty"], "filters": [["qty", "<=", 2]], "order_by": "qty desc"}, **h))["message"]
    assert [r["qty"] for r in rows] == [2, 1]

    assert ok(client.get(m + "frappe.client.get_count", {"doctype": parent}, **h))["message"] == 4
    assert ok(client.get(m + "frappe.client.get_count", {"doctype": parent, "filters": q([["qty", ">=", 3]])},
                         **h))["message"] == 2

    doc = ok(client.get(m + "frappe.client.get", {"doctype": parent, "name": names[0]}, **h))["message"]
    assert doc["title"] == "T1" and doc["items"][0]["item"] == "i1"
    doc = ok(client.get(m + "frappe.client.get", {"doctype": parent, "filters": q({"code": "G3"})}, **h))["message"]
    assert doc["name"] == names[2]
    error(client.get(m + "frappe.client.get", {"doctype": parent, "name": "missing"}, **h), 404)

    value = ok(client.get(m + "frappe.client.get_value", {"doctype": parent, "fieldname": "title",
                                                          "filters": q({"name": names[1]})}, **h))["message"]
    assert value == {"title": "T2"}
    value = ok(client.get(m + "frappe.client.get_value", {"doctype": parent, "fieldname": q(["title", "qty"]),
                                                          "filters": q({"code": "G4"})}, **h))["message"]
    assert value == {"title": "T4", "qty": 4}
    assert ok(client.get(m + "frappe.client.get_value", {"doctype": parent, "fieldname": "title",
                                                         "filters": q({"code": "none"})}, **h))["message"] is None
    error(client.get(m + "frappe.client.get_value", {"doctype": parent, "fieldname": "nope",
                                                     "filters": q({"code": "G4"})}, **h), 417, field="nope")
    # a missing required argument is a 400 naming it
    error(client.get(m + "frappe.client.get_value", {"doctype": parent}, **h), 400, "BadRequest", mentions="fieldname")


def test_frappe_client_write_methods(ctx, client, order_types, api_user):
    parent, child = order_types
    _, h = api_user
    m = "/api/method/"
    doc = ok(post_json(client, m + "frappe.client.insert",
                       {"doc": {"doctype": parent, "title": "Ins", "items": [{"item": "a"}]}}, **h))["message"]
    name = doc["name"]
    assert doc["title"] == "Ins" and doc["items"][0]["item"] == "a"
    # Frappe clients often send doc as JSON text in a form
    doc2 = ok(client.post(m + "frappe.client.insert", {"doc": json.dumps({"doctype": parent, "title": "Form"})},
                          **h))["message"]
    assert doc2["title"] == "Form"

    names = ok(post_json(client, m + "frappe.client.insert_many", {"docs": [
        {"doctype": parent, "title": "M1"}, {"doctype": parent, "title": "M2"}]}, **h))["message"]
    assert len(names) == 2
    refresh(ctx)
    assert sorted(ctx.db.sql(f"SELECT `title` FROM `tab{parent}` WHERE `name` IN (%s, %s)", tuple(names),
                             pluck=True)) == ["M1", "M2"]
    # insert_many is all or nothing
    error(post_json(client, m + "frappe.client.insert_many", {"docs": [
        {"doctype": parent, "title": "M3"}, {"doctype": parent, "qty": 1}]}, **h), 417, "MandatoryError")
    refresh(ctx)
    assert count_rows(ctx, parent, "`title`=%s", ("M3",)) == 0

    updated = ok(post_json(client, m + "frappe.client.set_value",
                           {"doctype": parent, "name": name, "fieldname": "qty", "value": 5}, **h))["message"]
    assert updated["qty"] == 5
    updated = ok(post_json(client, m + "frappe.client.set_value",
                           {"doctype": parent, "name": name, "fieldname": {"qty": 6, "title": "Ins2"}},
                           **h))["message"]
    assert (updated["qty"], updated["title"]) == (6, "Ins2")
    error(post_json(client, m + "frappe.client.set_value",
                    {"doctype": parent, "name": name, "fieldname": "qty", "value": "x"}, **h), 417, field="qty")

    full = ok(client.get(m + "frappe.client.get", {"doctype": parent, "name": name}, **h))["message"]
    full["items"].append({"item": "b"})
    full["title"] = "Saved"
    saved = ok(post_json(client, m + "frappe.client.save", {"doc": full}, **h))["message"]
    assert saved["title"] == "Saved" and [r["item"] for r in saved["items"]] == ["a", "b"]
    refresh(ctx)
    assert ctx.db.sql(f"SELECT `title`, `qty` FROM `tab{parent}` WHERE `name`=%s", (name,))[0] == ("Saved", 6)
    assert count_rows(ctx, child, "`parent`=%s", (name,)) == 2

    ok(post_json(client, m + "frappe.client.delete", {"doctype": parent, "name": name}, **h))
    refresh(ctx)
    assert count_rows(ctx, parent, "`name`=%s", (name,)) == 0
    assert count_rows(ctx, child, "`parent`=%s", (name,)) == 0
    error(post_json(client, m + "frappe.client.delete", {"doctype": parent, "name": name}, **h), 404)


def test_frappe_client_submit_and_cancel(ctx, client, make_doctype, api_user):
    dt = make_doctype([{"fieldname": "title", "fieldtype": "Data", "label": "Title"}], is_submittable=1)
    _, h = api_user
    refresh(ctx)
    m = "/api/method/"
    doc = ok(post_json(client, f"/api/resource/{dt}", {"title": "S"}, **h))["data"]
    submitted = ok(post_json(client, m + "frappe.client.submit", {"doc": doc}, **h))["message"]
    assert submitted["docstatus"] == 1
    refresh(ctx)
    assert ctx.db.sql(f"SELECT `docstatus` FROM `tab{dt}` WHERE `name`=%s", (doc["name"],))[0][0] == 1
    # a submitted document cannot be edited or deleted
    error(put_json(client, f"/api/resource/{dt}/{doc['name']}", {"title": "changed"}, **h), 417, field="title")
    error(client.delete(f"/api/resource/{dt}/{doc['name']}", **h), 417)
    cancelled = ok(post_json(client, m + "frappe.client.cancel", {"doctype": dt, "name": doc["name"]}, **h))["message"]
    assert cancelled["docstatus"] == 2
    error(post_json(client, m + "frappe.client.submit", {"doc": cancelled}, **h), 417)
    refresh(ctx)
    assert ctx.db.sql(f"SELECT `docstatus`, `title` FROM `tab{dt}` WHERE `name`=%s",
                      (doc["name"],))[0] == (2, "S")
    # submitting with a stale copy is refused
    doc2 = ok(post_json(client, f"/api/resource/{dt}", {"title": "S2"}, **h))["data"]
    ok(put_json(client, f"/api/resource/{dt}/{doc2['name']}", {"title": "S2b"}, **h))
    error(post_json(client, m + "frappe.client.submit", {"doc": doc2}, **h), 409, "TimestampMismatchError")


def test_frappe_client_get_single_value(ctx, client, make_doctype, api_user):
    dt = make_doctype([{"fieldname": "company_name", "fieldtype": "Data", "label": "Company"},
                       {"fieldname": "max_items", "fieldtype": "Int", "label": "Max"}], issingle=1)
    _, h = api_user
    settings = lowcode.get_doc(dt)
    settings.company_name = "Acme"
    settings.max_items = 12
    settings.save()
    refresh(ctx)
    m = "/api/method/frappe.client.get_single_value"
    assert ok(client.get(m, {"doctype": dt, "field": "company_name"}, **h))["message"] == "Acme"
    assert ok(client.get(m, {"doctype": dt, "field": "max_items"}, **h))["message"] == 12
    doc = ok(client.get("/api/method/frappe.client.get", {"doctype": dt}, **h))["message"]
    assert doc["company_name"] == "Acme"
    ok(post_json(client, "/api/method/frappe.client.set_value",
                 {"doctype": dt, "name": dt, "fieldname": "company_name", "value": "Beta"}, **h))
    assert ok(client.get(m, {"doctype": dt, "field": "company_name"}, **h))["message"] == "Beta"


def test_frappe_client_get_single_value_refuses_a_normal_doctype(ctx, client, order_types, api_user):
    parent, _ = order_types
    _, h = api_user
    error(client.get("/api/method/frappe.client.get_single_value", {"doctype": parent, "field": "title"}, **h),
          417)


def test_frappe_client_rename_doc(ctx, client, make_doctype, api_user, unique):
    target = make_doctype([{"fieldname": "label", "fieldtype": "Data", "label": "Label"}], allow_rename=1,
                          autoname="prompt")
    linker = make_doctype([{"fieldname": "ref", "fieldtype": "Link", "label": "Ref", "options": target}])
    _, h = api_user
    lowcode.get_doc({"doctype": target, "__newname": f"old-{unique}", "label": "L"}).insert()
    link = lowcode.get_doc({"doctype": linker, "ref": f"old-{unique}"}).insert()
    refresh(ctx)
    r = post_json(client, "/api/method/frappe.client.rename_doc",
                  {"doctype": target, "old_name": f"old-{unique}", "new_name": f"new-{unique}"}, **h)
    assert ok(r)["message"] == f"new-{unique}"
    error(client.get(f"/api/resource/{target}/old-{unique}", **h), 404)
    assert ok(client.get(f"/api/resource/{target}/new-{unique}", **h))["data"]["label"] == "L"
    assert ok(client.get(f"/api/resource/{linker}/{link.name}", **h))["data"]["ref"] == f"new-{unique}"
    # renaming onto an existing name is a conflict
    write(ctx)
    lowcode.get_doc({"doctype": target, "__newname": f"other-{unique}", "label": "O"}).insert()
    refresh(ctx)
    error(post_json(client, "/api/method/frappe.client.rename_doc",
                    {"doctype": target, "old_name": f"new-{unique}", "new_name": f"other-{unique}"}, **h),
          409, "DuplicateEntryError")
    refresh(ctx)
    assert count_rows(ctx, target, "`name` IN (%s, %s)", (f"new-{unique}", f"other-{unique}")) == 2


# -- whitelisting -----------------------------------------------------------------------------------------

def test_whitelist_rules(ctx, client, api_user):
    _, h = api_user
    # a standard method: reachable (here it reports the missing argument, not 403/404)
    error(client.post("/api/method/lowcode.jobs.retry", **h), 400, "BadRequest", mentions="name")
    # an existing function of an installed app that is not whitelisted
    error(client.get("/api/method/lowcode.utils.scrub", {"text": "x"}, **h), 403, "NotWhitelisted")
    error(client.get("/api/method/lowcode.auth.generate_keys", {"user": "Administrator"}, **h), 403,
          "NotWhitelisted")
    # modules outside the installed apps, or that do not exist
    for dotted in ("os.system", "subprocess.run", "lowcode.no_such_module.fn", "lowcode.utils.no_such_fn",
                   "crm_app.nothing", "lowcode.__import__"):
        error(client.get(f"/api/method/{dotted}", {"command": "true"}, **h), 404, "DoesNotExistError")


def test_whitelisted_app_function(ctx, client, api_user, temp_app):
    """A function of an installed app marked @lowcode.whitelist (the app is a throw-away
    one written under tmp_path by the temp_app fixture, then uninstalled)."""
    from lowcode import installer
    _, h = api_user
    app = temp_app()
    app.write("api.py", '''
import lowcode
from lowcode.context import local


@lowcode.whitelist()
def echo(text, number=0):
    return {"text": text, "number": int(number), "user": local.user}


@lowcode.whitelist(allow_guest=True)
def ping():
    return "pong"


@lowcode.whitelist(methods=["POST"])
def only_post():
    return "posted"


@lowcode.whitelist()
def fails():
    lowcode.throw("the value is wrong", field="value")


def not_whitelisted():
    return "secret"
''')
    write(ctx)
    installer.install_app(app.name)
    refresh(ctx)
    m = f"/api/method/{app.name}.api."
    user = api_user[0]
    assert ok(client.get(m + "echo", {"text": "hi", "number": "3", "ignored": "x"}, **h))["message"] == \
        {"text": "hi", "number": 3, "user": user}
    assert ok(post_json(client, m + "echo", {"text": "json", "number": 4}, **h))["message"]["number"] == 4
    error(client.get(m + "echo", **h), 400, "BadRequest", mentions="text")
    error(client.get(m + "echo", {"text": "x"}), 403, "PermissionError")
    assert ok(client.get(m + "ping"))["message"] == "pong"
    error(client.get(m + "only_post", **h), 403)
    assert ok(client.post(m + "only_post", **h))["message"] == "posted"
    error(client.get(m + "fails", **h), 417, "ValidationError", field="value")
    error(client.get(m + "not_whitelisted", **h), 403, "NotWhitelisted")
    error(client.get(m + "missing", **h), 404)
    error(client.get(f"/api/method/{app.name}.nomodule.fn", **h), 404)


def test_whitelisted_methods_need_login(ctx, client):
    refresh(ctx)
    error(client.get("/api/method/frappe.client.get_count", {"doctype": "User"}), 403, "PermissionError")
    error(client.post("/api/method/lowcode.jobs.retry", {"name": "x"}), 403, "PermissionError")
    # a Guest gets the same 404 for a non-app module
    error(client.get("/api/method/os.system"), 404)


# -- files ----------------------------------------------------------------------------------------------------

def test_upload_and_serve_files(ctx, client, make_doctype, unique):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client
    owner = make_user(unique, "uploader")
    reader = make_user(unique, "freader", roles=(f"FileReader {unique}",))
    dt = make_doctype([{"fieldname": "title", "fieldtype": "Data", "label": "Title"}], permissions=[
        {"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1},
        {"role": f"FileReader {unique}", "read": 1}])
    outsider = make_user(unique, "outsider", roles=())
    h_owner, h_reader, h_out = token(owner), token(reader), token(outsider)
    doc = lowcode.get_doc({"doctype": dt, "title": "with files"}).insert()
    refresh(ctx)

    public = ok(client.post("/api/method/upload_file", {
        "file": SimpleUploadedFile(f"pub-{unique}.txt", b"hello public", content_type="text/plain"),
        "is_private": "0", "doctype": dt, "docname": doc.name}, **h_owner))["message"]
    assert public["file_url"] == f"/files/pub-{unique}.txt" and public["is_private"] == 0
    assert public["attached_to_doctype"] == dt and public["attached_to_name"] == doc.name
    refresh(ctx)
    assert count_rows(ctx, "File", "`name`=%s", (public["name"],)) == 1

    anon = Client(HTTP_HOST=client.defaults["HTTP_HOST"])
    r = anon.get(public["file_url"])
    assert r.status_code == 200 and b"".join(r.streaming_content) == b"hello public"

    private = ok(client.post("/api/method/upload_file", {
        "file": SimpleUploadedFile(f"../../secret-{unique}.txt", b"top secret", content_type="text/plain"),
        "is_private": "1", "doctype": dt, "docname": doc.name}, **h_owner))["message"]
    assert private["file_url"] == f"/private/files/secret-{unique}.txt" and private["is_private"] == 1

    r = client.get(private["file_url"], **h_reader)
    assert r.status_code == 200 and b"".join(r.streaming_content) == b"top secret"
    error(client.get(private["file_url"], **h_out), 403, "PermissionError")
    r = anon.get(private["file_url"])
    assert r.status_code == 403
    body(r)
    # a private file is not reachable through the public path
    error(anon.get(f"/files/secret-{unique}.txt"), 404)
    error(anon.get(f"/files/nothing-{unique}.txt"), 404)

    # uploading to a document needs write on it: a reader cannot, and nothing is stored
    error(client.post("/api/method/upload_file", {
        "file": SimpleUploadedFile(f"nope-{unique}.txt", b"x"), "is_private": "1", "doctype": dt,
        "docname": doc.name}, **h_reader), 403)
    refresh(ctx)
    assert count_rows(ctx, "File", "`file_name`=%s", (f"nope-{unique}.txt",)) == 0
    import os
    assert not os.path.exists(os.path.join(ctx.site_path, "private", "files", f"nope-{unique}.txt"))
    # no file part
    error(client.post("/api/method/upload_file", {"is_private": "0"}, **h_owner), 400, "BadRequest")


# -- OpenAPI --------------------------------------------------------------------------------------------------

def test_openapi_describes_doctypes(ctx, client, order_types, api_user):
    parent, child = order_types
    _, h = api_user
    r = client.get("/api/openapi.json", **h)
    spec = ok(r)
    assert spec["openapi"].startswith("3.")
    assert f"/api/resource/{parent}" in spec["paths"]
    assert f"/api/resource/{parent}/{{name}}" in spec["paths"]
    assert f"/api/resource/{child}" not in spec["paths"]  # child tables have no endpoints
    schema = spec["components"]["schemas"][parent.replace(" ", "_")]
    props = schema["properties"]
    for field in ("title", "code", "qty", "status", "items", "name", "modified"):
        assert field in props, field
    assert props["qty"]["type"] == "integer"
    assert props["status"]["enum"] == ["Open", "Closed"]
    assert props["items"]["type"] == "array"
    assert "title" in schema.get("required", [])
    # every $ref resolves
    text = json.dumps(spec)
    import re
    for ref in set(re.findall(r'"#/components/schemas/([^"]+)"', text)):
        assert ref in spec["components"]["schemas"], ref


def test_openapi_hides_doctypes_the_caller_cannot_read(ctx, client, order_types, unique):
    parent, _ = order_types
    nobody = make_user(unique, "noperm", roles=())
    h = token(nobody)
    refresh(ctx)
    spec = ok(client.get("/api/openapi.json", **h))
    assert f"/api/resource/{parent}" not in spec["paths"]
    assert parent.replace(" ", "_") not in spec["components"]["schemas"]


def test_trailing_slashes_and_unknown_api_paths_answer_as_frappe(ctx, client, api_user):
    """Frappe clients add a trailing slash (/api/resource/Lead/, /api/method/x/); any other
    path under /api is a JSON 404, never the desk's HTML page."""
    _user, h = api_user
    assert client.get("/api/method/ping/").json() == {"message": "pong"}
    listed = client.get("/api/resource/User/", **h)
    assert listed.status_code == 200 and isinstance(listed.json()["data"], list)
    one = client.get("/api/resource/User/Administrator/", **h)
    assert one.status_code == 200 and one.json()["data"]["name"] == "Administrator"
    for path in ("/api/nothing/here", "/api/v9/x", "/api"):
        missing = client.get(path, HTTP_ACCEPT="text/html", **h)
        assert missing.status_code == 404 and missing["Content-Type"].startswith("application/json"), path
        assert missing.json()["exc_type"] == "DoesNotExistError"


def test_put_with_a_form_encoded_data_body_as_frappe_clients_send_it(ctx, client, api_user):
    """``PUT /api/resource/<dt>/<name>`` with ``data=<json>`` form-encoded (as POST already
    takes it) updates the document; a data that is no object is a 400 naming ``data``."""
    from urllib.parse import urlencode
    user, h = api_user
    body = urlencode({"data": json.dumps({"last_name": "Formed"})})
    r = client.put(f"/api/resource/User/{user}", body, content_type="application/x-www-form-urlencoded", **h)
    assert r.status_code == 200, r.content[:300]
    assert r.json()["data"]["last_name"] == "Formed"
    refresh(ctx)
    assert lowcode.db.get_value("User", user, "last_name") == "Formed"
    bad = client.put(f"/api/resource/User/{user}", urlencode({"data": "[1, 2]"}),
                     content_type="application/x-www-form-urlencoded", **h)
    assert bad.status_code == 400 and bad.json().get("field") in ("data", None), bad.content[:300]
    assert "data" in bad.json()["message"]


def test_cmd_at_the_site_root_calls_the_method_as_frappe_routes_it(ctx, client, unique):
    """Older Frappe clients send ``cmd=`` to the root: POST / cmd=login logs in, GET
    /?cmd=<method> calls it with the session, GET /?cmd=logout logs out; without cmd the
    root still leads to the desk."""
    user = make_user(unique, "cmd", first_name="Cyrus", password=PASSWORD)
    refresh(ctx)
    logged = client.post("/", {"cmd": "login", "usr": user, "pwd": PASSWORD})
    assert logged.status_code == 200 and logged.json()["message"] == "Logged In", logged.content[:300]
    assert logged.cookies["sid"].value
    me = client.get("/", {"cmd": "frappe.auth.get_logged_user"})
    assert me.status_code == 200 and me.json()["message"] == user
    listed = client.get("/", {"cmd": "frappe.client.get_list", "doctype": "User", "fields": '["name"]',
                              "filters": json.dumps([["name", "=", user]])})
    assert listed.json()["message"] == [{"name": user}]
    assert client.get("/", {"cmd": "logout"}).status_code == 200
    after = client.get("/", {"cmd": "frappe.auth.get_logged_user"})
    assert after.status_code == 403 and after.json()["exc_type"] == "PermissionError"
    assert client.get("/", {"cmd": "no.such.method"}).status_code == 404
    assert client.get("/")["Location"] == "/app"


def test_frappe_desk_methods_clients_call(ctx, client, unique, api_user):
    """add_comment, assign_to.add/remove, validate_link, load.getdoc and load.getdoctype as
    Frappe clients call them, each as the user: a reader without write may comment but
    not assign, and a record the user may not read is refused (or {} for validate_link)."""
    user, h = api_user
    other = make_user(unique, "assignee", first_name="Omid")
    reader = make_user(unique, "reader", roles=("Blogger",))
    refresh(ctx)
    m = "/api/method/"
    # a comment on the user's own record (User is readable by the System Manager)
    c = client.post(m + "frappe.desk.form.utils.add_comment",
                    {"reference_doctype": "User", "reference_name": other, "content": "<p>hello</p><script>x</script>",
                     "comment_email": "someone@else.com"}, **h)
    assert c.status_code == 200, c.content[:300]
    comment = c.json()["message"]
    assert comment["comment_email"] == user and "<script>" not in comment["content"]
    # assign and unassign
    a = client.post(m + "frappe.desk.form.assign_to.add",
                    {"doctype": "User", "name": other, "assign_to": json.dumps([user]), "description": "check"}, **h)
    assert a.status_code == 200 and a.json()["message"] == [user], a.content[:300]
    loaded = client.get(m + "frappe.desk.form.load.getdoc", {"doctype": "User", "name": other}, **h).json()["message"]
    assert loaded["docs"][0]["name"] == other
    assert [x["owner"] for x in loaded["docinfo"]["assignments"]] == [user]
    assert [x["name"] for x in loaded["docinfo"]["comments"]] == [comment["name"]]
    r = client.post(m + "frappe.desk.form.assign_to.remove", {"doctype": "User", "name": other, "assign_to": user}, **h)
    assert r.status_code == 200 and r.json()["message"] == []
    # validate_link: the name and asked fields, or {} for a missing record
    v = client.get(m + "frappe.client.validate_link",
                   {"doctype": "User", "docname": other, "fields": json.dumps(["first_name"])}, **h).json()
    assert v["message"] == {"name": other, "first_name": "Omid"}
    assert client.get(m + "frappe.client.validate_link", {"doctype": "User", "docname": "nobody@x.y"},
                      **h).json()["message"] == {}
    # getdoctype: the definition with its fields, child tables too
    d = client.get(m + "frappe.desk.form.load.getdoctype", {"doctype": "User"}, **h).json()["message"]
    assert d["docs"][0]["name"] == "User" and any(f["fieldname"] == "first_name" for f in d["docs"][0]["fields"])
    assert "Has Role" in [x["name"] for x in d["docs"][1:]]
    # a user who may not write the record cannot assign it; one who may not read gets 403
    rh = token(reader)
    refresh(ctx)
    refused = client.post(m + "frappe.desk.form.assign_to.add",
                          {"doctype": "User", "name": other, "assign_to": json.dumps([reader])}, **rh)
    assert refused.status_code == 403, refused.content[:300]
    assert client.get(m + "frappe.desk.form.load.getdoctype", {"doctype": "Email Account"}, **rh).status_code == 403
    assert client.get(m + "frappe.desk.form.load.getdoctype", {"doctype": "Role"}, **rh).status_code == 200


def test_error_bodies_carry_frappes_exc_and_server_messages(ctx, client, api_user):
    """Frappe clients read ``exc_type``, ``exception``, ``exc`` (a JSON list) and
    ``_server_messages`` (a JSON list of JSON messages) from an error; no trace leaves."""
    _user, h = api_user
    r = client.get("/api/resource/No Such DocType", **h)
    assert r.status_code == 404
    data = r.json()
    assert data["exc_type"] == "DoesNotExistError" and data["exception"].endswith(data["message"])
    assert json.loads(data["exc"]) == [data["exception"]] and "Traceback" not in data["exc"]
    messages = [json.loads(m) for m in json.loads(data["_server_messages"])]
    assert messages == [{"message": data["message"], "title": "DoesNotExistError", "indicator": "red",
                         "raise_exception": 1}]
