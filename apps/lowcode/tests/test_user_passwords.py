"""Users' passwords in the browser and through the API (issue 10), on both engines:
Frappe's ``new_password`` on User (who may set it, the policy naming the field, never
stored or returned in the document), the desk's set-password page and e-mailed
invitations (one-time key, expiry), and the desk's error pages (403/404/500 as pages in
the user's language for browser navigation, JSON for the API)."""
import email
import json

from django.test import Client

import lowcode
from lowcode import auth

from .desk_helpers import commit, login as desk_login
from .test_auth import PASSWORD, body, error, login, make_user, ok, refresh, whoami, write
from .test_email_out import make_account, smtp  # noqa: F401 - the fixture: an SMTP server to send to

NEW = "Fresh-Passw0rd-42!"
HTML = {"HTTP_ACCEPT": "text/html,application/xhtml+xml"}


def token_headers(user):
    key, secret = auth.generate_keys(user)
    return {"HTTP_AUTHORIZATION": f"token {key}:{secret}"}


def put(client, user, data, **h):
    return client.put(f"/api/resource/User/{user}", json.dumps(data), content_type="application/json", **h)


def other_client(client):
    return Client(HTTP_HOST=client.defaults["HTTP_HOST"])


def can_log_in(client, user, password):
    return login(other_client(client), user, password).status_code == 200


def test_new_password_through_the_api(ctx, client, unique):
    admin = make_user(unique, "pwadmin")
    low = make_user(unique, "pwlow", roles=("Sales User",))
    victim = make_user(unique, "pwvictim", roles=("Sales User",))
    h_admin, h_low = token_headers(admin), token_headers(low)
    refresh(ctx)
    hashes = ctx.db.sql("SELECT `password` FROM `tabAuth` WHERE `fieldname`='password' AND `name`=%s", (victim,))

    # a System Manager creates a user with a password: hashed, never in the answer
    email_ = f"pwnew-{unique}@example.com"
    r = client.post("/api/resource/User", json.dumps({"email": email_, "first_name": "Nia", "new_password": NEW,
                                                      "roles": [{"role": "Sales User"}]}),
                    content_type="application/json", **h_admin)
    data = ok(r)["data"]
    assert data["name"] == email_ and "new_password" not in r.content.decode() and NEW not in r.content.decode()
    assert can_log_in(client, email_, NEW)
    refresh(ctx)
    stored = ctx.db.sql("SELECT `password` FROM `tabAuth` WHERE `fieldname`='password' AND `name`=%s", (email_,))
    assert stored and stored[0][0] != NEW and stored[0][0].startswith("argon2")

    # a weak password is refused naming the field, and nothing is created
    weak = f"pwweak-{unique}@example.com"
    e = error(client.post("/api/resource/User", json.dumps({"email": weak, "first_name": "W", "new_password": "123"}),
                          content_type="application/json", **h_admin), 417)
    assert e["field"] == "new_password"
    refresh(ctx)
    assert not ctx.db.exists("User", weak)

    # an admin resets another user's password with PUT
    ok(put(client, victim, {"new_password": NEW}, **h_admin))
    assert can_log_in(client, victim, NEW) and not can_log_in(client, victim, PASSWORD)

    # an empty new_password changes nothing (as in Frappe, a form saved with the box left empty)
    ok(put(client, victim, {"new_password": "", "last_name": "Kept"}, **h_admin))
    assert can_log_in(client, victim, NEW)

    # a low role may not set another user's password: 403, nothing changed
    error(put(client, admin, {"new_password": "Hijack-Passw0rd-9"}, **h_low), 403)
    error(put(client, admin, {"new_password": "Hijack-Passw0rd-9", "first_name": "X"}, **h_low), 403)
    assert can_log_in(client, admin, PASSWORD) and not can_log_in(client, admin, "Hijack-Passw0rd-9")
    # nor a System Manager the Administrator's
    error(put(client, "Administrator", {"new_password": "Hijack-Passw0rd-9"}, **h_admin), 403)

    # the user may set their own, and nothing else of their record
    r = put(client, low, {"new_password": NEW}, **h_low)
    assert ok(r)["data"]["name"] == low and "new_password" not in r.content.decode()
    assert can_log_in(client, low, NEW)
    error(put(client, low, {"new_password": PASSWORD, "roles": [{"role": "System Manager"}]}, **h_low), 403)
    assert can_log_in(client, low, NEW)
    refresh(ctx)
    assert not ctx.db.sql("SELECT 1 FROM `tabHas Role` WHERE `parent`=%s AND `role`='System Manager'", (low,))
    assert hashes  # the victim had a password before
    # the password is no field of the document
    assert "new_password" not in ok(client.get(f"/api/resource/User/{victim}", **h_admin))["data"]


