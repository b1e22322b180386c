"""Production security over HTTP on both engines: two-factor login (TOTP through
pyotp, as an authenticator app computes it), a user's sessions listed and ended by the
user or a System Manager, and the audit trail (Activity Log, Access Log).

Each test that fails logins sends its own REMOTE_ADDR, so the per-address counters of
one test never throttle another."""
import json
import time
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from django.test import Client

import lowcode
from lowcode import auth
from lowcode.testing.http import csrf_header, error, ok, refresh, token, write
from lowcode.tests.test_auth import PASSWORD, ensure_role, login, make_user, new_ip, whoami


def _set_two_factor(ctx, on):
    write(ctx)
    settings = lowcode.get_doc("System Settings")
    settings.enable_two_factor_auth = 1 if on else 0
    settings.save(ignore_permissions=True)
    refresh(ctx)


@pytest.fixture
def two_factor(ctx):
    """2FA enabled on the site for the test, and disabled again whatever happens."""
    _set_two_factor(ctx, True)
    try:
        yield
    finally:
        _set_two_factor(ctx, False)


def otp_role(unique):
    role = f"OTP Role {unique}"
    ensure_role(role)
    doc = lowcode.get_doc("Role", role)
    doc.two_factor_auth = 1
    doc.save()
    return role


def secret_of(verification):
    uri = verification["otpauth_uri"]
    assert uri.startswith("otpauth://totp/")
    return parse_qs(urlparse(uri).query)["secret"][0]


def fresh_code(secret):
    """A code of the current step, waiting out the step's last second so the server
    sees the same step."""
    if time.time() % 30 > 28.5:
        time.sleep(30 - time.time() % 30 + 0.2)
    return pyotp.TOTP(secret).now()


def second_step(client, tmp_id, otp, ip, **headers):
    return client.post("/api/method/login", {"tmp_id": tmp_id, "otp": otp}, REMOTE_ADDR=ip, **headers)


def rows(ctx, doctype, where, values):
    """Rows of a table (a DocType's in creation order), read in a fresh transaction."""
    refresh(ctx)
    order = "" if doctype in ("Sessions", "Auth") else " ORDER BY `creation`, `communication_date`" \
        if doctype == "Activity Log" else " ORDER BY `creation`"
    return ctx.db.sql(f"SELECT * FROM `tab{doctype}` WHERE {where}{order}", values, as_dict=True)


# -- two-factor authentication ---------------------------------------------------------------------

def test_two_factor_enrolment_login_wrong_and_replayed_codes(ctx, client, unique, two_factor):
    write(ctx)
    user = make_user(unique, "otp", roles=(otp_role(unique),))
    refresh(ctx)
    ip = new_ip()
    first = ok(login(client, user, PASSWORD, ip=ip))
    # the password opens no session: a tmp_id and, at enrolment, the secret once (URI + QR)
    assert "sid" not in client.cookies or not client.cookies["sid"].value
    verification = first["verification"]
    assert verification["setup"] is True and verification["method"] == "OTP App"
    assert verification["qr_code"].startswith("data:image/svg+xml;base64,")
    secret = secret_of(verification)
    assert not rows(ctx, "Sessions", "`user`=%s", (user,))
    # kept encrypted, never as is
    stored = rows(ctx, "Auth", "`name`=%s AND `fieldname` LIKE 'otp%%'", (user,))
    assert stored and all(secret not in (r["password"] or "") for r in stored)

    # a wrong code: 401, no session
    error(second_step(client, first["tmp_id"], "000000" if pyotp.TOTP(secret).now() != "000000" else "111111", ip),
          401, "AuthenticationError")
    error(whoami(client), 403)
    # the right code completes the login
    code = fresh_code(secret)
    assert ok(second_step(client, first["tmp_id"], code, ip))["message"] == "Logged In"
    assert ok(whoami(client))["message"] == user

    # next login: no secret shown again; the same code in the same window is refused
    other = Client(HTTP_HOST=client.defaults["HTTP_HOST"])
    again = ok(login(other, user, PASSWORD, ip=ip))
    assert again["verification"]["setup"] is False and "otpauth_uri" not in again["verification"]
    error(second_step(other, again["tmp_id"], code, ip), 401, "AuthenticationError")
    error(whoami(other), 403)
    # an unknown tmp_id never logs in
    error(second_step(other, "not-a-tmp-id", code, ip), 401)
    # the audit trail has the login and the failures, never the code nor the secret
    logs = rows(ctx, "Activity Log", "`user`=%s AND `operation`='Login'", (user,))
    assert [r["status"] for r in logs].count("Success") == 1 and [r["status"] for r in logs].count("Failed") >= 2
    assert all(code not in json.dumps(r, default=str) and secret not in json.dumps(r, default=str) for r in logs)


