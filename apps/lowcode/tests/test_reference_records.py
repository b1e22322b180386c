"""ToDos and Comments are records about another document, so they are written only by
users who may read that document; system comments (Workflow, Assigned, Shared, ...)
only by the engine; and taking someone off a document (closing or cancelling their
ToDo, removing the assignment) only by them or by someone who may edit the document.

The attacker is a user who may read the document but not write it (``reader``) or
not even read it (``outsider``); every attempt is made over HTTP, as a client would,
and the stored rows are read back."""
import json
from urllib.parse import quote

import pytest

import lowcode
from lowcode import auth
from lowcode.desk.views.collaboration import assign
from lowcode.utils import route_for
from lowcode.workflow import add_comment

from .desk_helpers import commit, login, make_user, team_doctype
from lowcode.testing.http import token


@pytest.fixture
def team(ctx, make_doctype, unique):
    """A document assigned (by ``writer``) to ``assignee``; a ``reader`` who may only
    read it, and an ``outsider`` who may not read it."""
    writer_role, reader_role = f"Ref Writer {unique}", f"Ref Reader {unique}"
    doctype = team_doctype(make_doctype, writer_role, reader_role)
    users = {"writer": make_user(unique, "refwriter", [writer_role]),
             "assignee": make_user(unique, "refassignee", [reader_role]),
             "reader": make_user(unique, "refreader", [reader_role]),
             "outsider": make_user(unique, "refoutsider", [])}
    name = lowcode.get_doc({"doctype": doctype, "title": "Deal"}).insert().name
    secret_doctype = make_doctype([{"fieldname": "title", "fieldtype": "Data", "label": "Title"}])  # System Managers'
    secret = lowcode.get_doc({"doctype": secret_doctype, "title": "Secret"}).insert().name
    lowcode.set_user(users["writer"])
    try:
        assign(lowcode.get_doc(doctype, name), [users["assignee"]])
    finally:
        lowcode.set_user("Administrator")
    tokens = {k: token(u) for k, u in users.items()}
    ctx.db.commit()
    ctx.db.begin()
    return {"doctype": doctype, "name": name, "users": users, "tokens": tokens, "secret": (secret_doctype, secret)}


def assigned(doctype, name):
    value = lowcode.db.sql(f"SELECT `_assign` FROM `tab{doctype}` WHERE `name`=%s", (name,), pluck=True)[0]
    return json.loads(value) if value else []


def post(client, auth, doctype, data):
    return client.post(f"/api/resource/{doctype}", json.dumps(data), content_type="application/json", **auth)


def put(client, auth, doctype, name, data):
    return client.put(f"/api/resource/{doctype}/{quote(name)}", json.dumps(data), content_type="application/json",
                      **auth)


# -- ToDo ------------------------------------------------------------------------------------------

def test_a_todo_needs_read_access_to_its_document(ctx, client, team):
    t, u = team["tokens"], team["users"]
    commit(ctx)
    todo = {"description": "forged", "allocated_to": u["assignee"], "reference_type": team["doctype"],
            "reference_name": team["name"]}
    r = post(client, t["outsider"], "ToDo", todo)
    assert r.status_code == 403, r.content[:300]
    ctx.db.commit()
    assert lowcode.get_all("ToDo", filters={"description": "forged"}) == []
    # A reader may make one, but it is theirs: assigned_by is who made it.
    r = post(client, t["reader"], "ToDo", dict(todo, assigned_by=u["writer"]))
    assert r.status_code == 200, r.content[:300]
    assert r.json()["data"]["assigned_by"] == u["reader"]
    # ... and may not point it at a document they cannot read.
    mine = r.json()["data"]["name"]
    secret_doctype, secret = team["secret"]
    r = put(client, t["reader"], "ToDo", mine, {"reference_type": secret_doctype, "reference_name": secret})
    assert r.status_code == 403, r.content[:300]