def _queued_link(ctx, address):
    refresh(ctx)
    rows = ctx.db.sql("SELECT q.`message` FROM `tabEmail Queue` q JOIN `tabEmail Queue Recipient` r "
                      "ON r.`parent`=q.`name` WHERE r.`recipient`=%s ORDER BY q.`creation` DESC", (address,))
    assert rows, "no invitation queued"
    msg = email.message_from_string(rows[0][0])
    text = "".join(p.get_payload(decode=True).decode() for p in msg.walk() if not p.is_multipart())
    start = text.index("/update-password?key=")
    return text[start:].split('"')[0].split("<")[0].split()[0].replace("&amp;", "&")


def _form_token(response):
    return response.cookies["password_form_token"].value


def test_desk_password_page_and_invitation(ctx, client, unique, smtp):
    make_account(ctx, unique, smtp[1].port, default_outgoing=1)
    admin = make_user(unique, "inviter")
    low = make_user(unique, "invlow", roles=("Sales User",))
    invited = make_user(unique, "invited", roles=("Sales User",), password=None)
    write(ctx)
    token = desk_login(ctx, client, admin)
    page = f"/app/user-password/{invited}"
    r = client.get(page, **HTML)
    assert r.status_code == 200 and 'id="set-password"' in r.content.decode()

    # a weak password: the policy's message names the field, shown on the page
    r = client.post(page, {"csrf_token": token, "action": "password", "new_password": "abc"})
    assert r.status_code == 417 and 'data-field="new_password"' in r.content.decode()
    # without the CSRF token nothing happens
    assert client.post(page, {"action": "password", "new_password": NEW}).status_code == 400
    assert not can_log_in(client, invited, NEW)

    # the invitation: an e-mail with a one-time link
    r = client.post(page, {"csrf_token": token, "action": "invite"})
    assert r.status_code == 302 and "done=invite" in r["Location"], r.content.decode()[-3000:]
    link = _queued_link(ctx, invited)
    guest = other_client(client)
    r = guest.get(link)
    assert r.status_code == 200 and invited in r.content.decode()
    form = {"key": link.split("key=")[1], "form_token": _form_token(r)}
    # the double-submit token is needed (a form posted from another site lacks the cookie)
    assert other_client(client).post("/update-password", dict(form, new_password=NEW, confirm_password=NEW)
                                     ).status_code == 400
    assert guest.post("/update-password", dict(form, new_password=NEW, confirm_password="other")).status_code == 417
    r = guest.post("/update-password", dict(form, new_password="12345678", confirm_password="12345678"))
    assert r.status_code == 417
    r = guest.post("/update-password", dict(form, new_password=NEW, confirm_password=NEW))
    assert r.status_code == 302 and r["Location"] == "/login"
    assert can_log_in(client, invited, NEW)
    # single use
    assert guest.get(link).status_code == 410
    assert guest.post("/update-password", dict(form, new_password="Other-Passw0rd-7",
                                               confirm_password="Other-Passw0rd-7")).status_code == 410
    assert can_log_in(client, invited, NEW)

    # an expired key is refused
    write(ctx)
    key = auth.make_password_key(invited)
    commit(ctx)
    assert guest.get(f"/update-password?key={key}").status_code == 200
    # opened in a browser logged in to the desk, the form carries that session's CSRF token
    r = client.get(f"/update-password?key={key}")
    assert r.status_code == 200 and f'name="csrf_token" value="{token}"' in r.content.decode()
    write(ctx)
    digest = ctx.db.sql("SELECT `password` FROM `tabAuth` WHERE `name`=%s AND `fieldname`='reset_password_key'",
                        (invited,))[0][0].split(":")[0]
    ctx.db.sql("UPDATE `tabAuth` SET `password`=%s WHERE `name`=%s AND `fieldname`='reset_password_key'",
               (f"{digest}:1000", invited))
    commit(ctx)
    assert guest.get(f"/update-password?key={key}").status_code == 410

    # the admin sets a password on the page
    r = client.post(page, {"csrf_token": token, "action": "password", "new_password": NEW + "x"})
    assert r.status_code == 302
    assert can_log_in(client, invited, NEW + "x")

    # the policy speaks the admin's language
    write(ctx)
    ctx.db.sql("UPDATE `tabUser` SET `language`='fa' WHERE `name`=%s", (admin,))
    commit(ctx)
    r = client.post(page, {"csrf_token": token, "action": "password", "new_password": "abc"})
    assert r.status_code == 417 and "new_password" in r.content.decode()
    assert "This password is too common" not in r.content.decode() and 'dir="rtl"' in r.content.decode()

    # a low role gets the desk's 403 page and changes nothing
    low_client = other_client(client)
    low_token = desk_login(ctx, low_client, low)
    r = low_client.get(page, **HTML)
    assert r.status_code == 403 and 'id="error-page"' in r.content.decode()
    r = low_client.post(page, {"csrf_token": low_token, "action": "password", "new_password": "Hijack-Passw0rd-9"},
                        **HTML)
    assert r.status_code == 403
    assert low_client.post(page, {"csrf_token": low_token, "action": "invite"}, **HTML).status_code == 403
    assert can_log_in(client, invited, NEW + "x")


