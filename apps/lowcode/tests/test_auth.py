"""Authentication over HTTP on both engines: how passwords and API secrets are kept,
that no API returns them, login throttling (Redis counter on the MariaDB site, process
memory on the SQLite one), disabled users, CSRF for desk sessions, and the Host header
choosing the site.

Each test that counts failed logins sends its own REMOTE_ADDR, so the per-address
counter of one test never locks another out.
"""
import json
import random

import pytest
from django.test import Client

import lowcode
from lowcode import auth
from lowcode.testing.http import body, error, ok, refresh, write  # noqa: F401

PASSWORD = "Sturdy-Passw0rd!"


def ensure_role(role):
    if not lowcode.db.exists("Role", role):
        lowcode.get_doc({"doctype": "Role", "role_name": role}).insert()


def make_user(unique, tag, roles=("System Manager",), password=PASSWORD):
    email = f"{tag}-{unique}@example.com"
    for role in roles:
        ensure_role(role)
    lowcode.get_doc({"doctype": "User", "email": email, "first_name": tag.title(),
                     "roles": [{"role": r} for r in roles]}).insert()
    if password:
        auth.set_password(email, password)
    return email


def new_ip():
    return f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


def login(client, user, password, ip=None, **headers):
    return client.post("/api/method/login", {"usr": user, "pwd": password}, REMOTE_ADDR=ip or new_ip(), **headers)


def whoami(client, **headers):
    return client.get("/api/method/frappe.auth.get_logged_user", **headers)


def session_row(ctx, sid):
    refresh(ctx)
    rows = ctx.db.sql("SELECT `user`, `data` FROM `tabSessions` WHERE `sid`=%s", (sid,))
    return rows[0] if rows else None


# -- storage ---------------------------------------------------------------------------------------

def test_passwords_and_api_secrets_are_stored_hashed(ctx, unique):
    user = make_user(unique, "hash")
    key, secret = auth.generate_keys(user)
    rows = dict(ctx.db.sql("SELECT `fieldname`, `password` FROM `tabAuth` WHERE `doctype`='User' AND `name`=%s",
                           (user,)))
    assert set(rows) == {"password", "api_secret"}
    assert rows["password"].startswith("argon2$argon2"), rows["password"][:20]
    assert PASSWORD not in rows["password"]
    assert secret not in rows["api_secret"]
    everything = " ".join(str(v) for row in ctx.db.sql("SELECT * FROM `tabAuth`") for v in row)
    assert PASSWORD not in everything and secret not in everything
    # the user's own row holds neither
    user_row = " ".join(str(v) for v in ctx.db.sql("SELECT * FROM `tabUser` WHERE `name`=%s", (user,))[0])
    assert PASSWORD not in user_row and secret not in user_row
    # the same password hashes differently each time (salted)
    auth.set_password(user, PASSWORD)
    again = ctx.db.sql("SELECT `password` FROM `tabAuth` WHERE `doctype`='User' AND `name`=%s "
                       "AND `fieldname`='password'", (user,))[0][0]
    assert again != rows["password"] and again.startswith("argon2$")


def test_no_api_returns_password_or_secret(ctx, client, unique):
    admin = make_user(unique, "sysman")
    target = make_user(unique, "target")
    key, secret = auth.generate_keys(admin)
    _, target_secret = auth.generate_keys(target)
    stored = [row[0] for row in ctx.db.sql("SELECT `password` FROM `tabAuth` WHERE `name` IN (%s, %s)",
                                           (admin, target))]
    h = {"HTTP_AUTHORIZATION": f"token {key}:{secret}"}
    refresh(ctx)
    forbidden = [PASSWORD, secret, target_secret] + stored

    def clean(response, where):
        text = response.content.decode("utf-8")
        for value in forbidden:
            assert value not in text, f"{where}: a password, secret or hash leaked"
        if response.status_code == 200:
            for name in ('"password"', '"api_secret"', '"new_password"'):
                assert name not in text, f"{where}: {name} in the answer"
        return text

    r = client.get(f"/api/resource/User/{target}", **h)
    assert ok(r)["data"]["name"] == target
    clean(r, "GET /api/resource/User/<name>")
    clean(client.get("/api/resource/User", {"fields": json.dumps(["*"]), "limit_page_length": 0}, **h),
          "GET /api/resource/User fields=*")
    clean(client.get("/api/method/frappe.client.get", {"doctype": "User", "name": target}, **h), "frappe.client.get")
    clean(client.get("/api/method/frappe.desk.reportview.export_query",
                     {"doctype": "User", "fields": json.dumps(["name", "api_key"])}, **h), "export_query")
    clean(login(Client(HTTP_HOST=client.defaults["HTTP_HOST"]), target, PASSWORD), "login")
    # asking for them by name is an unknown field, not a leak
    for field in ("password", "api_secret"):
        r = client.get("/api/resource/User", {"fields": json.dumps(["name", field])}, **h)
        error(r, 417)
        clean(r, f"fields={field}")
    # and they cannot be written through the document either
    error(client.put(f"/api/resource/User/{target}", json.dumps({"password": "x"}), content_type="application/json",
                     **h), 417)
    refresh(ctx)
    assert ctx.db.sql("SELECT `password` FROM `tabAuth` WHERE `name`=%s AND `fieldname`='password'",
                      (target,))[0][0] in stored


