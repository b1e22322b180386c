"""Collaboration on a form over HTTP, on both engines: comments with @mentions
(sanitised, notifying only people who may read the document), the notifications
menu, assignments (ToDo, ``_assign``, timeline, notification) and sharing one
document with one user."""
import json
from urllib.parse import quote

import pytest

import lowcode
from lowcode.desk.views.collaboration import mentioned_users
from lowcode.testing.http import login
from lowcode.utils import route_for

from .desk_helpers import ensure_role, team_doctype


def settle(ctx, write=False):
    """Commit ctx's work and start a fresh transaction (a read one unless asked)."""
    ctx.db.commit()
    ctx.db.begin(write=write)


def make_user(unique, tag, roles, first, last):
    email = f"{tag}-{unique}@example.com"
    for role in roles:
        ensure_role(role)
    lowcode.get_doc({"doctype": "User", "email": email, "first_name": first, "last_name": last,
                     "roles": [{"role": r} for r in roles]}).insert()
    return email


@pytest.fixture
def team(ctx, make_doctype, unique):
    """A DocType, one document, and: a writer (read/write/share, Sara Ahmadi), a reader
    (read only, Reza Karimi), and an outsider with no rights on it (Olga Other)."""
    writer_role, reader_role = f"Collab Writer {unique}", f"Collab Reader {unique}"
    doctype = team_doctype(make_doctype, writer_role, reader_role)
    users = {"writer": make_user(unique, "writer", [writer_role], "Sara", f"Ahmadi{unique}"),
             "reader": make_user(unique, "reader", [reader_role], "Reza", f"Karimi{unique}"),
             "outsider": make_user(unique, "outsider", [], "Olga", f"Other{unique}")}
    name = lowcode.get_doc({"doctype": doctype, "title": "Deal with ACME"}).insert().name
    settle(ctx, write=True)
    route = route_for(doctype)
    return {"doctype": doctype, "name": name, "users": users, "unique": unique, "form": f"/app/{route}/{quote(name)}",
            "collab": f"/app/{route}/{quote(name)}/__collab"}


def notifications(doctype, name, user):
    return lowcode.get_all("Notification Log", filters={"for_user": user, "document_type": doctype,
                                                        "document_name": name},
                           fields=["type", "from_user", "read", "subject", "owner"])


# -- the panel ---------------------------------------------------------------------------------

def test_form_loads_the_panel_and_navbar_loads_notifications(ctx, client, team):
    login(ctx, client, team["users"]["writer"])
    page = client.get(team["form"]).content.decode()
    assert f'hx-get="{team["collab"]}"' in page and 'id="collab"' in page
    assert 'hx-get="/app/__notifications"' in page
    r = client.get(team["collab"])
    panel = r.content.decode()
    assert r.status_code == 200
    assert "Assigned to" in panel and "Shared with" in panel and 'name="content"' in panel
    assert 'name="share_with"' in panel  # the writer may share


# -- comments and mentions -------------------------------------------------------------------------

def test_mentions_by_full_name_and_email(ctx, team):
    u = team["users"]
    reader_name = f"Reza Karimi{team['unique']}"
    assert mentioned_users(f"hi @{reader_name}, see this") == [u["reader"]]
    assert mentioned_users(f"hi @{u['outsider']} and @{reader_name}") == [u["outsider"], u["reader"]]
    assert mentioned_users(f"mail me at x@{reader_name}") == []     # not a mention: part of a word
    assert mentioned_users("@Nobody Here") == []


