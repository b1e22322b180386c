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

PASSWORD = "Sturdy-Passw0rd!"


def refresh(ctx):
    """Commit ctx's work and hold only a read transaction (a write one would block
    every request on SQLite)."""
    ctx.db.commit()
    ctx.db.begin(write=False)


def write(ctx):
    ctx.db.commit()
    ctx.db.begin()


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


def body(response):
    text = response.content.decode("utf-8")
    assert "Traceback" not in text, text
    try:
        return json.loads(text)
    except ValueError:
        raise AssertionError(f"not JSON ({response.status_code}): {text[:500]}")


def ok(response):
    data = body(response)
    assert response.status_code == 200, (response.status_code, data)
    return data


def error(response, status, exc_type=None):
    data = body(response)
    assert response.status_code == status, (response.status_code, data)
    assert data.get("message"), data
    if exc_type:
        assert data.get("exc_type") == exc_type, data
    return data


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
    user = make_user(unique, "victim")
    refresh(ctx)
    ip = new_ip()
    for i in range(20):
        error(login(client, f"nobody{i}-{unique}@example.com", "guess", ip=ip), 401)
    error(login(client, user, PASSWORD, ip=ip), 429, "TooManyRequestsError")
    ok(login(client, user, PASSWORD, ip=new_ip()))


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

    error(whoami(client), 401)
    assert session_row(ctx, sid) is None
    error(login(Client(HTTP_HOST=client.defaults["HTTP_HOST"]), user, PASSWORD), 401, "AuthenticationError")
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
    error(whoami(victim), 401)


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
        error(r, 401)  # reached the site: Guest is not logged in



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