# -- throttling ---------------------------------------------------------------------------------------

def _counter(ctx, user):
    """The failed-login counter as the site's cache holds it: Redis for the MariaDB site,
    process memory for the SQLite one (read directly, not through the engine)."""
    key = f"{ctx.site}|login-fail:user:{user}"
    url = ctx.conf.get("redis_cache")
    if url:
        import redis
        raw = redis.Redis.from_url(url).get(key)
        return None if raw is None else raw
    from lowcode import caches
    item = caches._memory.get(key)
    return None if item is None else item[0]


def test_login_throttling_locks_the_user_out(ctx, client, unique, site):
    user = make_user(unique, "throttle")
    refresh(ctx)
    ip = new_ip()
    for attempt in range(1, 6):
        error(login(client, user, f"wrong-{attempt}", ip=ip), 401, "AuthenticationError")
    counter = _counter(ctx, user)
    assert counter is not None and int(counter) == 5, counter
    if ctx.conf.get("redis_cache"):
        assert site.endswith("-mariadb.localhost")  # the MariaDB site keeps the counter in Redis
    # the sixth attempt is refused even with the right password, from anywhere
    r = login(client, user, PASSWORD, ip=ip)
    error(r, 429, "TooManyRequestsError")
    assert not r.cookies.get("sid") or not r.cookies["sid"].value
    error(login(client, user, PASSWORD, ip=new_ip()), 429, "TooManyRequestsError")
    error(login(client, user.upper(), PASSWORD, ip=new_ip()), 429, "TooManyRequestsError")
    # another user from the same address is not locked out by this user's failures
    other = Client(HTTP_HOST=client.defaults["HTTP_HOST"])
    write(ctx)
    second = make_user(unique, "bystander")
    refresh(ctx)
    ok(login(other, second, PASSWORD, ip=ip))
    # API tokens are not subject to the login lockout
    write(ctx)
    key, secret = auth.generate_keys(user)
    refresh(ctx)
    assert ok(whoami(client, HTTP_AUTHORIZATION=f"token {key}:{secret}"))["message"] == user


def test_successful_login_resets_the_counter(ctx, client, unique):
    user = make_user(unique, "reset")
    refresh(ctx)
    ip = new_ip()
    for _ in range(4):
        error(login(client, user, "wrong", ip=ip), 401)
    ok(login(client, user, PASSWORD, ip=ip))
    for _ in range(4):
        error(login(client, user, "wrong", ip=ip), 401)
    ok(login(client, user, PASSWORD, ip=ip))


def test_login_throttling_per_address(ctx, client, unique):
    """20 failures from one address (an office behind one NAT address) throttle it: a
    correct password from there still logs in, a wrong one is refused and locks that
    user at once, so guessing across users from the address gets one try each."""
    victim = make_user(unique, "victim")
    colleague = make_user(unique, "colleague")
    refresh(ctx)
    ip = new_ip()
    for i in range(20):
        error(login(client, f"nobody{i}-{unique}@example.com", "guess", ip=ip), 401)
    ok(login(Client(HTTP_HOST=client.defaults["HTTP_HOST"]), victim, PASSWORD, ip=ip))
    error(login(client, colleague, "a-wrong-guess", ip=ip), 429, "TooManyRequestsError")
    # that one guess locked the colleague's account, from everywhere
    error(login(client, colleague, PASSWORD, ip=new_ip()), 429, "TooManyRequestsError")
    # a good login does not reset the address (an attacker's own account would reset it)
    ok(login(Client(HTTP_HOST=client.defaults["HTTP_HOST"]), victim, PASSWORD, ip=ip))
    error(login(client, f"nobody-{unique}@example.com", "guess", ip=ip), 429, "TooManyRequestsError")
    # other addresses are not throttled
    error(login(client, f"someone-{unique}@example.com", "guess", ip=new_ip()), 401, "AuthenticationError")


def test_login_names_are_normalised_for_the_lock(ctx, client, unique):
    """A trailing space or other letter case is the same user: it neither bypasses the
    per-user lock nor fails to log in."""
    user = make_user(unique, "spaces")
    refresh(ctx)
    ok(login(Client(HTTP_HOST=client.defaults["HTTP_HOST"]), f"  {user.upper()} ", PASSWORD))
    for variant in (user, f"{user} ", f" {user}", user.upper(), f"{user.title()}\t"):
        error(login(client, variant, "wrong", ip=new_ip()), 401, "AuthenticationError")
    for variant in (f"{user} ", user, user.upper()):
        error(login(client, variant, PASSWORD, ip=new_ip()), 429, "TooManyRequestsError")