def test_closing_a_forged_todo_does_not_unassign_a_colleague(ctx, client, team):
    """The reader makes a ToDo for the assignee on the document (they may read it), then
    closes it: that would take the assignee off the document. Refused."""
    t, u = team["tokens"], team["users"]
    commit(ctx)
    r = post(client, t["reader"], "ToDo", {"description": "forged", "allocated_to": u["assignee"],
                                           "reference_type": team["doctype"], "reference_name": team["name"]})
    assert r.status_code == 200, r.content[:300]
    forged = r.json()["data"]["name"]
    for status in ("Closed", "Cancelled"):
        r = put(client, t["reader"], "ToDo", forged, {"status": status})
        assert r.status_code == 403, (status, r.content[:300])
    r = client.post("/api/method/frappe.client.set_value", {"doctype": "ToDo", "name": forged,
                                                            "fieldname": "status", "value": "Closed"},
                    **t["reader"])
    assert r.status_code == 403
    ctx.db.commit()
    assert assigned(team["doctype"], team["name"]) == [u["assignee"]]
    assert lowcode.db.get_value("ToDo", forged, "status") == "Open"
    # The assignee closes their own: they come off the document, as in Frappe.
    real = lowcode.get_all("ToDo", filters={"reference_name": team["name"], "assigned_by": u["writer"]},
                           pluck="name")[0]
    commit(ctx)
    r = put(client, t["assignee"], "ToDo", real, {"status": "Closed"})
    assert r.status_code == 200, r.content[:300]
    ctx.db.commit()
    assert assigned(team["doctype"], team["name"]) == []


def test_a_todo_on_a_document_you_cannot_read_cannot_be_closed(ctx, client, team):
    """An outsider holding a ToDo (shared to them with write) about a document they
    cannot read may not close it and so take its assignee off that document."""
    t, u = team["tokens"], team["users"]
    todo = lowcode.get_doc({"doctype": "ToDo", "description": "old", "allocated_to": u["assignee"],
                            "assigned_by": u["outsider"], "owner": u["outsider"],
                            "reference_type": team["doctype"], "reference_name": team["name"]}).insert(
        ignore_permissions=True).name
    commit(ctx)
    r = put(client, t["outsider"], "ToDo", todo, {"status": "Cancelled"})
    assert r.status_code == 403, r.content[:300]
    ctx.db.commit()
    assert lowcode.db.get_value("ToDo", todo, "status") == "Open"
    assert assigned(team["doctype"], team["name"]) == [u["assignee"]]


def test_an_assignee_cannot_hand_their_todo_to_a_colleague_and_close_it(ctx, client, team):
    """Closing takes the ToDo's assignee off the document: moving it to a colleague
    first (in the same write or before) would take the colleague off instead."""
    u = team["users"]
    lowcode.set_user(u["writer"])
    try:
        assign(lowcode.get_doc(team["doctype"], team["name"]), [u["reader"]])
    finally:
        lowcode.set_user("Administrator")
    mine = lowcode.get_all("ToDo", filters={"reference_name": team["name"], "allocated_to": u["reader"]},
                           pluck="name")[0]
    commit(ctx)
    t = team["tokens"]["reader"]
    assert put(client, t, "ToDo", mine, {"allocated_to": u["assignee"], "status": "Closed"}).status_code == 403
    assert put(client, t, "ToDo", mine, {"allocated_to": u["assignee"]}).status_code == 403
    ctx.db.commit()
    assert assigned(team["doctype"], team["name"]) == [u["assignee"], u["reader"]]
    assert put(client, t, "ToDo", mine, {"status": "Closed"}).status_code == 200  # their own: fine
    ctx.db.commit()
    assert assigned(team["doctype"], team["name"]) == [u["assignee"]]


