"""Frappe's REST API v2 (/api/v2/...) over HTTP on both engines, each request as a
Frappe v2 client sends it (JSON bodies; fields and filters as JSON text in the query
string), and Guest's answers: a request with no, an unknown or an expired ``sid`` is
Guest, refused with 403 PermissionError as Frappe does (clients log in again on it);
a wrong token or password stays a 401."""
import json

import pytest

import lowcode
from lowcode import auth

from .test_api import PASSWORD, body, make_user, refresh, token, write

V2 = "/api/v2"


def data(response, status=200):
    answer = body(response)
    assert response.status_code == status, (response.status_code, answer)
    assert "errors" not in answer, answer
    return answer


def v2_error(response, status, exc_type, mentions=None):
    """Frappe v2's error body: {"errors": [{"type", "message", ...}]} with the status."""
    answer = body(response)
    assert response.status_code == status, (response.status_code, answer)
    assert isinstance(answer.get("errors"), list) and len(answer["errors"]) == 1, answer
    entry = answer["errors"][0]
    assert entry["type"] == exc_type, answer
    assert isinstance(entry.get("message"), str) and entry["message"], answer
    if mentions:
        assert mentions in entry["message"] or entry.get("field") == mentions, answer
    return entry


def send_json(client, method, path, payload, **headers):
    return getattr(client, method)(path, json.dumps(payload), content_type="application/json", **headers)