def test_unknown_users_cost_the_same_password_check(ctx, client, unique, monkeypatch):
    """The password hasher runs once for every login, known user or not (against a dummy
    hash when there is nothing to check), so the answer's time does not tell which users
    exist: Argon2 takes tens of milliseconds, a missing row a few. Checked by counting
    the real hasher's runs rather than by timing, which a busy machine would blur."""
    from django.contrib.auth.hashers import identify_hasher
    runs = []
    real = auth.django_check_password

    def counted(password, encoded, *args, **kwargs):
        runs.append(identify_hasher(encoded).algorithm)
        return real(password, encoded, *args, **kwargs)
    monkeypatch.setattr(auth, "django_check_password", counted)
    user = make_user(unique, "timing")
    refresh(ctx)
    for name in (user, f"nobody-{unique}@example.com"):
        runs.clear()
        error(login(client, name, "not-the-password"), 401, "AuthenticationError")
        assert runs == ["argon2"], (name, runs)


# -- disabled users ---------------------------------------------------------------------------------------

def test_disabled_user_cannot_log_in_and_loses_sessions(ctx, client, unique):
    user = make_user(unique, "disabled")
    key, secret = auth.generate_keys(user)
    refresh(ctx)
    ok(login(client, user, PASSWORD))
    sid = client.cookies["sid"].value
    assert ok(whoami(client))["message"] == user

    write(ctx)
    doc = lowcode.get_doc("User", user)
    doc.enabled = 0
    doc.save()
    refresh(ctx)

    error(whoami(client), 403, "PermissionError")
    assert session_row(ctx, sid) is None
    # the answer for a disabled user is a wrong password's, right password or not: it
    # confirms nothing about the password
    wrong = error(login(Client(HTTP_HOST=client.defaults["HTTP_HOST"]), user, "a-wrong-one"), 401,
                  "AuthenticationError")
    right = error(login(Client(HTTP_HOST=client.defaults["HTTP_HOST"]), user, PASSWORD), 401, "AuthenticationError")
    assert right == wrong, (right, wrong)
    error(whoami(client, HTTP_AUTHORIZATION=f"token {key}:{secret}"), 401, "AuthenticationError")
    # enabled again, the user can log in
    write(ctx)
    doc = lowcode.get_doc("User", user)
    doc.enabled = 1
    doc.save()
    refresh(ctx)
    ok(login(Client(HTTP_HOST=client.defaults["HTTP_HOST"]), user, PASSWORD))


def test_disabling_through_the_api_ends_sessions(ctx, client, unique):
    admin = make_user(unique, "disabler")
    user = make_user(unique, "victim2")
    key, secret = auth.generate_keys(admin)
    refresh(ctx)
    victim = Client(HTTP_HOST=client.defaults["HTTP_HOST"])
    ok(login(victim, user, PASSWORD))
    ok(client.put(f"/api/resource/User/{user}", json.dumps({"enabled": 0}), content_type="application/json",
                  HTTP_AUTHORIZATION=f"token {key}:{secret}"))
    error(whoami(victim), 403, "PermissionError")


# -- CSRF ------------------------------------------------------------------------------------------------

@pytest.fixture
def csrf_setup(ctx, make_doctype, unique):
    dt = make_doctype([{"fieldname": "title", "fieldtype": "Data", "label": "Title"}])
    user = make_user(unique, "desk")
    refresh(ctx)
    return dt, user


def test_desk_session_needs_csrf_token_for_writes(ctx, client, csrf_setup):
    dt, user = csrf_setup
    r = login(client, user, PASSWORD, HTTP_X_LOWCODE_DESK="1")
    ok(r)
    sid = client.cookies["sid"].value
    data = json.loads(session_row(ctx, sid)[1])
    token = data.get("csrf_token")
    assert token, data

    # reads need no token
    ok(client.get(f"/api/resource/{dt}"))
    # writes without the token, or with a wrong one, are refused and write nothing
    payload = json.dumps({"title": "no-token"})
    error(client.post(f"/api/resource/{dt}", payload, content_type="application/json"), 400, "CSRFTokenError")
    error(client.post(f"/api/resource/{dt}", payload, content_type="application/json",
                      HTTP_X_FRAPPE_CSRF_TOKEN=token[:-2] + "xx"), 400, "CSRFTokenError")
    error(client.post("/api/method/frappe.client.insert", {"doc": json.dumps({"doctype": dt, "title": "no-token"})}),
          400, "CSRFTokenError")
    refresh(ctx)
    assert ctx.db.sql(f"SELECT COUNT(*) FROM `tab{dt}`")[0][0] == 0

    # with the session's token: allowed
    doc = ok(client.post(f"/api/resource/{dt}", json.dumps({"title": "with-token"}), content_type="application/json",
                         HTTP_X_FRAPPE_CSRF_TOKEN=token))["data"]
    url = f"/api/resource/{dt}/{doc['name']}"
    error(client.put(url, json.dumps({"title": "x"}), content_type="application/json"), 400, "CSRFTokenError")
    ok(client.put(url, json.dumps({"title": "changed"}), content_type="application/json",
                  HTTP_X_FRAPPE_CSRF_TOKEN=token))
    error(client.delete(url), 400, "CSRFTokenError")
    refresh(ctx)
    assert ctx.db.sql(f"SELECT `title` FROM `tab{dt}` WHERE `name`=%s", (doc["name"],))[0][0] == "changed"
    ok(client.delete(url, HTTP_X_FRAPPE_CSRF_TOKEN=token))
    refresh(ctx)
    assert ctx.db.sql(f"SELECT COUNT(*) FROM `tab{dt}`")[0][0] == 0