def test_wrong_codes_are_throttled(ctx, client, unique, two_factor):
    write(ctx)
    user = make_user(unique, "otpthrottle", roles=(otp_role(unique),))
    refresh(ctx)
    ip = new_ip()
    first = ok(login(client, user, PASSWORD, ip=ip))
    secret = secret_of(first["verification"])
    wrong = str((int(pyotp.TOTP(secret).now()) + 500000) % 1000000).zfill(6)
    for _ in range(auth.MAX_FAILED_LOGINS):
        error(second_step(client, first["tmp_id"], wrong, ip), 401)
    # now even the right code is refused for a while
    error(second_step(client, first["tmp_id"], fresh_code(secret), ip), 429, "TooManyRequestsError")
    error(whoami(client), 403)
    # and the right password again (from elsewhere) gives no new guesses at the code
    again = ok(login(client, user, PASSWORD, ip=new_ip()))
    error(second_step(client, again["tmp_id"], fresh_code(secret), new_ip()), 429)
    error(whoami(client), 403)


def test_role_without_two_factor_logs_in_directly_and_system_manager_is_forced(ctx, client, unique, two_factor):
    write(ctx)
    plain = make_user(unique, "plain", roles=("Sales User",))
    manager = make_user(unique, "sysman", roles=("System Manager",))
    refresh(ctx)
    assert ok(login(client, plain, PASSWORD))["message"] == "Logged In"
    assert ok(whoami(client))["message"] == plain
    forced = ok(login(Client(HTTP_HOST=client.defaults["HTTP_HOST"]), manager, PASSWORD))
    assert "tmp_id" in forced and forced["verification"]["setup"] is True
    # an API token is not asked for a code (Frappe's behaviour)
    write(ctx)
    headers = token(manager)
    refresh(ctx)
    assert ok(whoami(client, **headers))["message"] == manager


def test_without_the_setting_a_system_manager_logs_in_directly(ctx, client, unique):
    write(ctx)
    manager = make_user(unique, "nosetting", roles=("System Manager",))
    refresh(ctx)
    assert ok(login(client, manager, PASSWORD))["message"] == "Logged In"


def test_admin_resets_a_users_two_factor(ctx, client, unique, two_factor):
    write(ctx)
    user = make_user(unique, "otpreset", roles=(otp_role(unique),))
    low = make_user(unique, "otplow", roles=("Sales User",))
    admin_headers, low_headers = token("Administrator"), token(low)
    refresh(ctx)
    ip = new_ip()
    first = ok(login(client, user, PASSWORD, ip=ip))
    ok(second_step(client, first["tmp_id"], fresh_code(secret_of(first["verification"])), ip))
    assert ok(login(Client(HTTP_HOST=client.defaults["HTTP_HOST"]), user, PASSWORD, ip=ip))["verification"][
        "setup"] is False
    # a low role may not; GET may not
    error(client.post("/api/method/frappe.twofactor.reset_otp_secret", {"user": user}, **low_headers), 403)
    error(client.get("/api/method/frappe.twofactor.reset_otp_secret", {"user": user}, **admin_headers), 403,
          mentions="GET")
    ok(client.post("/api/method/frappe.twofactor.reset_otp_secret", {"user": user}, **admin_headers))
    again = ok(login(Client(HTTP_HOST=client.defaults["HTTP_HOST"]), user, PASSWORD, ip=ip))
    assert again["verification"]["setup"] is True  # enrols again with a new secret
    assert secret_of(again["verification"]) != secret_of(first["verification"])


