"""The team inbox (crm_app/inbox.py) over HTTP on both engines: received messages
newest first with their filters and pages, only what the user may read; a task for a
colleague from a message (linked to the message and its record, notified, on both
timelines); sharing, linking, closing, read/unread; the reply through the compose page
against a real SMTP server on loopback. Every write is a POST with the CSRF token and
is decided on the stored message.

Messages are dated in the far future, so they are the newest of the shared test site
and show on the inbox's first page whatever other tests left there."""
import datetime
import itertools

import pytest

import lowcode
from lowcode.channels.email import flush
from lowcode.exceptions import ValidationError
from lowcode.permissions import has_permission
from lowcode.tests.desk_helpers import login
from lowcode.tests.test_email_out import make_account, smtp  # noqa: F401 - the SMTP server fixture

from crm_app.inbox import make_task
from crm_app.tests.helpers import as_user, make_customer, make_lead, make_user, refresh, tag, token, write

_minutes = itertools.count()
BASE = datetime.datetime(2099, 1, 1)


def received(subject=None, minutes=None, **values):
    """A received e-mail (as the importer makes it), ``minutes`` after BASE."""
    when = BASE + datetime.timedelta(minutes=next(_minutes) if minutes is None else minutes)
    data = {"doctype": "Communication", "communication_medium": "Email", "sent_or_received": "Received",
            "subject": subject or f"Question {tag()}", "sender": f"customer-{tag()}@example.org",
            "content": "<p>Hello,</p><p>where is my order?</p>", "communication_date": when.isoformat(" ")}
    data.update(values)
    return lowcode.get_doc(data).insert(ignore_permissions=True)


@pytest.fixture
def team(ctx, unique):
    t = type("Team", (), {})()
    t.rep = make_user(unique, "rep")
    t.colleague = make_user(unique, "colleague")
    t.outsider = make_user(unique, "outsider", roles=("Accounts User",))  # may not read Communications
    return t


def text(response):
    return response.content.decode()


def test_the_inbox_lists_received_messages_newest_first_with_filters(ctx, client, team, unique):
    with as_user(team.rep):  # mail about a record is read with that record: the rep's own lead
        lead = make_lead()
    older = received(f"Older {unique}", reference_doctype="Lead", reference_name=lead.name)
    sms = received(f"Text {unique}", communication_medium="SMS")
    closed = received(f"Done {unique}", status="Closed")
    sent = received(f"Sent {unique}", sent_or_received="Sent")
    with as_user(team.colleague):  # someone else's private message
        private = received(f"Private {unique}", is_private=1)
    login(ctx, client, team.rep)
    page = text(client.get("/app/inbox"))
    assert page.index(f"Text {unique}") < page.index(f"Older {unique}")  # newest first
    assert f"Done {unique}" not in page  # Open by default
    assert f"Sent {unique}" not in page and f"Private {unique}" not in page
    assert f"Done {unique}" in text(client.get("/app/inbox", {"status": "Closed"}))
    linked = text(client.get("/app/inbox", {"linked": "yes"}))
    assert f"Older {unique}" in linked and f"Text {unique}" not in linked
    unlinked = text(client.get("/app/inbox", {"linked": "no"}))
    assert f"Text {unique}" in unlinked and f"Older {unique}" not in unlinked
    assert f"Text {unique}" in text(client.get("/app/inbox", {"read": "unread"}))
    # A private message reaches the team only through a share (read in SQL, through get_list).
    with as_user(team.colleague):
        from lowcode.desk.views.collaboration import share
        write(ctx)
        share(lowcode.get_doc("Communication", private.name), team.rep)
    refresh(ctx)
    assert f"Private {unique}" in text(client.get("/app/inbox"))
    # Bad filters name their parameter; someone who may not read Communications is not in the team.
    bad = client.get("/app/inbox", {"status": "Bogus"})
    assert bad.status_code == 417 and "status" in text(bad)
    assert client.get("/app/inbox", {"page": "0"}).status_code == 400
    login(ctx, client, team.outsider)
    assert client.get("/app/inbox").status_code == 403
    assert client.get(f"/app/inbox/{older.name}").status_code == 403
    del sent, closed, sms