def test_csrf_token_of_another_session_is_refused(ctx, client, csrf_setup):
    dt, user = csrf_setup
    other = Client(HTTP_HOST=client.defaults["HTTP_HOST"])
    ok(login(other, user, PASSWORD, HTTP_X_LOWCODE_DESK="1"))
    other_token = json.loads(session_row(ctx, other.cookies["sid"].value)[1])["csrf_token"]
    ok(login(client, user, PASSWORD, HTTP_X_LOWCODE_DESK="1"))
    error(client.post(f"/api/resource/{dt}", json.dumps({"title": "x"}), content_type="application/json",
                      HTTP_X_FRAPPE_CSRF_TOKEN=other_token), 400, "CSRFTokenError")


def test_api_session_needs_no_csrf_token(ctx, client, csrf_setup):
    dt, user = csrf_setup
    ok(login(client, user, PASSWORD))
    data = json.loads(session_row(ctx, client.cookies["sid"].value)[1])
    assert not data.get("csrf_token")
    doc = ok(client.post(f"/api/resource/{dt}", json.dumps({"title": "api"}), content_type="application/json"))["data"]
    ok(client.put(f"/api/resource/{dt}/{doc['name']}", json.dumps({"title": "api2"}), content_type="application/json"))
    ok(client.delete(f"/api/resource/{dt}/{doc['name']}"))


def test_token_requests_need_no_csrf_token(ctx, client, csrf_setup):
    dt, user = csrf_setup
    write(ctx)
    key, secret = auth.generate_keys(user)
    refresh(ctx)
    ok(login(client, user, PASSWORD, HTTP_X_LOWCODE_DESK="1"))  # a desk cookie is present too
    ok(client.post(f"/api/resource/{dt}", json.dumps({"title": "tok"}), content_type="application/json",
                   HTTP_AUTHORIZATION=f"token {key}:{secret}"))


# -- sites by Host ----------------------------------------------------------------------------------------

def test_unknown_host_is_404_json(ctx, client, unique, site):
    refresh(ctx)
    for host in (f"nosuchsite-{unique}.example.com", "evil.example.com", "..", "bad host"):
        c = Client(HTTP_HOST=host)
        r = c.get("/api/method/frappe.auth.get_logged_user")
        assert r.status_code in (400, 404), (host, r.status_code)
        if r.status_code == 404:
            data = body(r)
            assert data["exc_type"] == "SiteNotFound", data
        r = c.post("/api/method/login", {"usr": "Administrator", "pwd": "admin"})
        assert r.status_code in (400, 404), (host, r.status_code)
    # the site's own name, with a port or in capitals, is the site
    for host in (site, f"{site}:8000", site.upper()):
        r = Client(HTTP_HOST=host).get("/api/method/frappe.auth.get_logged_user")
        error(r, 403, "PermissionError")  # reached the site: Guest is not logged in


def test_malformed_host_is_refused_with_json(ctx, client):
    """A Host header that is not a host name at all: refused, as JSON like every error."""
    refresh(ctx)
    r = Client(HTTP_HOST="bad host").get("/api/method/frappe.auth.get_logged_user")
    assert r.status_code in (400, 404), r.status_code
    data = body(r)
    assert data.get("exc_type") and data.get("message"), data


def test_error_before_the_request_transaction_is_json(ctx, client, bench, unique):
    """A site whose configuration cannot be read fails while the middleware sets the
    request up (before the view): the answer is still a JSON error, never Django's HTML
    page or a traceback."""
    import os
    import shutil
    refresh(ctx)
    name = f"broken-{unique}.localhost"
    folder = os.path.join(bench, name)
    os.makedirs(folder)
    try:
        with open(os.path.join(folder, "site_config.json"), "w") as f:
            f.write("{not json")
        r = Client(HTTP_HOST=name, raise_request_exception=False).get("/api/method/frappe.auth.get_logged_user")
        assert r.status_code >= 500 or r.status_code == 404, r.status_code
        data = body(r)
        assert data.get("exc_type") and data.get("message"), data
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- GET never writes (CSRF by link) ---------------------------------------------------------------------