def test_desk_login_page_asks_for_the_code(ctx, client, unique, two_factor):
    write(ctx)
    user = make_user(unique, "otpdesk", roles=(otp_role(unique),))
    refresh(ctx)
    ip = new_ip()
    page = client.get("/login")
    tok = client.cookies["login_token"].value
    r = client.post("/login", {"usr": user, "pwd": PASSWORD, "login_token": tok}, REMOTE_ADDR=ip)
    html = r.content.decode()
    assert r.status_code == 200 and 'name="otp"' in html and 'name="tmp_id"' in html and "data:image/svg+xml" in html
    assert page.status_code == 200
    assert "sid" not in client.cookies or not client.cookies["sid"].value  # no session before the code
    uri = html.split("otpauth://", 1)[1].split("<", 1)[0].replace("&amp;", "&")
    secret = parse_qs(urlparse("otpauth://" + uri).query)["secret"][0]
    tmp_id = html.split('name="tmp_id" value="', 1)[1].split('"', 1)[0]
    tok = client.cookies["login_token"].value
    bad = client.post("/login", {"tmp_id": tmp_id, "otp": "12", "login_token": tok}, REMOTE_ADDR=ip)
    assert bad.status_code == 401 and 'name="otp"' in bad.content.decode()
    tok = client.cookies["login_token"].value
    good = client.post("/login", {"tmp_id": tmp_id, "otp": fresh_code(secret), "login_token": tok}, REMOTE_ADDR=ip)
    assert good.status_code == 302 and client.cookies["sid"].value
    assert ok(whoami(client))["message"] == user


@pytest.mark.parametrize("lang", ["fa", "he"])
def test_desk_login_code_step_speaks_the_users_language(ctx, client, unique, two_factor, lang):
    write(ctx)
    user = make_user(unique, "otp" + lang, roles=(otp_role(unique),))
    lowcode.db.set_value("User", user, "language", lang)
    refresh(ctx)
    client.get("/login")
    ip = new_ip()
    r = client.post("/login", {"usr": user, "pwd": PASSWORD, "login_token": client.cookies["login_token"].value},
                    REMOTE_ADDR=ip)
    html = r.content.decode()
    assert r.status_code == 200 and 'dir="rtl"' in html and 'name="otp"' in html
    assert "Verification code" not in html and "authenticator app" not in html, html[-3000:]
    tmp_id = html.split('name="tmp_id" value="', 1)[1].split('"', 1)[0]
    bad = client.post("/login", {"tmp_id": tmp_id, "otp": "1", "login_token": client.cookies["login_token"].value},
                      REMOTE_ADDR=ip)
    assert bad.status_code == 401 and 'dir="rtl"' in bad.content.decode()
    assert "Invalid verification code" not in bad.content.decode()


# -- sessions ------------------------------------------------------------------------------------------

def _sessions(client, **kwargs):
    return ok(client.get("/api/method/lowcode.sessions.get_sessions", kwargs))["message"]


def test_a_user_lists_and_ends_their_sessions(ctx, client, unique):
    write(ctx)
    user = make_user(unique, "sess", roles=("Sales User",))
    refresh(ctx)
    ok(login(client, user, PASSWORD, HTTP_USER_AGENT="Desk Browser/1"))
    phone = Client(HTTP_HOST=client.defaults["HTTP_HOST"])
    ok(login(phone, user, PASSWORD, ip="10.9.8.7", HTTP_USER_AGENT="Phone App/2"))
    third = Client(HTTP_HOST=client.defaults["HTTP_HOST"])
    ok(login(third, user, PASSWORD, HTTP_USER_AGENT="Tablet/3"))
    listed = _sessions(client)
    assert len(listed) == 3
    assert {s["user_agent"] for s in listed} == {"Desk Browser/1", "Phone App/2", "Tablet/3"}
    assert [s["current"] for s in listed].count(True) == 1
    mine = next(s for s in listed if s["current"])
    assert mine["user_agent"] == "Desk Browser/1" and mine["created"] and mine["last_active"]
    phone_row = next(s for s in listed if s["user_agent"] == "Phone App/2")
    assert phone_row["ip"] == "10.9.8.7"
    # the list never shows a session's cookie
    text = json.dumps(listed)
    assert all(sid not in text for sid in (client.cookies["sid"].value, phone.cookies["sid"].value))

    # "Log out this session": the phone's cookie stops working at once (its cached session too)
    error(client.get("/api/method/lowcode.sessions.revoke_session", {"session_id": phone_row["id"]}), 403,
          mentions="GET")
    ok(client.post("/api/method/lowcode.sessions.revoke_session", {"session_id": phone_row["id"]}))
    error(whoami(phone), 403)
    refresh(ctx)
    assert lowcode.cache().get(f"session:{phone.cookies['sid'].value}") is None
    error(client.post("/api/method/lowcode.sessions.revoke_session", {"session_id": phone_row["id"]}), 404)
    error(client.post("/api/method/lowcode.sessions.revoke_session", {}), 417, field="session_id")
    # "Log out all other sessions": this one stays
    ok(client.post("/api/method/lowcode.sessions.revoke_other_sessions"))
    error(whoami(third), 403)
    assert ok(whoami(client))["message"] == user
    assert [s["current"] for s in _sessions(client)] == [True]