def test_unassign_needs_the_assignee_or_an_editor(ctx, client, team):
    """Having made a ToDo for the assignee is not enough to take them off the document."""
    u = team["users"]
    commit(ctx)
    r = post(client, team["tokens"]["reader"], "ToDo", {"description": "mine", "allocated_to": u["assignee"],
                                                        "reference_type": team["doctype"],
                                                        "reference_name": team["name"]})
    assert r.status_code == 200
    collab = f"/app/{route_for(team['doctype'])}/{quote(team['name'])}/__collab/unassign"
    csrf = login(ctx, client, u["reader"])
    r = client.post(collab, {"user": u["assignee"]}, HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 403
    ctx.db.commit()
    assert assigned(team["doctype"], team["name"]) == [u["assignee"]]
    csrf = login(ctx, client, u["writer"])
    r = client.post(collab, {"user": u["assignee"]}, HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 302
    ctx.db.commit()
    assert assigned(team["doctype"], team["name"]) == []


# -- Comment ---------------------------------------------------------------------------------------

def comments(team, **filters):
    return lowcode.get_all("Comment", filters=dict(filters, reference_name=team["name"]),
                           fields=["comment_type", "content", "comment_email", "owner"], order_by="creation asc")


@pytest.mark.parametrize("comment_type", ["Workflow", "Info", "Assigned", "Attachment", "Edit", "Like", "Shared"])
def test_users_cannot_write_system_comments(ctx, client, team, comment_type):
    t = team["tokens"]
    commit(ctx)
    r = post(client, t["reader"], "Comment", {"comment_type": comment_type, "reference_doctype": team["doctype"],
                                              "reference_name": team["name"], "content": "Approve: Draft → OK"})
    assert r.status_code == 403, r.content[:300]
    assert r.json()["exc_type"] == "PermissionError"
    ctx.db.commit()
    assert comments(team, comment_type=comment_type, content="Approve: Draft → OK") == []


def test_plain_comments_need_read_access_and_are_signed_by_their_writer(ctx, client, team):
    t, u = team["tokens"], team["users"]
    commit(ctx)
    data = {"reference_doctype": team["doctype"], "reference_name": team["name"], "content": "hello",
            "comment_email": u["writer"]}
    assert post(client, t["outsider"], "Comment", data).status_code == 403
    r = post(client, t["reader"], "Comment", data)
    assert r.status_code == 200, r.content[:300]
    ctx.db.commit()
    assert [(c["comment_type"], c["comment_email"]) for c in comments(team, content="hello")] == [
        ("Comment", u["reader"])]
    # Not turned into a system comment, nor moved onto a document the user cannot read.
    name = r.json()["data"]["name"]
    assert put(client, t["reader"], "Comment", name, {"comment_type": "Workflow"}).status_code == 403
    assert put(client, t["reader"], "Comment", name, {"reference_doctype": team["secret"][0],
                                                      "reference_name": team["secret"][1]}).status_code == 403
    assert put(client, t["reader"], "Comment", name, {"content": "hello again"}).status_code == 200


def test_system_comments_a_user_caused_are_not_theirs_to_edit(ctx, client, team):
    """The engine writes a Workflow comment as the user who took the action (so they own
    it); the user still cannot change or delete it."""
    u = team["users"]
    lowcode.set_user(u["reader"])
    try:
        name = add_comment(team["doctype"], team["name"], "Workflow", "Approve: Draft → Approved").name
    finally:
        lowcode.set_user("Administrator")
    commit(ctx)
    t = team["tokens"]["reader"]
    assert put(client, t, "Comment", name, {"content": "Approve: Draft → Rejected"}).status_code == 403
    assert put(client, t, "Comment", name, {"comment_type": "Comment"}).status_code == 403
    assert client.delete(f"/api/resource/Comment/{name}", **t).status_code == 403
    ctx.db.commit()
    assert [(c["comment_type"], c["content"]) for c in comments(team, comment_type="Workflow")] == [
        ("Workflow", "Approve: Draft → Approved")]