WRITING_METHODS = ("frappe.client.save", "frappe.client.set_value", "frappe.client.insert",
                   "frappe.client.insert_many", "frappe.client.delete", "frappe.client.submit",
                   "frappe.client.cancel", "frappe.client.rename_doc", "frappe.core.doctype.user.user.generate_keys",
                   "upload_file", "frappe.handler.upload_file", "lowcode.jobs.retry",
                   "frappe.model.workflow.apply_workflow", "login", "frappe.desk.form.utils.add_comment",
                   "frappe.desk.form.assign_to.add", "frappe.desk.form.assign_to.remove",
                   "frappe.client.bulk_update", "frappe.client.attach_file")
WRITING_METHODS += ("frappe.core.doctype.data_import.data_import.form_start_import",)
READING_METHODS = ("frappe.client.get_list", "frappe.client.get_count", "frappe.client.get", "frappe.client.get_value",
                   "frappe.client.get_single_value", "frappe.desk.search.search_link", "frappe.desk.reportview.get",
                   "frappe.desk.reportview.get_count", "frappe.desk.reportview.export_query",
                   "frappe.utils.print_format.download_pdf", "frappe.auth.get_logged_user",
                   "frappe.model.workflow.get_transitions", "ping", "frappe.ping",
                   "frappe.client.validate_link", "frappe.desk.form.load.getdoc", "frappe.desk.form.load.getdoctype",
                   "frappe.desk.query_report.run", "frappe.desk.query_report.get_script")
READING_METHODS += tuple(f"frappe.core.doctype.data_import.data_import.{m}" for m in (
    "download_template", "get_preview_from_template", "download_errored_template", "get_import_status"))
READING_METHODS += ("lowcode.core.doctype.data_import_mapping.data_import_mapping.export_data",)
WRITING_METHODS += ("lowcode.sessions.revoke_session", "lowcode.sessions.revoke_other_sessions",
                    "frappe.twofactor.reset_otp_secret")
READING_METHODS += ("lowcode.sessions.get_sessions",)


def test_standard_methods_declare_their_http_methods():
    from lowcode.api.method import STANDARD_METHODS
    assert set(WRITING_METHODS) | set(READING_METHODS) | {"logout"} == set(STANDARD_METHODS)
    for dotted in WRITING_METHODS:
        assert "GET" not in STANDARD_METHODS[dotted].http_methods, dotted
    for dotted in READING_METHODS:
        assert set(STANDARD_METHODS[dotted].http_methods) == {"GET", "POST"}, dotted


def test_a_link_cannot_make_an_admin_write(ctx, client, unique):
    """An admin whose session was opened by /api/method/login (no CSRF token, as for
    Frappe clients) opens links from another site: GET calls of the writing methods
    are refused and change nothing; the same calls by POST work."""
    admin = make_user(unique, "linkadmin")
    victim = make_user(unique, "linkvictim", roles=("Blogger",))
    refresh(ctx)
    ok(login(client, admin, PASSWORD))
    m = "/api/method/"
    doc = ok(client.get(m + "frappe.client.get", {"doctype": "User", "name": victim}))["message"]
    doc["roles"].append({"role": "System Manager"})
    attacks = [
        ("frappe.client.save", {"doc": json.dumps(doc)}),
        ("frappe.client.set_value", {"doctype": "User", "name": victim, "fieldname": "first_name", "value": "Owned"}),
        ("frappe.client.insert", {"doc": json.dumps({"doctype": "User", "email": f"evil-{unique}@example.com",
                                                     "first_name": "Evil", "roles": [{"role": "System Manager"}]})}),
        ("frappe.client.delete", {"doctype": "User", "name": victim}),
        ("frappe.client.rename_doc", {"doctype": "User", "old_name": victim, "new_name": f"x-{unique}@example.com"}),
        ("frappe.core.doctype.user.user.generate_keys", {"user": victim}),
    ]
    for dotted, args in attacks:
        r = error(client.get(m + dotted, args), 403, "PermissionError")
        assert "POST" in r["message"], r
    refresh(ctx)
    row = ctx.db.sql("SELECT `first_name`, `api_key` FROM `tabUser` WHERE `name`=%s", (victim,))
    assert row and row[0] == ("Linkvictim", None), row
    assert not ctx.db.exists("User", f"evil-{unique}@example.com")
    assert "System Manager" not in ctx.db.sql("SELECT `role` FROM `tabHas Role` WHERE `parent`=%s", (victim,),
                                              pluck=True)
    # the same calls by POST, from the client itself, still work without a token
    ok(client.post(m + "frappe.client.set_value", {"doctype": "User", "name": victim, "fieldname": "first_name",
                                                  "value": "Renamed"}))
    refresh(ctx)
    assert ctx.db.get_value("User", victim, "first_name") == "Renamed"
    # reading methods answer GET as before
    assert ok(client.get(m + "frappe.client.get_value", {"doctype": "User", "fieldname": "first_name",
                                                         "filters": json.dumps({"name": victim})}))["message"]