def test_comment_with_mention_notifies_and_is_sanitised(ctx, client, team):
    u = team["users"]
    csrf = login(ctx, client, u["writer"])
    content = (f"<p>Please check, @Reza Karimi{team['unique']} and @{u['outsider']}</p>"
               "<script>alert('x')</script><b onclick=\"steal()\">now</b>")
    r = client.post(f"{team['collab']}/comment", {"content": content}, HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    body = r.content.decode()
    # The outsider cannot read the document: the comment is saved but they are not notified.
    assert r.status_code == 200 and "Not notified" in body and u["outsider"] in body
    settle(ctx)
    rows = lowcode.get_all("Comment", filters={"reference_doctype": team["doctype"], "reference_name": team["name"],
                                               "comment_type": "Comment"}, fields=["content", "owner"])
    assert len(rows) == 1 and rows[0]["owner"] == u["writer"]
    saved = rows[0]["content"]
    assert "<script" not in saved and "alert" not in saved and "onclick" not in saved and "<b>now</b>" in saved

    mention = notifications(team["doctype"], team["name"], u["reader"])
    assert [(n["type"], n["from_user"], n["read"], n["owner"]) for n in mention] == [
        ("Mention", u["writer"], 0, u["reader"])]
    assert notifications(team["doctype"], team["name"], u["outsider"]) == []
    assert notifications(team["doctype"], team["name"], u["writer"]) == []

    # The timeline shows the comment as text.
    page = client.get(team["form"]).content.decode()
    assert "Please check" in page and "<script>alert" not in page

    # The reader sees it in the navbar menu, only their own through the API, and opening it marks it read.
    csrf = login(ctx, client, u["reader"])
    menu = client.get("/app/__notifications").content.decode()
    assert 'id="notification-count">1<' in menu and "mentioned you in" in menu and "Sara Ahmadi" in menu
    listed = client.get("/api/resource/Notification Log", {"fields": json.dumps(["name", "for_user"]),
                                                           "limit_page_length": 0}).json()["data"]
    assert listed and all(row["for_user"] == u["reader"] for row in listed)
    name = listed[0]["name"]
    r = client.post(f"/app/__notifications/{name}/open", HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 302 and r["Location"] == team["form"]
    assert 'id="notification-count"' not in client.get("/app/__notifications").content.decode()

    # Someone else's notification cannot be read or opened.
    csrf = login(ctx, client, u["outsider"])
    assert client.get(f"/api/resource/Notification Log/{name}").status_code == 403
    assert client.post(f"/app/__notifications/{name}/open", HTTP_X_FRAPPE_CSRF_TOKEN=csrf).status_code == 403


def test_who_may_comment(ctx, client, team):
    u = team["users"]
    csrf = login(ctx, client, u["reader"])
    r = client.post(f"{team['collab']}/comment", {"content": "Looks good"}, HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 302 and r["Location"] == team["form"]
    r = client.post(f"{team['collab']}/comment", {"content": "<script>x()</script>  "}, HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 417 and "write something" in r.content.decode()
    csrf = login(ctx, client, u["outsider"])
    r = client.post(f"{team['collab']}/comment", {"content": "let me in"}, HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 403
    settle(ctx)
    rows = lowcode.get_all("Comment", filters={"reference_name": team["name"], "comment_type": "Comment"},
                           pluck="content")
    assert rows == ["Looks good"]


# -- assignments ---------------------------------------------------------------------------------

def test_assignment_creates_todo_assign_timeline_and_notification(ctx, client, team):
    u = team["users"]
    csrf = login(ctx, client, u["writer"])
    r = client.post(f"{team['collab']}/assign", {"assign_to": u["reader"], "date": "2026-05-01",
                                                  "description": "Call them back", "priority": "High"},
                    HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 302, r.content.decode()[:1000]
    settle(ctx)
    todos = lowcode.get_all("ToDo", filters={"reference_type": team["doctype"], "reference_name": team["name"]},
                            fields=["allocated_to", "status", "date", "priority", "assigned_by", "description"])
    assert len(todos) == 1
    t = todos[0]
    assert (t["allocated_to"], t["status"], str(t["date"])[:10], t["priority"], t["assigned_by"]) == (
        u["reader"], "Open", "2026-05-01", "High", u["writer"])
    assign = ctx.db.sql(f"SELECT `_assign` FROM `tab{team['doctype']}` WHERE `name`=%s", (team["name"],))[0][0]
    assert json.loads(assign) == [u["reader"]]
    assert [n["type"] for n in notifications(team["doctype"], team["name"], u["reader"])] == ["Assignment"]

    page = client.get(team["form"]).content.decode()
    assert ">Assigned</span>" in page and f"assigned to Reza Karimi{team['unique']}" in page
    panel = client.get(team["collab"]).content.decode()
    assert f"Reza Karimi{team['unique']}" in panel

    # A bad assignee: a clear error naming the field; nothing written.
    r = client.post(f"{team['collab']}/assign", {"assign_to": "nobody@example.com"}, HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 417 and "nobody@example.com" in r.content.decode()
    r = client.post(f"{team['collab']}/assign", {"assign_to": u["outsider"], "date": "not a date"},
                    HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 417
    settle(ctx)
    assert lowcode.get_count("ToDo", filters={"reference_name": team["name"]}) == 1

    # Removing the assignment cancels the ToDo and takes the user off _assign.
    r = client.post(f"{team['collab']}/unassign", {"user": u["reader"]}, HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 302
    settle(ctx)
    assert lowcode.get_value("ToDo", {"reference_name": team["name"]}, "status") == "Cancelled"
    assign = ctx.db.sql(f"SELECT `_assign` FROM `tab{team['doctype']}` WHERE `name`=%s", (team["name"],))[0][0]
    assert not assign or json.loads(assign) == []


def test_assigning_someone_who_cannot_read_shares_it_with_them(ctx, client, team):
    u = team["users"]
    csrf = login(ctx, client, u["reader"])  # may read, may not share
    r = client.post(f"{team['collab']}/assign", {"assign_to": u["outsider"]}, HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 403
    settle(ctx)
    assert lowcode.get_count("ToDo", filters={"reference_name": team["name"]}) == 0

    csrf = login(ctx, client, u["writer"])  # may share: the assignee gets read access
    r = client.post(f"{team['collab']}/assign", {"assign_to": u["outsider"]}, HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 302
    login(ctx, client, u["outsider"])
    assert client.get(team["form"]).status_code == 200


# -- sharing ---------------------------------------------------------------------------------------

def test_sharing_gives_one_user_access(ctx, client, team):
    u = team["users"]
    api = f"/api/resource/{team['doctype']}/{quote(team['name'])}"
    login(ctx, client, u["outsider"])
    assert client.get(team["form"]).status_code == 403
    assert client.get(api).status_code == 403

    # Reading is not enough to share.
    csrf = login(ctx, client, u["reader"])
    assert 'name="share_with"' not in client.get(team["collab"]).content.decode()
    r = client.post(f"{team['collab']}/share", {"share_with": u["outsider"]}, HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 403
    settle(ctx)
    assert lowcode.get_count("DocShare", filters={"share_name": team["name"]}) == 0

    csrf = login(ctx, client, u["writer"])
    r = client.post(f"{team['collab']}/share", {"share_with": u["outsider"], "write": "1"},
                    HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 302
    settle(ctx)
    share = lowcode.get_all("DocShare", filters={"share_doctype": team["doctype"], "share_name": team["name"]},
                            fields=["user", "read", "write", "share"])
    assert share == [{"user": u["outsider"], "read": 1, "write": 1, "share": 0}]
    assert [n["type"] for n in notifications(team["doctype"], team["name"], u["outsider"])] == ["Share"]
    assert ">Shared</span>" in client.get(team["form"]).content.decode()

    login(ctx, client, u["outsider"])
    assert client.get(team["form"]).status_code == 200
    assert client.get(api).json()["data"]["title"] == "Deal with ACME"

    csrf = login(ctx, client, u["writer"])
    r = client.post(f"{team['collab']}/unshare", {"user": u["outsider"]}, HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 302
    login(ctx, client, u["outsider"])
    assert client.get(api).status_code == 403