def test_desk_sessions_need_the_csrf_token_to_revoke(ctx, client, unique):
    write(ctx)
    user = make_user(unique, "sesscsrf", roles=("Sales User",))
    refresh(ctx)
    ok(login(client, user, PASSWORD, HTTP_X_LOWCODE_DESK="1"))
    other = Client(HTTP_HOST=client.defaults["HTTP_HOST"])
    ok(login(other, user, PASSWORD))
    error(client.post("/api/method/lowcode.sessions.revoke_other_sessions"), 400)
    assert ok(whoami(other))["message"] == user
    refresh(ctx)
    csrf = json.loads(rows(ctx, "Sessions", "`sid`=%s", (client.cookies["sid"].value,))[0]["data"])["csrf_token"]
    ok(client.post("/api/method/lowcode.sessions.revoke_other_sessions", **csrf_header(csrf)))
    error(whoami(other), 403)


def test_a_system_manager_lists_and_ends_anyones_sessions_a_low_role_cannot(ctx, client, unique):
    write(ctx)
    user = make_user(unique, "sessvictim", roles=("Sales User",))
    low = make_user(unique, "sesslow", roles=("Sales User",))
    admin = make_user(unique, "sessadmin", roles=("System Manager",))
    low_h, admin_h = token(low), token(admin)
    refresh(ctx)
    victim = Client(HTTP_HOST=client.defaults["HTTP_HOST"])
    ok(login(victim, user, PASSWORD, HTTP_USER_AGENT="Victim/1"))
    # a low role: 403 on another user's list and revoke, nothing ended
    error(client.get("/api/method/lowcode.sessions.get_sessions", {"user": user}, **low_h), 403)
    error(client.post("/api/method/lowcode.sessions.revoke_other_sessions", {"user": user}, **low_h), 403)
    listed = ok(client.get("/api/method/lowcode.sessions.get_sessions", {"user": user}, **admin_h))["message"]
    assert [s["user_agent"] for s in listed] == ["Victim/1"] and listed[0]["current"] is False
    error(client.post("/api/method/lowcode.sessions.revoke_session", {"user": user, "session_id": listed[0]["id"]},
                      **low_h), 403)
    assert ok(whoami(victim))["message"] == user
    error(client.get("/api/method/lowcode.sessions.get_sessions", {"user": "nobody@example.com"}, **admin_h), 404)
    # a System Manager ends it
    ok(client.post("/api/method/lowcode.sessions.revoke_session", {"user": user, "session_id": listed[0]["id"]},
                   **admin_h))
    error(whoami(victim), 403)


def test_an_admin_password_reset_through_the_api_ends_every_session(ctx, client, unique):
    write(ctx)
    user = make_user(unique, "sessreset", roles=("Sales User",))
    admin_h = token("Administrator")
    refresh(ctx)
    ok(login(client, user, PASSWORD))
    r = client.put(f"/api/resource/User/{user}", json.dumps({"new_password": "Brand-New-Sturdy-4"}),
                   content_type="application/json", **admin_h)
    ok(r)
    error(whoami(client), 403)
    assert not rows(ctx, "Sessions", "`user`=%s", (user,))


# -- the audit trail ---------------------------------------------------------------------------------