def test_pages_of_twenty(ctx, client, team, unique):
    made = [received(f"Paged {unique} {i:02d}", minutes=500000 + i) for i in range(21)]
    login(ctx, client, team.rep)
    first = text(client.get("/app/inbox"))
    assert f"Paged {unique} 20" in first and f"Paged {unique} 00" not in first and 'id="inbox-next"' in first
    second = text(client.get("/app/inbox", {"page": "2"}))
    assert f"Paged {unique} 00" in second and 'id="inbox-prev"' in second
    assert len(made) == 21


def test_make_a_task_for_a_colleague(ctx, client, team, unique):
    with as_user(team.rep):
        lead = make_lead()
    message = received(f"Order {unique}", reference_doctype="Lead", reference_name=lead.name)
    csrf = login(ctx, client, team.rep)
    url = f"/app/inbox/{message.name}"
    # Bad input names the field and writes nothing.
    bad = client.post(url, {"csrf_token": csrf, "action": "task", "assigned_to": "nobody@example.com"})
    assert bad.status_code == 417 and 'data-field="assigned_to"' in text(bad)
    bad = client.post(url, {"csrf_token": csrf, "action": "task", "assigned_to": team.colleague,
                            "due_date": "not a date"})
    assert bad.status_code == 417 and 'data-field="due_date"' in text(bad)
    assert client.post(url, {"csrf_token": csrf, "action": "explode"}).status_code == 417
    # Without the CSRF token: refused.
    no_token = client.post(url, {"action": "task", "assigned_to": team.colleague})
    assert no_token.status_code == 400 and "CSRF" in text(no_token)
    ctx.db.rollback()
    assert not lowcode.get_all("Task", filters={"communication": message.name})
    done = client.post(url, {"csrf_token": csrf, "action": "task", "assigned_to": team.colleague,
                             "due_date": "2099-02-01", "note": "Please call them back"})
    assert done.status_code == 302, text(done)
    ctx.db.rollback()
    [task] = lowcode.get_all("Task", filters={"communication": message.name},
                             fields=["name", "assigned_to", "due_date", "reference_doctype", "reference_name",
                                     "owner", "subject"])
    assert (task["assigned_to"], str(task["due_date"]), task["owner"]) == (team.colleague, "2099-02-01", team.rep)
    assert (task["reference_doctype"], task["reference_name"]) == ("Lead", lead.name)
    assert lowcode.get_all("Notification Log", filters={"for_user": team.colleague, "type": "Assignment",
                                                        "document_type": "Task", "document_name": task["name"]})
    # On both timelines: the message's form and its lead's.
    assert f"/app/task/{task['name']}" in text(client.get(f"/app/communication/{message.name}"))
    assert f"/app/task/{task['name']}" in text(client.get(f"/app/lead/{lead.name}"))
    assert f"/app/task/{task['name']}" in text(client.get(url))
    # The message is now the colleague's: "mine" for them, no longer "unassigned".
    assert f"Order {unique}" not in text(client.get("/app/inbox", {"assigned": "unassigned"}))
    assert f"Order {unique}" not in text(client.get("/app/inbox", {"assigned": "mine"}))
    login(ctx, client, team.colleague)
    assert f"Order {unique}" in text(client.get("/app/inbox", {"assigned": "mine"}))
    assert client.get(f"/app/task/{task['name']}").status_code == 200


def test_a_task_from_an_unmatched_message_is_linked_to_the_message(ctx, team, unique):
    message = received(f"Stray {unique}")
    with as_user(team.rep):
        task = lowcode.get_doc("Task", make_task(message.name, team.colleague).name)
    assert (task.reference_doctype, task.reference_name, task.communication) == \
        ("Communication", message.name, message.name)


