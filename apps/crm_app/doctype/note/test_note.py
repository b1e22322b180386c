"""Notes: the title is mandatory, the customer comes from the record the note is about,
the content is sanitised HTML, and a private note is the author's only (over REST)."""
import pytest

import lowcode
from lowcode.exceptions import MandatoryError

from crm_app.tests.helpers import as_user, body, make_customer, make_user, ok, refresh, token


def test_the_title_is_mandatory(ctx):
    with pytest.raises(MandatoryError) as e:
        lowcode.get_doc({"doctype": "Note", "content": "<p>no title</p>"}).insert()
    assert e.value.field == "title"


def test_the_customer_comes_from_the_reference(ctx):
    customer = make_customer().name
    note = lowcode.get_doc({"doctype": "Note", "title": "met them", "reference_doctype": "Customer",
                            "reference_name": customer}).insert()
    assert lowcode.db.get_value("Note", note.name, "customer") == customer


def test_the_content_is_sanitised(ctx):
    note = lowcode.get_doc({"doctype": "Note", "title": "pasted",
                            "content": '<p onclick="steal()">hello<script>alert(1)</script></p>'}).insert()
    stored = lowcode.db.get_value("Note", note.name, "content")
    assert "hello" in stored
    assert "<script" not in stored and "onclick" not in stored


def test_a_private_note_is_the_authors_only(ctx, client, unique):
    author, peer = make_user(unique, "author"), make_user(unique, "reader")
    with as_user(author):
        note = lowcode.get_doc({"doctype": "Note", "title": f"private {unique}", "is_private": 1}).insert()
    author_auth, peer_auth = token(author), token(peer)
    refresh(ctx)
    assert ok(client.get(f"/api/resource/Note/{note.name}", **author_auth))["data"]["title"] == f"private {unique}"
    denied = client.get(f"/api/resource/Note/{note.name}", **peer_auth)
    assert denied.status_code == 403, body(denied)
    listed = ok(client.get("/api/resource/Note", {"filters": f'{{"title": "private {unique}"}}'}, **peer_auth))
    assert listed["data"] == []