def test_logins_failed_logins_and_logouts_are_logged(ctx, client, unique):
    write(ctx)
    user = make_user(unique, "audit", roles=("Sales User",))
    refresh(ctx)
    ip = new_ip()
    error(login(client, user, "Wrong-Password-1", ip=ip), 401)
    error(login(client, f"ghost-{unique}@example.com", "Whatever-1", ip=ip), 401)
    ok(login(client, user, PASSWORD, ip=ip))
    ok(client.post("/api/method/logout", REMOTE_ADDR=ip))
    logs = rows(ctx, "Activity Log", "`ip_address`=%s", (ip,))
    kinds = [(r["operation"], r["status"], r["user"]) for r in logs]
    assert kinds == [("Login", "Failed", user), ("Login", "Failed", f"ghost-{unique}@example.com"),
                     ("Login", "Success", user), ("Logout", "Success", user)], kinds
    # the failed rows survived their requests' rollback; no password anywhere
    assert all("Wrong-Password-1" not in json.dumps(r, default=str) for r in logs)
    assert logs[0]["full_name"] == "Audit"


def test_permission_role_and_customisation_changes_are_logged(ctx, client, unique, make_doctype):
    write(ctx)
    user = make_user(unique, "auditroles", roles=("Sales User",))
    doc = lowcode.get_doc("User", user)
    doc.append("roles", {"role": "System Manager"})
    doc.roles = [r for r in doc.roles if r.role != "Sales User"]
    doc.save()
    doc = lowcode.get_doc("User", user)
    doc.enabled = 0
    doc.save()
    dt = make_doctype([{"fieldname": "title", "fieldtype": "Data", "label": "Title"}])
    write(ctx)
    cf = lowcode.get_doc({"doctype": "Custom Field", "dt": dt, "fieldname": "extra", "fieldtype": "Data",
                          "label": "Extra"}).insert()
    up = lowcode.get_doc({"doctype": "User Permission", "user": user, "allow": "User", "for_value": user}).insert()
    up.delete()
    perm = lowcode.get_doc({"doctype": "Custom DocPerm", "parent": dt, "role": "Sales User", "read": 1}).insert()
    ps = lowcode.get_doc({"doctype": "Property Setter", "doctype_or_field": "DocField", "doc_type": dt,
                          "field_name": "title", "property": "label", "value": "Heading",
                          "property_type": "Data"}).insert()
    ctx.db.commit()
    subjects = [r["subject"] for r in rows(ctx, "Activity Log", "`reference_name`=%s OR `subject` LIKE %s",
                                           (user, f"%{dt}%"))]
    for expected in (f"Role System Manager added to {user}", f"Role Sales User removed from {user}",
                     f"User {user} disabled", f"DocType {dt} created", f"Custom Field {cf.name} created",
                     f"Property Setter {ps.name} created"):
        assert expected in subjects, (expected, subjects)
    log = rows(ctx, "Activity Log", "`reference_doctype`='Custom DocPerm' AND `reference_name`=%s", (perm.name,))
    assert log and log[0]["operation"] == "Permission" and log[0]["user"] == "Administrator"
    ups = rows(ctx, "Activity Log", "`reference_doctype`='User Permission' AND `subject` LIKE %s", (f"%{up.name}%",))
    assert sorted(r["subject"].rsplit(" ", 1)[1] for r in ups) == ["created", "deleted"]


def test_a_rolled_back_change_leaves_no_audit_row(ctx, unique):
    write(ctx)
    role = f"Rolled {unique}"
    lowcode.get_doc({"doctype": "Role", "role_name": role}).insert()
    ctx.db.rollback()
    assert not rows(ctx, "Activity Log", "`reference_name`=%s", (role,))


def test_exports_are_logged(ctx, client, unique):
    write(ctx)
    admin_h = token("Administrator")
    refresh(ctx)
    r = client.get("/api/method/frappe.desk.reportview.export_query",
                   {"doctype": "Role", "file_format_type": "CSV", "fields": json.dumps(["name"])}, **admin_h)
    assert r.status_code == 200, r.content[:300]
    logs = rows(ctx, "Access Log", "`export_from`='Role' AND `method`=%s", ("frappe.desk.reportview.export_query",))
    assert logs and logs[-1]["file_type"] == "CSV" and logs[-1]["user"] == "Administrator"
    # the desk's list and report exports (GET: the row is the request's one write)
    from lowcode.testing.http import login as desk_login
    write(ctx)
    user = make_user(unique, "exporter", roles=("System Manager",))
    desk_login(ctx, client, user)
    r = client.get("/app/role/view/list/export", {"format": "csv"}, REMOTE_ADDR="10.77.0.1")
    assert r.status_code == 200, r.content[:300]
    r = client.get("/app/role/view/report", {"export": "xlsx"}, REMOTE_ADDR="10.77.0.1")
    assert r.status_code == 200, r.content[:300]
    logs = rows(ctx, "Access Log", "`user`=%s", (user,))
    assert [(r["export_from"], r["method"], r["file_type"].upper(), r["ip_address"]) for r in logs] == [
        ("Role", "list view", "CSV", "10.77.0.1"), ("Role", "report view", "XLSX", "10.77.0.1")]