def test_no_write_on_a_message_the_user_may_not_read(ctx, client, team, unique):
    with as_user(team.colleague):
        private = received(f"Secret {unique}", is_private=1)
    customer = make_customer().name
    api_token = token(team.rep)
    csrf = login(ctx, client, team.rep)
    url = f"/app/inbox/{private.name}"
    assert client.get(url).status_code == 403
    for post in ({"action": "task", "assigned_to": team.rep}, {"action": "share", "share_with": team.rep},
                 {"action": "link", "reference_doctype": "Customer", "reference_name": customer},
                 {"action": "status", "status": "Closed"}, {"action": "status", "status": "Gone"},
                 {"action": "seen"}):
        response = client.post(url, dict(post, csrf_token=csrf))
        assert response.status_code == 403, (post, text(response))
    assert client.post("/app/inbox/no-such-message", {"csrf_token": csrf, "action": "seen"}).status_code == 404
    api = client.post("/api/method/crm_app.inbox.close_message", {"communication": private.name}, **api_token)
    assert api.status_code == 403
    ctx.db.rollback()
    stored = lowcode.get_doc("Communication", private.name)
    assert (stored.status, stored.reference_name, int(stored.seen or 0)) == ("Open", None, 0)
    assert not lowcode.get_all("Task", filters={"communication": private.name})
    assert not lowcode.get_all("DocShare", filters={"share_name": private.name, "user": team.rep})


def test_share_with_a_colleague_who_has_no_role(ctx, client, team, unique):
    with as_user(team.rep):
        message = received(f"Shared {unique}", is_private=1)
    with as_user(team.outsider):
        assert not has_permission("Communication", "read",
                                                      doc=lowcode.get_doc("Communication", message.name))
    csrf = login(ctx, client, team.rep)
    bad = client.post(f"/app/inbox/{message.name}", {"csrf_token": csrf, "action": "share", "share_with": ""})
    assert bad.status_code == 417 and 'data-field="share_with"' in text(bad)
    done = client.post(f"/app/inbox/{message.name}", {"csrf_token": csrf, "action": "share",
                                                      "share_with": team.outsider})
    assert done.status_code == 302
    ctx.db.rollback()
    assert lowcode.get_all("Notification Log", filters={"for_user": team.outsider, "type": "Share",
                                                        "document_name": message.name})
    login(ctx, client, team.outsider)
    page = client.get(f"/app/communication/{message.name}")
    assert page.status_code == 200 and f"Shared {unique}" in text(page)


def test_link_an_unmatched_message_to_a_record(ctx, client, team, unique):
    message = received(f"Who {unique}")
    with as_user(team.rep):
        mine = make_customer()
    with as_user(team.colleague):
        theirs = make_lead()  # a Sales User reads only their own leads
    csrf = login(ctx, client, team.rep)
    url = f"/app/inbox/{message.name}"
    for post, field in (({"reference_doctype": "User", "reference_name": team.rep}, "reference_doctype"),
                        ({"reference_doctype": "Customer", "reference_name": "no such"}, "reference_name")):
        bad = client.post(url, dict(post, csrf_token=csrf, action="link"))
        assert bad.status_code == 417 and f'data-field="{field}"' in text(bad)
    assert client.post(url, {"csrf_token": csrf, "action": "link", "reference_doctype": "Lead",
                             "reference_name": theirs.name}).status_code == 403
    assert client.post(url, {"csrf_token": csrf, "action": "link", "reference_doctype": "Customer",
                             "reference_name": mine.name}).status_code == 302
    ctx.db.rollback()
    stored = lowcode.get_doc("Communication", message.name)
    assert (stored.reference_doctype, stored.reference_name, stored.customer) == ("Customer", mine.name, mine.name)