def test_a_get_that_writes_is_refused_by_the_database(ctx, client, unique, temp_app):
    """App methods take any HTTP method, as in Frappe, but a GET (or HEAD) runs in a
    read-only transaction: a write through a document, raw SQL, DDL or a naming series
    is a clean 405 and leaves nothing behind, even after a commit in the middle."""
    from lowcode import installer
    admin = make_user(unique, "rowriter")
    key, secret = auth.generate_keys(admin)
    h = {"HTTP_AUTHORIZATION": f"token {key}:{secret}"}
    app = temp_app()
    app.write("api.py", '''
import lowcode


@lowcode.whitelist()
def add_todo(text):
    return lowcode.get_doc({"doctype": "ToDo", "description": text, "allocated_to": lowcode.local.user}).insert().name


@lowcode.whitelist()
def raw_insert(text):
    lowcode.db.sql("INSERT INTO `tabSeries` (`name`, `current`) VALUES (%s, 1)", (text,))


@lowcode.whitelist()
def make_table(text):
    lowcode.db.sql(f"CREATE TABLE `tabWebsec {text}` (`name` varchar(140))")


@lowcode.whitelist()
def next_number(text):
    return lowcode.db.next_series_value(text)


@lowcode.whitelist()
def commit_then_write(text):
    lowcode.db.commit()
    lowcode.db.begin()
    raw_insert(text)
''')
    write(ctx)
    installer.install_app(app.name)
    refresh(ctx)
    m = f"/api/method/{app.name}.api."
    for fn in ("add_todo", "raw_insert", "make_table", "next_number", "commit_then_write"):
        text = f"ro-{fn}-{unique}"
        r = error(client.get(m + fn, {"text": text}, **h), 405, "ReadOnlyError")
        assert "POST" in r["message"]
        assert client.head(m + fn, {"text": text}, **h).status_code in (403, 405)  # HEAD: not taken, or read-only
        refresh(ctx)
        assert not ctx.db.sql("SELECT 1 FROM `tabToDo` WHERE `description`=%s", (text,)), fn
        assert not ctx.db.sql("SELECT 1 FROM `tabSeries` WHERE `name`=%s", (text,)), fn
        assert not ctx.db.table_exists(f"Websec {text}"), fn
    # the connection is not left read-only: the next POST writes
    name = ok(client.post(m + "add_todo", {"text": f"posted-{unique}"}, **h))["message"]
    ok(client.post(m + "raw_insert", {"text": f"posted-{unique}"}, **h))
    refresh(ctx)
    assert ctx.db.exists("ToDo", name)
    assert ctx.db.sql("SELECT `current` FROM `tabSeries` WHERE `name`=%s", (f"posted-{unique}",), pluck=True) == [1]
    # and a GET after it is read-only again
    error(client.get(m + "raw_insert", {"text": f"again-{unique}"}, **h), 405, "ReadOnlyError")


def test_logout_by_get_ends_the_session(ctx, client, unique):
    """Frappe clients log out by GET; that one write stays allowed (it can only log
    the user out)."""
    user = make_user(unique, "getout")
    refresh(ctx)
    ok(login(client, user, PASSWORD, HTTP_X_LOWCODE_DESK="1"))
    sid = client.cookies["sid"].value
    assert ok(whoami(client))["message"] == user
    ok(client.get("/api/method/logout"))
    assert session_row(ctx, sid) is None
    replay = Client(HTTP_HOST=client.defaults["HTTP_HOST"])
    replay.cookies["sid"] = sid
    error(whoami(replay), 403, "PermissionError")
    # a Guest's GET logout is harmless
    ok(Client(HTTP_HOST=client.defaults["HTTP_HOST"]).get("/api/method/logout"))


# -- passwords and sessions --------------------------------------------------------------------------

def _desk_settings_post(client, token, **values):
    data = {"language": "en", "calendar": "Gregorian", "csrf_token": token, **values}
    return client.post("/app/my-settings", data)


