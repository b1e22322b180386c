"""Failing channels, against real servers on loopback made to fail: an SMTP server that
is down, answers 4xx/5xx or never answers; an SMS gateway and a webhook receiver
answering 500. Nothing is lost, the message is retried later, the request that queued it
does not wait, the account shows Failing (since, last error, messages waiting) with one
Notification Log to the System Managers, and shows Active again after the next success.
Plus the Email Queue's admin actions "Retry now" and "Cancel"."""
import datetime
import socket
import threading

import pytest
from aiosmtpd.controller import Controller

import lowcode
from lowcode.channels import email as email_channel
from lowcode.channels import sms, status, webhooks
from lowcode.channels.email import flush, sendmail
from lowcode.realtime import add_listener, remove_listener

from .desk_helpers import login, make_user
from .test_email_out import Inbox, free_port, make_account
from .test_sms import gateway, mobile  # noqa: F401 - fixture
from .test_sms import run_jobs as run_sms_jobs
from .test_webhooks import hooks_ctx, make_webhook, new_todo, receiver  # noqa: F401 - fixtures
from .test_webhooks import run_jobs as run_webhook_jobs


class FlakyInbox(Inbox):
    """An SMTP server that answers ``answer`` to each message (a 4xx or 5xx refuses it)."""
    answer = "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        if not self.answer.startswith("250"):
            return self.answer
        return await super().handle_DATA(server, session, envelope)


def start_flaky(port):
    inbox = FlakyInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=inbox.authenticate,
                            auth_require_tls=False, ready_timeout=10)
    controller.start()
    return inbox, controller


def admin_alerts(user, doctype, name):
    return lowcode.get_all("Notification Log", filters={"for_user": user, "document_type": doctype,
                                                         "document_name": name}, fields=["subject", "type"])


def make_all_due(ctx):
    ctx.db.sql("UPDATE `tabEmail Queue` SET `send_after`=NULL WHERE `status`='Not Sent'")
    ctx.db.commit()


def test_status_helper_tells_admins_once_and_clears_only_its_own_side(ctx, unique):
    admin = make_user(unique, "chanadmin", ["System Manager"])
    account = make_account(ctx, unique, free_port())
    ctx.db.commit()
    assert account.status == "Active"
    events = []
    listener = add_listener(lambda payload: events.append(payload) if payload["event"] == "channel_status" else None)
    try:
        assert status.mark_failing(account, "ConnectionRefusedError: down", waiting=3, source="SMTP") is True
        assert status.mark_failing(account, "ConnectionRefusedError: still down", waiting=4, source="SMTP") is False
        assert events == []  # sent after the commit
        ctx.db.commit()
    finally:
        remove_listener(listener)
    [event] = events
    assert event["room"] == f"doc:Email Account/{account.name}" and event["message"]["status"] == "Failing"
    stored = lowcode.get_doc("Email Account", account.name)
    assert (stored.status, stored.waiting, stored.last_error) == ("Failing", 4, "SMTP: ConnectionRefusedError: still down")
    assert stored.failing_since
    [alert] = admin_alerts(admin, "Email Account", account.name)
    assert alert["type"] == "Alert" and "ConnectionRefusedError: down" in alert["subject"]
    # A working IMAP poll does not hide the SMTP failure; the next SMTP success does.
    assert status.mark_ok(stored, source="IMAP") is False
    assert lowcode.db.get_value("Email Account", account.name, "status") == "Failing"
    assert status.mark_ok(stored, source="SMTP") is True
    stored = lowcode.get_doc("Email Account", account.name)
    assert (stored.status, stored.waiting, stored.last_error, stored.failing_since) == ("Active", 0, None, None)
    # Failing again later is news again.
    status.mark_failing(stored, "boom", source="SMTP")
    assert len(admin_alerts(admin, "Email Account", account.name)) == 2
    # An account saved with the status of before it was a Select still saves.
    ctx.db.sql("UPDATE `tabEmail Account` SET `status`='OK' WHERE `name`=%s", (account.name,))
    old = lowcode.get_doc("Email Account", account.name)
    old.signature = "<p>x</p>"
    old.save()
    assert lowcode.db.get_value("Email Account", account.name, "status") == "Active"