def test_audit_logs_are_for_system_managers_only_and_never_deleted(ctx, client, unique):
    write(ctx)
    low = make_user(unique, "auditlow", roles=("Sales User",))
    low_h, admin_h = token(low), token("Administrator")
    refresh(ctx)
    error(login(client, f"nobody-{unique}", "x", ip=new_ip()), 401)
    name = rows(ctx, "Activity Log", "`user`=%s", (f"nobody-{unique}",))[0]["name"]
    for doctype in ("Activity Log", "Access Log"):
        error(client.get(f"/api/resource/{doctype}", **low_h), 403)
        error(client.get("/api/method/frappe.desk.reportview.export_query",
                         {"doctype": doctype, "file_format_type": "CSV"}, **low_h), 403)
    error(client.get(f"/api/resource/Activity Log/{name}", **low_h), 403)
    assert name in [d["name"] for d in ok(client.get("/api/resource/Activity Log",
                                                     {"limit_page_length": 500}, **admin_h))["data"]]
    # nobody writes, deletes or changes a row, not even the Administrator
    for doctype, forged in (("Activity Log", {"subject": "forged", "user": low}),
                            ("Access Log", {"export_from": "Role", "user": low})):
        error(client.post(f"/api/resource/{doctype}", json.dumps(forged), content_type="application/json",
                          **admin_h), 403)
        assert not rows(ctx, doctype, "`user`=%s", (low,))
    error(client.delete(f"/api/resource/Activity Log/{name}", **admin_h), 403)
    error(client.put(f"/api/resource/Activity Log/{name}", json.dumps({"subject": "edited"}),
                     content_type="application/json", **admin_h), 403)
    assert rows(ctx, "Activity Log", "`name`=%s", (name,))[0]["subject"].startswith("Failed login")


def test_desk_sessions_page_lists_and_logs_out(ctx, client, unique):
    from lowcode.testing.http import login as desk_login
    write(ctx)
    user = make_user(unique, "sesspage", roles=("Sales User",))
    other_user = make_user(unique, "sesspageother", roles=("Sales User",))
    refresh(ctx)
    phone = Client(HTTP_HOST=client.defaults["HTTP_HOST"])
    ok(login(phone, user, PASSWORD, HTTP_USER_AGENT="Phone <b>App</b>"))
    csrf = desk_login(ctx, client, user)
    page = client.get(f"/app/user-sessions/{user}")
    html = page.content.decode()
    assert page.status_code == 200 and "Phone &lt;b&gt;App&lt;/b&gt;" in html and "<b>App" not in html
    assert html.count('data-session="') == 2 and "Log out this session" in html
    assert "reset-otp" not in html  # not a System Manager
    assert 'id="my-sessions"' in client.get("/app/my-settings").content.decode()
    # without the CSRF token nothing ends
    phone_id = next(s["id"] for s in _sessions(client) if not s["current"])
    assert client.post(f"/app/user-sessions/{user}", {"action": "revoke", "session_id": phone_id}).status_code == 400
    assert ok(whoami(phone))["message"] == user
    r = client.post(f"/app/user-sessions/{user}", {"action": "revoke", "session_id": phone_id, "csrf_token": csrf})
    assert r.status_code == 302
    error(whoami(phone), 403)
    # another user's page: 403
    assert client.get(f"/app/user-sessions/{other_user}", HTTP_ACCEPT="text/html").status_code == 403