@pytest.fixture
def notes(ctx, make_doctype):
    """A DocType System Managers read and write, and a Sales User only their own records
    (if_owner): a row rule the list must apply in SQL."""
    return make_doctype([
        {"fieldname": "title", "fieldtype": "Data", "label": "Title", "reqd": 1},
        {"fieldname": "qty", "fieldtype": "Int", "label": "Quantity"},
        {"fieldname": "status", "fieldtype": "Select", "label": "Status", "options": "Open\nClosed",
         "default": "Open"},
    ], autoname="hash", permissions=[
        {"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1, "report": 1},
        {"role": "Sales User", "read": 1, "write": 1, "create": 1, "if_owner": 1},
    ])


@pytest.fixture
def manager(ctx, unique):
    user = make_user(unique, "v2mgr")
    headers = token(user)
    refresh(ctx)
    return user, headers


def test_document_crud_as_a_v2_client_sends_it(ctx, client, notes, manager):
    _, h = manager
    url = f"{V2}/document/{notes}"
    made = [data(send_json(client, "post", url, {"title": f"Note {i}", "qty": i}, **h))["data"] for i in range(5)]
    assert [m["qty"] for m in made] == [0, 1, 2, 3, 4] and all(m["doctype"] == notes for m in made)
    first = made[0]["name"]
    # read one
    got = data(client.get(f"{url}/{first}", **h))["data"]
    assert got["title"] == "Note 0" and got["name"] == first
    # the list: fields, filters, order_by, start, limit, has_next_page and include=count
    page = data(client.get(url, {"fields": json.dumps(["name", "qty"]), "filters": json.dumps({"qty": [">", 0]}),
                                 "order_by": "qty desc", "start": "1", "limit": "2", "include": "count"}, **h))
    assert page["data"] == [{"name": made[3]["name"], "qty": 3}, {"name": made[2]["name"], "qty": 2}]
    assert page["has_next_page"] is True and page["count"] == 4
    last = data(client.get(url, {"fields": '["qty"]', "filters": '[["qty", ">", 0]]', "order_by": "qty desc",
                                 "start": "3", "limit": "2"}, **h))
    assert last["data"] == [{"qty": 1}] and last["has_next_page"] is False
    assert data(client.get(url, {"fields": '["qty"]', "order_by": "qty asc", "as_dict": "0", "limit": "1"},
                           **h))["data"] == [[0]]
    grouped = data(client.get(url, {"fields": '["status", "count(*) as n"]', "group_by": "status"}, **h))["data"]
    assert grouped == [{"status": "Open", "n": 5}]
    # update: PATCH and PUT, with a trailing slash as Frappe's routes have it
    assert data(send_json(client, "patch", f"{url}/{first}/", {"qty": 40}, **h))["data"]["qty"] == 40
    assert data(send_json(client, "put", f"{url}/{first}", {"status": "Closed"}, **h))["data"]["status"] == "Closed"
    refresh(ctx)
    assert lowcode.db.get_value(notes, first, "qty") == 40
    # delete: 202 "ok", then the record is gone (a v2 404)
    assert data(client.delete(f"{url}/{first}", **h), 202)["data"] == "ok"
    v2_error(client.get(f"{url}/{first}", **h), 404, "DoesNotExistError")
    refresh(ctx)
    assert not lowcode.db.exists(notes, first)


def test_count_and_meta(ctx, client, notes, manager):
    _, h = manager
    for qty in (1, 2, 3):
        data(send_json(client, "post", f"{V2}/document/{notes}", {"title": "n", "qty": qty}, **h))
    assert data(client.get(f"{V2}/doctype/{notes}/count", **h))["data"] == 3
    assert data(client.get(f"{V2}/doctype/{notes}/count/", {"filters": '{"qty": [">=", 2]}'}, **h))["data"] == 2
    meta = data(client.get(f"{V2}/doctype/{notes}/meta", **h))["data"]
    assert meta["name"] == notes and [f["fieldname"] for f in meta["fields"]] == ["title", "qty", "status"]
    v2_error(client.get(f"{V2}/doctype/No Such Type/meta", **h), 404, "DoesNotExistError")
    v2_error(client.post(f"{V2}/doctype/{notes}/count", **h), 405, "MethodNotAllowed")


def test_lists_and_counts_keep_row_rules(ctx, client, notes, unique):
    """A Sales User with if_owner sees only their own records: in the list, the count
    and a direct read; the list's filter runs in SQL (the count under it agrees)."""
    seller = make_user(unique, "v2seller", roles=("Sales User",))
    other = make_user(unique, "v2other", roles=("Sales User",))
    hs, ho = token(seller), token(other)
    refresh(ctx)
    mine = data(send_json(client, "post", f"{V2}/document/{notes}", {"title": "mine"}, **hs))["data"]["name"]
    theirs = data(send_json(client, "post", f"{V2}/document/{notes}", {"title": "theirs"}, **ho))["data"]["name"]
    listed = data(client.get(f"{V2}/document/{notes}", {"fields": '["name"]', "include": "count"}, **hs))
    assert listed["data"] == [{"name": mine}] and listed["count"] == 1
    assert data(client.get(f"{V2}/doctype/{notes}/count", **hs))["data"] == 1
    v2_error(client.get(f"{V2}/document/{notes}/{theirs}", **hs), 403, "PermissionError")
    v2_error(send_json(client, "patch", f"{V2}/document/{notes}/{theirs}", {"title": "mine now"}, **hs),
             403, "PermissionError")
    v2_error(client.delete(f"{V2}/document/{notes}/{theirs}", **hs), 403, "PermissionError")
    refresh(ctx)
    assert lowcode.db.get_value(notes, theirs, "title") == "theirs"


def test_bad_input_names_the_parameter_and_writes_nothing(ctx, client, notes, manager):
    _, h = manager
    url = f"{V2}/document/{notes}"
    entry = v2_error(client.get(url, {"filters": '{"nope": 1}'}, **h), 417, "InvalidFieldError")
    assert "nope" in entry["message"]
    v2_error(client.get(url, {"limit": "many"}, **h), 400, "BadRequest", mentions="limit")
    v2_error(client.get(url, {"start": "-1"}, **h), 400, "BadRequest", mentions="start")
    assert data(client.get(url, {"limit": str(2**31 - 1)}, **h)) == {"data": [], "has_next_page": False}
    v2_error(send_json(client, "post", url, {"title": "x", "colour": "red"}, **h), 417, "InvalidFieldError",
             mentions="colour")
    v2_error(send_json(client, "post", url, {"qty": 1}, **h), 417, "MandatoryError")
    refresh(ctx)
    assert not lowcode.db.sql(f"SELECT 1 FROM `tab{notes}`")


def test_methods_answer_under_data(ctx, client, notes, manager, unique):
    user, h = manager
    assert data(client.get(f"{V2}/method/ping"))["data"] == "pong"
    assert data(client.get(f"{V2}/method/frappe.auth.get_logged_user", **h))["data"] == user
    data(send_json(client, "post", f"{V2}/document/{notes}", {"title": "a"}, **h))
    assert data(client.get(f"{V2}/method/frappe.client.get_count/", {"doctype": notes}, **h))["data"] == 1
    inserted = data(send_json(client, "post", f"{V2}/method/frappe.client.insert",
                              {"doc": {"doctype": notes, "title": "b"}}, **h))["data"]
    assert inserted["title"] == "b"
    # the same HTTP-method rules as v1: a writing method refuses GET
    v2_error(client.get(f"{V2}/method/frappe.client.delete", {"doctype": notes, "name": inserted["name"]}, **h),
             403, "PermissionError")
    v2_error(client.get(f"{V2}/method/no.such.method", **h), 404, "DoesNotExistError")
    # login by v2 opens a session (cookie) the next requests use
    other = type(client)(HTTP_HOST=client.defaults["HTTP_HOST"])
    logged = data(other.post(f"{V2}/method/login", {"usr": user, "pwd": PASSWORD}))
    assert logged["data"] == "Logged In" and other.cookies["sid"].value
    assert data(other.get(f"{V2}/method/frappe.auth.get_logged_user"))["data"] == user
    data(other.post(f"{V2}/method/logout"))
    v2_error(other.get(f"{V2}/method/frappe.auth.get_logged_user"), 403, "PermissionError")


DOC_METHOD_CONTROLLER = '''
import lowcode
from lowcode.document import Document


class {cls}(Document):
    @lowcode.whitelist()
    def greet(self, greeting: str = "Hello", times: int = 1):
        return " ".join([f"{{greeting}} {{self.title}}"] * times)

    @lowcode.whitelist(methods=["POST"])
    def close(self):
        self.status = "Closed"
        self.save()
        return "closed"

    @lowcode.whitelist()
    def close_any_way(self):
        self.status = "Closed"
        self.save()

    def secret(self):
        return "not for clients"
'''


def test_document_method(ctx, client, temp_app, unique):
    """/api/v2/document/<dt>/<name>/method/<m>: a whitelisted controller method, GET with
    read (never writing), POST with write; anything else refused."""
    from lowcode import installer
    app = temp_app()
    doctype = f"V2 Ticket {unique}"
    cls = doctype.replace(" ", "")
    app.write_doctype({"name": doctype, "autoname": "hash", "fields": [
        {"fieldname": "title", "fieldtype": "Data", "label": "Title"},
        {"fieldname": "status", "fieldtype": "Select", "label": "Status", "options": "Open\nClosed",
         "default": "Open"}],
        "permissions": [{"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1},
                        {"role": "Sales User", "read": 1}]},
        controller=DOC_METHOD_CONTROLLER.format(cls=cls))
    write(ctx)
    installer.install_app(app.name)
    ticket = lowcode.get_doc({"doctype": doctype, "title": "Ada"}).insert()
    h = token(make_user(unique, "v2doc"))
    reader = token(make_user(unique, "v2reader", roles=("Sales User",)))
    refresh(ctx)
    url = f"{V2}/document/{doctype}/{ticket.name}/method"
    greeted = data(client.get(f"{url}/greet", {"greeting": "Salaam", "times": "2"}, **reader))
    assert greeted["data"] == "Salaam Ada Salaam Ada" and greeted["docs"][0]["name"] == ticket.name
    v2_error(client.get(f"{url}/greet", {"times": "often"}, **reader), 400, "BadRequest", mentions="times")
    # POST needs write on the document; GET of a method that only takes POST is refused
    v2_error(client.post(f"{url}/close/", **reader), 403, "PermissionError")
    v2_error(client.get(f"{url}/close", **h), 403, "PermissionError")
    # GET never writes, even through a method that answers any HTTP method
    v2_error(client.get(f"{url}/close_any_way", **h), 405, "ReadOnlyError")
    refresh(ctx)
    assert lowcode.db.get_value(doctype, ticket.name, "status") == "Open"
    closed = data(client.post(f"{url}/close", **h))
    assert closed["data"] == "closed" and closed["docs"][0]["status"] == "Closed"
    v2_error(client.get(f"{url}/secret", **h), 403, "NotWhitelisted")
    v2_error(client.get(f"{url}/_private", **h), 404, "DoesNotExistError")
    v2_error(client.get(f"{url}/no_such", **h), 404, "DoesNotExistError")


def test_unknown_paths_and_methods_answer_v2_json(ctx, client, notes, manager):
    _, h = manager
    for path in (f"{V2}", f"{V2}/", f"{V2}/nothing/here", f"{V2}/doctype/{notes}/other"):
        v2_error(client.get(path, **h), 404, "DoesNotExistError")
    v2_error(client.delete(f"{V2}/document/{notes}", **h), 405, "MethodNotAllowed")
    v2_error(client.post(f"{V2}/document/{notes}/x", **h), 405, "MethodNotAllowed")
    v2_error(client.get(f"{V2}/document/No Such Type", **h), 404, "DoesNotExistError")


def test_desk_session_needs_csrf_token_on_v2_writes(ctx, client, notes, unique):
    """The same CSRF rule as v1: a desk session's write must echo its token."""
    user = make_user(unique, "v2desk")
    refresh(ctx)
    r = client.post("/api/method/login", {"usr": user, "pwd": PASSWORD}, HTTP_X_LOWCODE_DESK="1")
    assert r.status_code == 200
    csrf = auth.get_session(client.cookies["sid"].value).csrf_token
    assert csrf
    v2_error(send_json(client, "post", f"{V2}/document/{notes}", {"title": "forged"}), 400, "CSRFTokenError")
    made = data(send_json(client, "post", f"{V2}/document/{notes}", {"title": "ok"}, HTTP_X_FRAPPE_CSRF_TOKEN=csrf))
    assert made["data"]["owner"] == user


# -- Guest: no, unknown or expired sid -> 403 PermissionError ------------------------------------

def test_unknown_or_expired_sid_is_guest_403(ctx, client, notes, unique):
    """As Frappe: the request runs as Guest, and what needs a login answers 403
    PermissionError (v1 and v2), which clients take as "log in again"."""
    user = make_user(unique, "v2sid")
    refresh(ctx)
    c = type(client)(HTTP_HOST=client.defaults["HTTP_HOST"])
    c.post("/api/method/login", {"usr": user, "pwd": PASSWORD})
    sid = c.cookies["sid"].value
    write(ctx)
    ctx.db.sql("UPDATE `tabSessions` SET `expires`=%s WHERE `sid`=%s", ("2000-01-01 00:00:00", sid))
    auth.cache().delete(f"session:{sid}")
    refresh(ctx)
    for cookie in (sid, f"unknown{unique}"):  # expired, then never issued
        guest = type(client)(HTTP_HOST=client.defaults["HTTP_HOST"])
        guest.cookies["sid"] = cookie
        for path in ("/api/method/frappe.auth.get_logged_user", f"/api/resource/{notes}",
                     "/api/method/frappe.client.get_list?doctype=" + notes):
            r = guest.get(path)
            assert r.status_code == 403 and body(r)["exc_type"] == "PermissionError", (cookie, path, r.content)
        v2_error(guest.get(f"{V2}/document/{notes}"), 403, "PermissionError")
        v2_error(guest.get(f"{V2}/method/frappe.auth.get_logged_user"), 403, "PermissionError")
        # a guest method still answers, and the desk still sends a browser to log in
        assert data(guest.get(f"{V2}/method/ping"))["data"] == "pong"
        page = guest.get("/app", HTTP_ACCEPT="text/html")
        assert page.status_code == 302 and page["Location"].startswith("/login")


def test_wrong_token_or_password_stays_401(ctx, client, unique):
    user = make_user(unique, "v2tok")
    key, _ = auth.generate_keys(user)
    refresh(ctx)
    v2_error(client.get(f"{V2}/document/User", HTTP_AUTHORIZATION=f"token {key}:wrong"), 401, "AuthenticationError")
    r = client.post("/api/method/login", {"usr": user, "pwd": "not-it"}, REMOTE_ADDR="10.9.9.9")
    assert r.status_code == 401 and body(r)["exc_type"] == "AuthenticationError"
    v2_error(client.post(f"{V2}/method/login", {"usr": user, "pwd": "not-it"}, REMOTE_ADDR="10.9.9.8"), 401,
             "AuthenticationError")


def test_website_users_are_kept_out_of_v2_too(ctx, client, unique):
    """Portal logins get the guest-callable methods only, on v2 as on v1."""
    from .desk_helpers import login
    from .test_website_users import website_user
    user = website_user(unique)
    login(ctx, client, user)
    for path in (f"{V2}/document/User", f"{V2}/document/User/{user}", f"{V2}/doctype/User/meta",
                 f"{V2}/doctype/User/count", f"{V2}/method/frappe.client.get_list?doctype=File"):
        v2_error(client.get(path), 403, "PermissionError")
    assert data(client.get(f"{V2}/method/frappe.auth.get_logged_user/"))["data"] == user


def test_desk_json_endpoints_refuse_guest_with_403(ctx, client):
    """The desk's drag-and-drop endpoints answer JSON: a Guest gets 403 PermissionError
    there too, while a desk page sends the browser to the login page."""
    for path in ("/app/todo/view/kanban/move", "/app/todo/view/calendar/move"):
        r = client.post(path, {"name": "x"})
        assert r.status_code == 403 and body(r)["exc_type"] == "PermissionError", (path, r.content)
    page = client.get("/app/todo", HTTP_ACCEPT="text/html")
    assert page.status_code == 302 and page["Location"].startswith("/login")