def test_smtp_down_then_4xx_then_5xx_then_recovered(ctx, unique, client):
    admin = make_user(unique, "mailadmin", ["System Manager"])
    port = free_port()
    account = make_account(ctx, unique, port)
    names = []
    for i in range(2):  # down: nothing listens on the port
        names.append(sendmail(recipients=f"r{i}@example.com", subject=f"Hello {i}", message="<p>Hi</p>",
                              email_account=account.name).name)
        ctx.db.commit()
        flush()
        ctx.db.commit()
    account.reload()
    assert account.status == "Failing" and account.waiting == 2 and "ConnectionRefused" in account.last_error
    assert len(admin_alerts(admin, "Email Account", account.name)) == 1  # once per outage, not per message
    # The form shows the badge and the error; the list shows the status.
    token = login(ctx, client, "Administrator")
    assert token
    form = client.get(f"/app/email-account/{account.name}").content.decode()
    assert 'id="record-badge"' in form and "Failing" in form and "ConnectionRefused" in form
    listing = client.get("/app/email-account").content.decode()
    assert "Failing" in listing
    ctx.db.rollback()
    inbox, controller = start_flaky(port)
    try:
        for answer, code in (("451 4.3.0 try again later", "451"), ("554 5.0.0 transaction failed", "554")):
            inbox.answer = answer
            make_all_due(ctx)
            assert set(flush().values()) == {"Not Sent"}
            ctx.db.commit()
            account.reload()
            assert account.status == "Failing" and code in account.last_error and account.waiting == 2
        assert inbox.messages == [] and len(admin_alerts(admin, "Email Account", account.name)) == 1
        inbox.answer = "250 OK"
        make_all_due(ctx)
        sent = flush()  # other tests' messages may be due too: look at this test's own
        assert {name: sent.get(name) for name in names} == {name: "Sent" for name in names}
        ctx.db.commit()
    finally:
        controller.stop()
    assert sorted(m[1][0] for m in inbox.messages) == ["r0@example.com", "r1@example.com"]  # nothing lost
    account.reload()
    assert (account.status, account.last_error, account.waiting) == ("Active", None, 0)
    for name in names:
        assert "attempt 3 failed" in lowcode.db.get_value("Email Queue", name, "attempt_log")