def test_data_import_mapping_exports_are_logged(ctx, client, bench, site, unique, tmp_path):
    from click.testing import CliRunner
    from lowcode.cli import main
    write(ctx)
    mapping = lowcode.get_doc({"doctype": "Data Import Mapping", "mapping_name": f"Roles {unique}",
                               "reference_doctype": "Role", "key_field": "role_name",
                               "columns": [{"external_column": "Title", "field": "role_name"}]}).insert()
    admin_h = token("Administrator")
    refresh(ctx)
    r = client.get("/api/method/lowcode.core.doctype.data_import_mapping.data_import_mapping.export_data",
                   {"mapping": mapping.name, "file_type": "CSV"}, REMOTE_ADDR="10.78.0.1", **admin_h)
    assert r.status_code == 200, r.content[:300]
    out = tmp_path / "roles.csv"
    result = CliRunner().invoke(main, ["--sites-path", bench, "--site", site, "data-export", "--mapping",
                                       mapping.name, "--file", str(out)])
    assert result.exit_code == 0, result.output
    logs = rows(ctx, "Access Log", "`reference_document`=%s", (mapping.name,))
    assert [(r["export_from"], r["method"], r["file_type"], r["user"], r["ip_address"]) for r in logs] == [
        ("Role", "Data Import Mapping", "CSV", "Administrator", "10.78.0.1"),
        ("Role", "lowcode data-export", "CSV", "Administrator", None)]


def test_a_system_managers_desk_page_for_another_user(ctx, client, unique):
    from lowcode import twofactor
    from lowcode.channels.stored_secrets import get_secret, store_secret
    from lowcode.testing.http import login as desk_login
    write(ctx)
    user = make_user(unique, "sesspagevictim", roles=("Sales User",))
    admin = make_user(unique, "sesspageadmin", roles=("System Manager",))
    store_secret("User", user, twofactor.SECRET, "JBSWY3DPEHPK3PXP")
    refresh(ctx)
    victim = Client(HTTP_HOST=client.defaults["HTTP_HOST"])
    ok(login(victim, user, PASSWORD, HTTP_USER_AGENT="Victim Browser"))
    csrf = desk_login(ctx, client, admin)
    html = client.get(f"/app/user-sessions/{user}").content.decode()
    assert "Victim Browser" in html and 'id="reset-otp"' in html and "This session" not in html
    assert client.post(f"/app/user-sessions/{user}", {"action": "reset_otp", "csrf_token": csrf}).status_code == 302
    refresh(ctx)
    assert get_secret("User", user, twofactor.SECRET) is None
    assert client.post(f"/app/user-sessions/{user}", {"action": "revoke_others", "csrf_token": csrf}).status_code \
        == 302
    error(whoami(victim), 403)
    assert ok(whoami(client))["message"] == admin  # the admin's own session is not the user's


def test_a_revoked_session_ends_at_once_in_another_process(mariadb_ctx, mariadb_site, bench, unique, tmp_path,
                                                           monkeypatch):
    """A web process (uvicorn) caches the session in Redis; ending it here (another
    process) must end it there at the next request."""
    import http.cookiejar
    import urllib.error
    import urllib.parse
    import urllib.request
    from tests.server import UvicornServer
    ctx = mariadb_ctx
    monkeypatch.setenv("LOWCODE_SITES", bench)  # for this process's test client, as the client fixture sets it
    write(ctx)
    user = make_user(unique, "crossproc", roles=("Sales User",))
    admin_h = token("Administrator")
    refresh(ctx)
    server = UvicornServer(bench, str(tmp_path / "server.log"))
    server.start()
    try:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

        def call(path, data=None):
            request = urllib.request.Request(server.url + path, data=data, headers={"Host": mariadb_site})
            try:
                with opener.open(request, timeout=10) as r:
                    return r.status, json.loads(r.read())
            except urllib.error.HTTPError as e:
                return e.code, json.loads(e.read())

        status, _ = call("/api/method/login", urllib.parse.urlencode({"usr": user, "pwd": PASSWORD}).encode())
        assert status == 200, server.log()
        for _ in range(2):  # the server has it cached now
            assert call("/api/method/frappe.auth.get_logged_user") == (200, {"message": user})
        client = Client(HTTP_HOST=mariadb_site)
        listed = ok(client.get("/api/method/lowcode.sessions.get_sessions", {"user": user}, **admin_h))["message"]
        ok(client.post("/api/method/lowcode.sessions.revoke_session", {"user": user, "session_id": listed[0]["id"]},
                       **admin_h))
        assert call("/api/method/frappe.auth.get_logged_user")[0] == 403
    finally:
        server.stop()