def test_error_pages_for_browsers_json_for_the_api(ctx, client, unique, temp_app):
    from lowcode import installer
    user = make_user(unique, "errpage", roles=("Sales User",))
    farsi = make_user(unique, "errfa", roles=("Sales User",))
    name = f"tmpapp_{unique}_err"
    app = temp_app(hooks=f'desk_pages = {{"boom-{unique}": "{name}.pages.boom"}}\n', name=name)
    app.write("pages.py", 'def boom(request, name=None):\n    raise RuntimeError("secret-internal-detail")\n')
    write(ctx)
    installer.install_app(app.name)
    ctx.db.sql("UPDATE `tabUser` SET `language`='fa' WHERE `name`=%s", (farsi,))
    write(ctx)
    desk_login(ctx, client, user)

    # 404: a page for the browser, JSON for an API call and for a client asking JSON
    r = client.get(f"/app/no-such-thing-{unique}", **HTML)
    text = r.content.decode()
    assert r.status_code == 404 and r["Content-Type"].startswith("text/html") and 'id="error-page"' in text
    assert "Page not found" in text and 'dir="ltr"' in text
    assert error(client.get(f"/app/no-such-thing-{unique}", HTTP_ACCEPT="application/json"), 404)
    assert error(client.get(f"/api/resource/No Such {unique}", **HTML), 404)
    assert error(client.get(f"/app/no-such-thing-{unique}", HTTP_HX_REQUEST="true", **HTML), 404)
    # 403
    r = client.get(f"/app/user-password/{farsi}", **HTML)
    assert r.status_code == 403 and "Not permitted" in r.content.decode()
    error(client.put(f"/api/resource/User/{farsi}", json.dumps({"new_password": NEW}), content_type="application/json",
                     HTTP_X_FRAPPE_CSRF_TOKEN=desk_login(ctx, client, user)), 403)
    # 500: a page without the detail or a traceback
    r = client.get(f"/app/boom-{unique}", **HTML)
    text = r.content.decode()
    assert r.status_code == 500 and 'id="error-page"' in text
    assert "secret-internal-detail" not in text and "Traceback" not in text
    r = client.get(f"/app/boom-{unique}")
    assert r.status_code == 500 and "secret-internal-detail" not in body(r)["message"]

    # in the user's language, right to left
    desk_login(ctx, client, farsi)
    r = client.get(f"/app/no-such-thing-{unique}", **HTML)
    text = r.content.decode()
    assert r.status_code == 404 and 'dir="rtl"' in text and 'lang="fa"' in text
    assert "Page not found" not in text
    r = client.get(f"/app/boom-{unique}", **HTML)
    assert r.status_code == 500 and "Something went wrong" not in r.content.decode()
    assert whoami(client).status_code == 200


def test_user_form_roles_are_checkboxes(ctx, client, unique, monkeypatch):
    """User.roles is Frappe's Table MultiSelect: the form offers one checkbox per role;
    unchecking and checking saves the rows, keeping the kept row's name."""
    import re
    from lowcode.desk import render
    from .test_auth import ensure_role
    ensure_role("Support Agent")
    # Other tests on this shared site add roles; past the limit the form shows the grid.
    roles = ctx.db.sql("SELECT COUNT(*) FROM `tabRole`")[0][0]
    monkeypatch.setattr(render, "MULTISELECT_LIMIT", max(render.MULTISELECT_LIMIT, roles + 10))
    user = make_user(unique, "roleboxes", roles=("Sales User", "Sales Manager"))
    write(ctx)
    kept = ctx.db.sql("SELECT `name` FROM `tabHas Role` WHERE `parent`=%s AND `role`='Sales User'", (user,))[0][0]
    token = desk_login(ctx, client, "Administrator")
    page = client.get(f"/app/user/{user}").content.decode()
    boxes = re.findall(r'<input class="form-check-input" type="checkbox" id="ms-roles-\d+" name="(roles-\d+-role)" '
                       r'value="([^"]+)" (checked)?', page)
    assert {v for _, v, c in boxes if c} == {"Sales User", "Sales Manager"}
    assert {"System Manager", "Sales User"} <= {v for _, v, _ in boxes}
    post = {"csrf_token": token, "email": user, "first_name": "Roleboxes", "enabled": "1", "roles-rows": "1",
            "modified": re.search(r'name="modified" value="([^"]*)"', page).group(1)}
    post.update(dict(re.findall(r'name="(roles-\d+-name)" value="([^"]*)"', page)))
    post.update({name: value for name, value, _ in boxes if value in ("Sales User", "Support Agent")})
    r = client.post(f"/app/user/{user}", post)
    assert r.status_code == 302, r.content.decode()[-2000:]
    refresh(ctx)
    rows = dict(ctx.db.sql("SELECT `role`, `name` FROM `tabHas Role` WHERE `parent`=%s", (user,)))
    assert set(rows) == {"Sales User", "Support Agent"}
    assert rows["Sales User"] == kept
    assert ctx.db.get_value("User", user, "enabled") == 1