def test_close_reopen_and_read_marks(ctx, client, team, unique):
    message = received(f"Status {unique}")
    modified = str(message.modified)
    api_token = token(team.rep)
    csrf = login(ctx, client, team.rep)
    url = f"/app/inbox/{message.name}"
    page = text(client.get(url))
    assert 'hx-trigger="load"' in page  # opening an unread message marks it read, by a POST
    ctx.db.rollback()
    assert not int(lowcode.db.get_value("Communication", message.name, "seen") or 0)  # GET never writes
    assert client.post(url, {"csrf_token": csrf, "action": "seen", "seen": "1"},
                       HTTP_HX_REQUEST="true").status_code == 204
    ctx.db.rollback()
    assert int(lowcode.db.get_value("Communication", message.name, "seen")) == 1
    assert str(lowcode.db.get_value("Communication", message.name, "modified")) == modified
    assert f"Status {unique}" not in text(client.get("/app/inbox", {"read": "unread"}))
    bad = client.post(url, {"csrf_token": csrf, "action": "status", "status": "Gone"})
    assert bad.status_code == 417 and 'data-field="status"' in text(bad)
    assert client.post(url, {"csrf_token": csrf, "action": "status", "status": "Closed"}).status_code == 302
    ctx.db.rollback()
    assert lowcode.db.get_value("Communication", message.name, "status") == "Closed"
    # The form's Reopen action is a POST-only whitelisted method.
    refused = client.get("/api/method/crm_app.inbox.reopen_message", {"communication": message.name}, **api_token)
    assert refused.status_code == 403 and "does not accept GET" in text(refused)
    assert client.post("/api/method/crm_app.inbox.reopen_message", {"communication": message.name},
                       **api_token).status_code == 200
    ctx.db.rollback()
    assert lowcode.db.get_value("Communication", message.name, "status") == "Open"
    form = text(client.get(f"/app/communication/{message.name}"))
    assert "Make a task" in form and "Link to record" in form and "/app/email?doctype=Communication" in form


def test_reply_opens_the_compose_page_prefilled_and_threads(ctx, client, team, unique, smtp):  # noqa: F811
    _, controller = smtp
    make_account(ctx, unique, controller.port, default_outgoing=1)
    lead = make_lead()
    message = received(f"Prices {unique}", reference_doctype="Lead", reference_name=lead.name,
                       message_id=f"<{unique}@mail.example.org>")
    csrf = login(ctx, client, "Administrator")
    page = client.get("/app/email", {"doctype": "Communication", "name": message.name})
    html = text(page)
    assert page.status_code == 200 and f'value="{message.sender}"' in html and f'value="Re: Prices {unique}"' in html
    assert "&gt; where is my order?" in html
    sent = client.post("/app/email", {"csrf_token": csrf, "doctype": "Communication", "name": message.name,
                                      "to": message.sender, "subject": f"Re: Prices {unique}",
                                      "message": "Here they are.\n\n> where is my order?"})
    assert sent.status_code == 302, text(sent)
    ctx.db.rollback()
    flush()
    ctx.db.commit()
    inbox, _ = smtp
    arrived = inbox.parsed()
    assert arrived["In-Reply-To"] == f"<{unique}@mail.example.org>" and arrived["Subject"] == f"Re: Prices {unique}"
    assert lowcode.db.get_value("Communication", message.name, "status") == "Replied"
    assert lowcode.get_all("Communication", filters={"sent_or_received": "Sent", "reference_doctype": "Lead",
                                                     "reference_name": lead.name,
                                                     "subject": f"Re: Prices {unique}"})


def test_a_colleague_who_could_not_read_the_message_gets_it_shared(ctx, team, unique):
    with as_user(team.rep):
        message = received(f"Mine only {unique}", is_private=1)
        with pytest.raises(ValidationError) as refused:  # no Task role: they could never open the task
            make_task(message.name, team.outsider)
        assert refused.value.field == "assigned_to"
        make_task(message.name, team.colleague)
    with as_user(team.colleague):
        assert has_permission("Communication", "read", doc=lowcode.get_doc("Communication", message.name))
    assert lowcode.get_all("DocShare", filters={"share_doctype": "Communication", "share_name": message.name,
                                                "user": team.colleague})


def test_errors_speak_the_users_language(ctx, client, team, unique):
    message = received(f"Farsi {unique}")
    lowcode.set_value("User", team.rep, "language", "fa")
    csrf = login(ctx, client, team.rep)
    bad = client.post(f"/app/inbox/{message.name}", {"csrf_token": csrf, "action": "status", "status": "Gone"})
    assert bad.status_code == 417 and "وضعیت: یکی از" in text(bad) and 'dir="rtl"' in text(bad)