def test_changing_ones_password_ends_the_other_sessions(ctx, client, unique):
    user = make_user(unique, "changer")
    refresh(ctx)
    ok(login(client, user, PASSWORD, HTTP_X_LOWCODE_DESK="1"))
    token = json.loads(session_row(ctx, client.cookies["sid"].value)[1])["csrf_token"]
    elsewhere = Client(HTTP_HOST=client.defaults["HTTP_HOST"])
    ok(login(elsewhere, user, PASSWORD))
    # a weak new password is refused, naming the field, and changes nothing
    r = _desk_settings_post(client, token, old_password=PASSWORD, new_password="12345678")
    assert r.status_code == 417 and b"new_password" in r.content, (r.status_code, r.content[:300])
    assert ok(whoami(elsewhere))["message"] == user
    # a strong one: stored, the other session ends, this one stays
    r = _desk_settings_post(client, token, old_password=PASSWORD, new_password="Another-Sturdy-9")
    assert r.status_code == 302, r.content[:300]
    error(whoami(elsewhere), 403, "PermissionError")
    assert ok(whoami(client))["message"] == user
    ok(login(Client(HTTP_HOST=client.defaults["HTTP_HOST"]), user, "Another-Sturdy-9"))


def test_an_admin_password_change_ends_every_session(ctx, client, unique):
    user = make_user(unique, "reset")
    refresh(ctx)
    ok(login(client, user, PASSWORD))
    write(ctx)
    auth.set_password(user, "Fresh-Sturdy-Pass7")  # what `lowcode add-user` and admin tools call
    refresh(ctx)
    error(whoami(client), 403, "PermissionError")


@pytest.mark.parametrize("weak", ["12345678", "password", "abc", "pw-pwner"])
def test_weak_passwords_are_refused(ctx, unique, weak):
    user = make_user(unique, "weak" + weak.replace("-", "")[:4], password=None)
    with pytest.raises(lowcode.ValidationError) as caught:
        auth.set_password(user, weak if weak != "pw-pwner" else user.split("@")[0])
    assert caught.value.http_status == 417 and caught.value.field == "password"
    assert not ctx.db.sql("SELECT 1 FROM `tabAuth` WHERE `name`=%s", (user,))


def test_the_administrator_password_of_a_new_site_skips_the_policy(ctx):
    from lowcode.installer import set_admin_password
    set_admin_password("admin")  # `make run` and the tests' sites log in with it
    ctx.db.rollback()


def test_a_deleted_users_session_ends(ctx, client, unique):
    admin = make_user(unique, "deleter")
    user = make_user(unique, "deleted", roles=())
    key, secret = auth.generate_keys(admin)
    refresh(ctx)
    victim = Client(HTTP_HOST=client.defaults["HTTP_HOST"])
    ok(login(victim, user, PASSWORD))
    sid = victim.cookies["sid"].value
    ok(client.delete(f"/api/resource/User/{user}", HTTP_AUTHORIZATION=f"token {key}:{secret}"))
    error(whoami(victim), 403, "PermissionError")
    assert session_row(ctx, sid) is None
    # a session row left behind for a user that no longer exists (say, deleted by SQL) is
    # no session: the caller is a Guest, without the "All" role
    write(ctx)
    ctx.db.sql("INSERT INTO `tabSessions` (`sid`, `user`, `data`, `expires`, `ip`) VALUES (%s, %s, '{}', %s, NULL)",
               (f"orphan{unique}", f"gone-{unique}@example.com", "2999-01-01 00:00:00"))
    refresh(ctx)
    orphan = Client(HTTP_HOST=client.defaults["HTTP_HOST"])
    orphan.cookies["sid"] = f"orphan{unique}"
    error(whoami(orphan), 403, "PermissionError")
    error(orphan.get("/api/resource/User"), 403, "PermissionError")


def test_other_users_keys_and_login_traces_are_hidden(ctx, client, unique):
    """api_key, last_login and last_ip are at permlevel 1, which only System Managers
    read: no read path shows them to other users."""
    admin = make_user(unique, "keyholder")
    reader = make_user(unique, "reader", roles=("Blogger",))
    key, _ = auth.generate_keys(admin)
    refresh(ctx)
    ok(login(Client(HTTP_HOST=client.defaults["HTTP_HOST"]), admin, PASSWORD, ip="10.9.8.7"))
    ok(login(client, reader, PASSWORD))
    hidden = ("api_key", "last_login", "last_ip")

    def clean(response, where):
        text = response.content.decode("utf-8")
        assert key not in text and "10.9.8.7" not in text, where
        if response.status_code == 200:
            for name in hidden:
                assert f'"{name}"' not in text, (where, name)

    r = client.get(f"/api/resource/User/{admin}")
    assert ok(r)["data"]["name"] == admin
    clean(r, "REST get")
    clean(client.get("/api/resource/User", {"fields": json.dumps(["*"]), "limit_page_length": 0}), "list *")
    clean(client.get("/api/method/frappe.client.get", {"doctype": "User", "name": admin}), "client.get")
    clean(client.get("/api/method/frappe.desk.reportview.get", {"doctype": "User", "fields": json.dumps(["name"])}),
          "reportview")
    clean(client.get("/api/method/frappe.desk.search.search_link", {"doctype": "User", "txt": "keyholder"}),
          "search_link")
    for field in hidden:
        for args in ({"fields": json.dumps(["name", field])}, {"filters": json.dumps([[field, "is", "set"]])},
                     {"order_by": f"{field} desc"}):
            r = client.get("/api/resource/User", args)
            assert r.status_code in (403, 417), (args, r.status_code)  # refused, naming the field
            assert body(r).get("field") == field, (args, body(r))
            clean(r, args)
        r = client.get("/api/method/frappe.client.get_value", {"doctype": "User", "fieldname": field,
                                                               "filters": json.dumps({"name": admin})})
        clean(r, f"get_value {field}")
    # a System Manager still reads them
    write(ctx)
    key2, secret2 = auth.generate_keys(admin)
    refresh(ctx)
    data = ok(client.get(f"/api/resource/User/{admin}", HTTP_AUTHORIZATION=f"token {key2}:{secret2}"))["data"]
    assert data["api_key"] == key2 and data["last_ip"] == "10.9.8.7" and data["last_login"]