class SilentServer:
    """Accepts TCP connections and never says a word (a hung SMTP server)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted, self.held, self.closed = [], [], False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(datetime.datetime.now())
            self.held.append(conn)

    def close(self):
        self.closed = True
        self.sock.close()
        for conn in self.held:
            conn.close()


def test_the_request_that_queues_does_not_wait_on_the_smtp_server(ctx, unique, client, make_doctype, monkeypatch):
    """Ordering, not timing: when the compose request has answered, the job that sends has
    not finished (with Redis it has not even started; without Redis, as `lowcode serve`
    runs, it is held on a background thread by a server that never answers)."""
    embedded = not lowcode.jobs.redis_url()
    silent = SilentServer()
    monkeypatch.setattr(email_channel, "SMTP_TIMEOUT", 30)
    if embedded:
        lowcode.jobs.run_in_background()
    try:
        account = make_account(ctx, unique, silent.port, default_outgoing=1)
        doctype = make_doctype([{"fieldname": "email", "fieldtype": "Data", "label": "Email", "options": "Email"}])
        record = lowcode.get_doc({"doctype": doctype, "email": "c@example.com"}).insert()
        token = login(ctx, client, "Administrator")
        answer = client.post("/app/email", {"csrf_token": token, "doctype": doctype, "name": record.name,
                                            "to": "c@example.com", "subject": "quick", "message": "x"})
        assert answer.status_code == 302
        ctx.db.rollback()
        [queued] = lowcode.get_all("Email Queue", filters={"email_account": account.name},
                                   fields=["name", "status", "retry"])
        # Still waiting: the attempt cannot end before the silent server lets go.
        assert (queued["status"], queued["retry"]) == ("Not Sent", 0)
        if embedded:
            silent.close()  # the held attempt fails now, on the background thread
            lowcode.jobs.wait_for_background_jobs()
        else:
            assert silent.accepted == []  # answered before any SMTP connection was made
            monkeypatch.setattr(email_channel, "SMTP_TIMEOUT", 0.5)
            run_email_jobs(ctx)  # the worker's attempt: it waits on the silent server, then gives up
            assert len(silent.accepted) == 1
        ctx.db.rollback()
        assert lowcode.db.get_value("Email Queue", queued["name"], "retry") == 1
        account.reload()
        assert account.status == "Failing" and account.last_error and account.waiting == 1
    finally:
        silent.close()
        lowcode.jobs.run_in_background(False)


def test_email_queue_retry_now_and_cancel(ctx, unique, client):
    port = free_port()
    account = make_account(ctx, unique, port)
    first = sendmail(recipients="a@example.com", subject="one", message="<p>1</p>", email_account=account.name)
    second = sendmail(recipients="b@example.com", subject="two", message="<p>2</p>", email_account=account.name)
    ctx.db.commit()
    flush()
    ctx.db.sql("UPDATE `tabEmail Queue` SET `status`='Error', `retry`=5 WHERE `name`=%s", (first.name,))
    ctx.db.commit()
    clerk = make_user(unique, "clerk", ["Desk User"])
    token = login(ctx, client, clerk)
    refused = client.post("/api/method/lowcode.channels.email.retry_now", {"name": first.name},
                          HTTP_X_FRAPPE_CSRF_TOKEN=token)
    assert refused.status_code == 403
    token = login(ctx, client, "Administrator")
    assert client.get("/api/method/lowcode.channels.email.cancel", {"name": second.name}).status_code in (403, 405)
    inbox, controller = start_flaky(port)
    try:
        cancelled = client.post("/api/method/lowcode.channels.email.cancel", {"name": second.name},
                                HTTP_X_FRAPPE_CSRF_TOKEN=token)
        assert cancelled.status_code == 200, cancelled.content
        # "Retry now" through the form's action button (a POST of the form).
        form = client.get(f"/app/email-queue/{first.name}").content.decode()
        assert "Retry now" in form and "Cancel" in form
        retried = client.post(f"/app/email-queue/{first.name}", {"csrf_token": token, "_action": "app:0"})
        assert retried.status_code in (200, 302), retried.content[:500]
        ctx.db.rollback()
        run_email_jobs(ctx)
        make_all_due(ctx)
        flush()
        ctx.db.commit()
    finally:
        controller.stop()
    assert lowcode.db.get_value("Email Queue", first.name, "status") == "Sent"
    assert lowcode.db.get_value("Email Queue", second.name, "status") == "Cancelled"
    assert [m[1] for m in inbox.messages] == [["a@example.com"]]  # the cancelled one never went
    log = lowcode.db.get_value("Email Queue", second.name, "attempt_log")
    assert "cancel by Administrator" in log
    # Decided on the stored row: a sent or cancelled message cannot be retried or cancelled.
    for method, name in (("retry_now", first.name), ("cancel", second.name)):
        again = client.post(f"/api/method/lowcode.channels.email.{method}", {"name": name},
                            HTTP_X_FRAPPE_CSRF_TOKEN=token)
        assert again.status_code == 417 and "status" in again.content.decode()
    missing = client.post("/api/method/lowcode.channels.email.cancel", {"name": "no-such-row"},
                          HTTP_X_FRAPPE_CSRF_TOKEN=token)
    assert missing.status_code == 417 and "name" in missing.content.decode()


def run_email_jobs(ctx):
    """With Redis, run this site's queued sends here as a worker would."""
    ctx.db.commit()
    if not lowcode.jobs.redis_url():
        return
    from rq import Queue
    from lowcode.caches import redis_client
    queue = Queue("short", connection=redis_client(lowcode.jobs.redis_url()))
    for job in queue.get_jobs():
        payload = job.args[0] if job.args else {}
        if payload.get("site") == ctx.site and payload.get("method") == "lowcode.channels.email.send_queued":
            job.delete()
            email_channel.send_queued(**payload["kwargs"])
            ctx.db.commit()


