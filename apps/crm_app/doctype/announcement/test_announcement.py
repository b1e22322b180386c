"""Announcements (crm_app/announcements.py) over HTTP on both engines: the home page
shows the published ones of today targeted at the user's roles, newest first, unread
ones marked; the Announcement list and REST show a user only the ones targeting their
roles (in SQL); opening one is a POST that records one receipt (a GET never writes);
the author sees "Read by N of M targeted users" with the list; content is sanitised."""
import json
from urllib.parse import urlencode

import lowcode

from crm_app.tests.helpers import as_user, body, days_from_today, ensure_role, make_user, refresh, token
from crm_app.tests.helpers import write as write_ctx
from lowcode.tests.desk_helpers import login

HX = {"HTTP_HX_REQUEST": "true"}


def text(response):
    return response.content.decode()


def announce(title, roles=(), **values):
    data = {"doctype": "Announcement", "title": title, "category": "Event", "is_published": 1,
            "content": "<p>Details of " + title + "</p>", "roles": [{"role": r} for r in roles]}
    data.update(values)
    return lowcode.get_doc(data).insert().name


def receipts(ctx, name):
    ctx.db.commit()
    ctx.db.begin(write=False)
    return ctx.db.sql("SELECT `user` FROM `tabAnnouncement Read` WHERE `announcement`=%s", (name,), pluck=True)


def world(unique):
    """Two roles of this test; readers of each; an author (Marketing User) who targets them."""
    w = type("World", (), {})()
    w.role_a, w.role_b = f"Readers A {unique}", f"Readers B {unique}"
    for role in (w.role_a, w.role_b):
        ensure_role(role)
    w.author = make_user(unique, "author", roles=("Marketing User",))
    w.reader_a = make_user(unique, "reader-a", roles=("Sales User", w.role_a))
    w.reader_a2 = make_user(unique, "reader-a2", roles=("Sales User", w.role_a))
    w.reader_b = make_user(unique, "reader-b", roles=("Sales User", w.role_b))
    with as_user(w.author):
        w.for_a = announce(f"For A {unique}", [w.role_a])
        w.for_b = announce(f"For B {unique}", [w.role_b])
        w.for_all = announce(f"For all {unique}", publish_from=days_from_today(-1))
        w.draft = announce(f"Draft {unique}", [w.role_a], is_published=0)
        w.expired = announce(f"Expired {unique}", [w.role_a], publish_from=days_from_today(-9),
                             publish_until=days_from_today(-2))
        w.future = announce(f"Future {unique}", [w.role_a], publish_from=days_from_today(3))
    return w


def test_home_list_and_rest_show_only_what_targets_the_users_roles(ctx, client, unique):
    w = world(unique)
    refresh(ctx)
    login(ctx, client, w.reader_a)
    home = text(client.get("/app"))
    assert 'id="announcements"' in home
    assert f"For A {unique}" in home and f"For all {unique}" in home
    for hidden in ("For B", "Draft", "Expired", "Future"):
        assert f"{hidden} {unique}" not in home
    assert home.index(f"For A {unique}") < home.index(f"For all {unique}")  # newest first
    assert home.count("announcement-mark badge") >= 2  # both unread
    # The list and REST: the SQL rule hides the one for B (drafts are still listed: the rule is targeting).
    auth = token(w.reader_a)
    refresh(ctx)
    query = urlencode({"limit_page_length": 0, "filters": json.dumps([["title", "like", f"%{unique}"]])})
    names = {r["name"] for r in body(client.get(f"/api/resource/Announcement?{query}", **auth))["data"]}
    assert names == {w.for_a, w.for_all, w.draft, w.expired, w.future}
    assert client.get(f"/api/resource/Announcement/{w.for_b}", **auth).status_code == 403
    assert client.get(f"/api/resource/Announcement/{w.for_a}", **auth).status_code == 200
    listing = text(client.get("/app/announcement"))
    assert f"For A {unique}" in listing and f"For B {unique}" not in listing
    # Reader B sees the one for B, not the one for A; the author sees all of theirs.
    login(ctx, client, w.reader_b)
    home = text(client.get("/app"))
    assert f"For B {unique}" in home and f"For A {unique}" not in home
    with as_user(w.author):
        assert len(lowcode.get_list("Announcement", filters=[["title", "like", f"%{unique}"]])) == 6


def test_opening_records_one_receipt_on_post_only(ctx, client, unique):
    w = world(unique)
    refresh(ctx)
    csrf = login(ctx, client, w.reader_a)
    # A GET never writes (and the receipts list is the author's).
    assert client.get(f"/app/announcement-read/{w.for_a}").status_code == 403
    assert receipts(ctx, w.for_a) == []
    # Without the CSRF token: refused, nothing written.
    assert client.post(f"/app/announcement-read/{w.for_a}", **HX).status_code in (400, 403)
    assert receipts(ctx, w.for_a) == []
    # An announcement not meant for the user: refused, nothing written.
    assert client.post(f"/app/announcement-read/{w.for_b}", {"csrf_token": csrf}, **HX).status_code in (403, 404)
    assert receipts(ctx, w.for_b) == []
    opened = client.post(f"/app/announcement-read/{w.for_a}", {"csrf_token": csrf}, **HX)
    assert opened.status_code == 200 and "announcement-mark" in text(opened)
    assert client.post(f"/app/announcement-read/{w.for_a}", {"csrf_token": csrf}, **HX).status_code == 200
    assert receipts(ctx, w.for_a) == [w.reader_a]  # once
    home = text(client.get("/app"))
    start = home.index(f'data-name="{w.for_a}"')
    assert "hx-post" not in home[start:start + 200]  # read: opening it again posts nothing
    # The author: "Read by 1 of 2 targeted users" on the form and the list of readers.
    login(ctx, client, w.author)
    form = text(client.get(f"/app/announcement/{w.for_a}"))
    assert "Read by 1 of 2 targeted users" in form
    assert "Reader-A Tester" in form.split('id="timeline"')[1]  # the reader on the timeline, by name
    page = client.get(f"/app/announcement-read/{w.for_a}")
    html = text(page)
    assert page.status_code == 200 and "Read by 1 of 2 targeted users" in html
    assert w.reader_a in html and w.reader_a2 in html.split('id="unread"')[1]
    # In the author's language.
    write_ctx(ctx)
    ctx.db.sql("UPDATE `tabUser` SET `language`=%s WHERE `name`=%s", ("fa", w.author))
    refresh(ctx)
    assert "خوانده‌شده توسط" in text(client.get(f"/app/announcement/{w.for_a}"))
    # A reader does not see the count on the form.
    login(ctx, client, w.reader_a2)
    assert "targeted users" not in text(client.get(f"/app/announcement/{w.for_a}"))


def test_content_is_sanitised_on_home(ctx, client, unique):
    user = make_user(unique, "reader")
    with as_user(make_user(unique, "author", roles=("Marketing User",))):
        announce(f"Script {unique}", content='<p>Hello</p><script>alert(1)</script><img src=x onerror="alert(2)">')
    refresh(ctx)
    login(ctx, client, user)
    home = text(client.get("/app"))
    assert f"Script {unique}" in home and "<p>Hello</p>" in home
    assert "alert(1)" not in home and "onerror" not in home


def test_deleting_an_announcement_takes_its_receipts(ctx, unique):
    from crm_app.announcements import mark_read
    reader = make_user(unique, "reader")
    name = announce(f"Gone {unique}")
    mark_read(name, reader)
    lowcode.delete_doc("Announcement", name)
    assert not ctx.db.sql("SELECT 1 FROM `tabAnnouncement Read` WHERE `announcement`=%s", (name,))