# -- security headers ----------------------------------------------------------------------------------

def _check_headers(response, where):
    assert response["X-Content-Type-Options"] == "nosniff", where
    assert response["Referrer-Policy"] == "same-origin", where
    assert response["X-Frame-Options"] == "DENY", where
    csp = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    assert csp["script-src"] == "'self'", (where, csp)
    assert csp["frame-ancestors"] == "'none'", (where, csp)
    assert "'unsafe-inline'" not in csp["default-src"] and "'unsafe-eval'" not in response["Content-Security-Policy"]


DESK_PAGES = ("/app", "/app/user", "/app/user/{user}", "/app/lead", "/app/lead/new", "/app/lead/view/kanban",
              "/app/event/view/calendar", "/app/lead/view/report", "/app/my-settings", "/app/__notifications",
              "/app/customize-form?doctype=Lead", "/app/doctype-builder", "/app/permission-manager",
              "/app/user-permissions", "/app/workflow-builder", "/app/email-template-editor", "/app/sales-dashboard",
              "/app/follow-ups", "/app/todo/view/list/saved-views", "/app/no-such-page")


def test_security_headers_on_desk_pages_and_api_answers(ctx, client, unique):
    """Every page a desk user opens by GET carries the headers, and none of them writes
    (the read-only GET would answer 405)."""
    user = make_user(unique, "headers")
    refresh(ctx)
    _check_headers(client.get("/login"), "login page")
    _check_headers(client.get("/api/method/frappe.auth.get_logged_user"), "API error")
    ok(login(client, user, PASSWORD, HTTP_X_LOWCODE_DESK="1"))
    for path in DESK_PAGES + ("/api/resource/User", "/api/method/frappe.auth.get_logged_user", "/api/openapi.json"):
        r = client.get(path.format(user=user))
        assert r.status_code not in (405, 500), (path, r.status_code, r.content[:300])
        _check_headers(r, path)


def test_desk_pages_have_no_inline_script():
    """What the CSP's script-src 'self' relies on: no <script> without src, no on*
    attribute and no javascript: URL in any template."""
    import glob
    import os
    import re
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    paths = glob.glob(os.path.join(root, "desk", "templates", "*.html")) + \
        glob.glob(os.path.join(root, "..", "*", "templates", "**", "*.html"), recursive=True)
    assert len(paths) > 20
    for path in paths:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), path
        assert not re.search(r"\son[a-z]+\s*=", text, re.I), path
        assert "javascript:" not in text.lower(), path
        assert "hx-on" not in text, path


def test_basic_authorization_with_the_api_key_and_secret_as_frappe_takes_it(ctx, client, unique):
    """Frappe clients send ``Authorization: Basic base64(key:secret)`` as well as
    ``token key:secret``; a malformed or wrong one is a 401 naming the two forms."""
    import base64
    user = make_user(unique, "basic")
    write(ctx)
    key, secret = auth.generate_keys(user)
    refresh(ctx)
    encoded = base64.b64encode(f"{key}:{secret}".encode()).decode()
    assert ok(whoami(client, HTTP_AUTHORIZATION=f"Basic {encoded}"))["message"] == user
    assert ok(whoami(client, HTTP_AUTHORIZATION=f"basic {encoded}"))["message"] == user
    wrong = base64.b64encode(f"{key}:not-the-secret".encode()).decode()
    error(whoami(client, HTTP_AUTHORIZATION=f"Basic {wrong}"), 401, "AuthenticationError")
    for bad in ("Basic not base64!", "Basic " + base64.b64encode(b"no-colon").decode(), f"Bearer {key}:{secret}"):
        message = error(whoami(client, HTTP_AUTHORIZATION=bad), 401, "AuthenticationError")["message"]
        assert "token <api_key>:<api_secret>" in message and "Basic" in message, message


def test_ping_answers_pong_to_anyone(ctx, client):
    for path in ("/api/method/ping", "/api/method/frappe.ping"):
        assert ok(client.get(path)) == {"message": "pong"}