def test_sms_gateway_500_shows_on_the_settings_until_it_recovers(ctx, unique, gateway):  # noqa: F811
    admin = make_user(unique, "smsadmin", ["System Manager"])
    settings = lowcode.get_doc("SMS Settings")
    status.mark_ok(settings)
    ctx.db.commit()
    gateway.fail = 2
    names = sms.send_sms([mobile(), mobile()], "gateway down")
    run_sms_jobs(ctx)
    settings = lowcode.get_doc("SMS Settings")
    assert settings.status == "Failing" and "500" in settings.last_error and settings.waiting >= 2
    assert len(admin_alerts(admin, "SMS Settings", "SMS Settings")) == 1
    assert all(lowcode.db.get_value("SMS Log", n, "status") == "Queued" for n in names)  # kept for a retry
    sms.retry_due(now=datetime.datetime.now() + datetime.timedelta(minutes=2))
    run_sms_jobs(ctx)
    assert all(lowcode.db.get_value("SMS Log", n, "status") == "Sent" for n in names)
    settings = lowcode.get_doc("SMS Settings")
    assert (settings.status, settings.last_error) == ("Active", None)
    # A refused message (422: that number) is the message's failure, a refused key (401) the settings'.
    for refuse, shown in ((422, "Active"), (401, "Failing"), (None, "Active")):
        gateway.refuse = refuse
        sms.send_sms([mobile()], "refusals")
        run_sms_jobs(ctx)
        assert lowcode.db.get_value("SMS Settings", "SMS Settings", "status") == shown, refuse
    assert len(admin_alerts(admin, "SMS Settings", "SMS Settings")) == 2


def test_webhook_500_is_kept_retried_later_and_shown_until_it_recovers(hooks_ctx, unique, receiver):  # noqa: F811
    ctx = hooks_ctx
    admin = make_user(unique, "hookadmin", ["System Manager"])
    target = receiver([500] * 6)  # two rounds of the job's three tries
    hook = make_webhook(target.url, webhook_headers=[{"key": "X-Token", "value": "tok-123"}])
    ctx.db.commit()
    new_todo("first")
    ctx.db.commit()
    run_webhook_jobs(ctx)
    hook.reload()
    assert hook.status == "Failing" and "500" in hook.last_error and hook.waiting == 1
    assert len(admin_alerts(admin, "Webhook", hook.name)) == 1
    [pending] = lowcode.get_all("Webhook Request Log", filters={"webhook": hook.name, "retry_after": ["is", "set"]},
                                fields=["name", "attempt", "retry_after"])
    assert pending["attempt"] == 3
    assert webhooks.retry_due(now=datetime.datetime.now()) == 0  # not before its time
    assert webhooks.retry_due(now=datetime.datetime.now() + datetime.timedelta(minutes=2)) == 1
    ctx.db.commit()
    run_webhook_jobs(ctx)  # the second round fails too: due again later
    assert len(target.requests) == 6
    [again] = lowcode.get_all("Webhook Request Log", filters={"webhook": hook.name, "retry_after": ["is", "set"]},
                              fields=["attempt", "retry_after"])
    assert again["attempt"] == 6 and str(again["retry_after"]) > str(pending["retry_after"])
    assert webhooks.retry_due(now=datetime.datetime.now() + datetime.timedelta(minutes=10)) == 1
    ctx.db.commit()
    run_webhook_jobs(ctx)  # the receiver is back: the same request arrives, once
    assert len(target.requests) == 7 and len({r["body"] for r in target.requests}) == 1
    assert b"first" in target.requests[-1]["body"] and target.requests[-1]["headers"]["X-Token"] == "tok-123"
    assert len({r["headers"]["Idempotency-Key"] for r in target.requests}) == 1  # one event, one key
    hook.reload()
    assert (hook.status, hook.last_error, hook.waiting) == ("Active", None, 0)
    assert not lowcode.get_all("Webhook Request Log", filters={"webhook": hook.name, "retry_after": ["is", "set"]})
    assert len(admin_alerts(admin, "Webhook", hook.name)) == 1


def test_flush_uses_one_connection_and_skips_an_unreachable_account(ctx, unique):
    port = free_port()
    account = make_account(ctx, unique, port)
    names = [sendmail(recipients=f"b{i}@example.com", subject=f"Bulk {i}", message="<p>x</p>",
                      email_account=account.name, delayed=True).name for i in range(3)]
    ctx.db.commit()
    done = flush()
    ctx.db.commit()
    # The first message found the server down; the others were not tried (no timeout each, no retry counted).
    assert done[names[0]] == "Not Sent" and names[1] not in done and names[2] not in done
    assert [lowcode.db.get_value("Email Queue", n, "retry") for n in names] == [1, 0, 0]
    inbox, controller = start_flaky(port)
    try:
        make_all_due(ctx)
        done = flush()
        ctx.db.commit()
    finally:
        controller.stop()
    assert [done[n] for n in names] == ["Sent"] * 3
    assert len(inbox.messages) == 3 and len(inbox.logins) == 1  # one connection (one login) for the batch
