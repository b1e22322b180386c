"""Webhooks against a real HTTP server on loopback, started by each test: the body sent,
its signature, retries after a 500, the request log, conditions, the hidden secret and
the refusal of private targets (SSRF)."""
import base64
import hashlib
import hmac
import http.server
import json
import os

import pytest

import lowcode
from lowcode import jobs
from lowcode.tests.loopback_http import LoopbackHTTP
from lowcode.channels import webhooks
from lowcode.exceptions import ValidationError
from lowcode.sites import get_site_config, read_json, write_json
from lowcode.utils import Obj

from .desk_helpers import login, make_user

SECRET = "s3cret-for-tests"


class Receiver(LoopbackHTTP):
    """An HTTP server on 127.0.0.1 that records each request and answers the next
    status from ``statuses`` (200 once they run out)."""

    def __init__(self, statuses=()):
        self.requests = []
        self.statuses = list(statuses)
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _handle(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append({"method": self.command, "path": self.path,
                                          "headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(f"answer {status}".encode())

            do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, *args):
                pass

        super().__init__(Handler)
        self.url = f"http://127.0.0.1:{self.port}/hook"


@pytest.fixture
def receiver():
    servers = []

    def make(statuses=()):
        servers.append(Receiver(statuses))
        return servers[-1]
    yield make
    for s in servers:
        s.close()


@pytest.fixture
def hooks_ctx(ctx, bench):
    """The site allows private (loopback) targets and retries quickly; webhooks made by
    the test are removed afterwards so they fire in no other test."""
    path = os.path.join(bench, ctx.site, "site_config.json")
    conf = get_site_config(ctx.site, bench)
    extra = {"allow_private_webhook_targets": 1, "webhook_retry_seconds": 0.05}
    if any(conf.get(k) != v for k, v in extra.items()):
        write_json(path, {**read_json(path), **extra})
    ctx.conf.update(extra)
    yield ctx
    ctx.db.rollback()
    for name in ctx.db.sql("SELECT `name` FROM `tabWebhook`", pluck=True):
        lowcode.delete_doc("Webhook", name, ignore_permissions=True)
    ctx.db.commit()


def make_webhook(url, **values):
    doc = lowcode.get_doc({"doctype": "Webhook", "webhook_doctype": "ToDo", "webhook_docevent": "after_insert",
                           "request_url": url, "request_structure": "JSON", "enabled": 1,
                           "webhook_data": [{"fieldname": "description", "key": "text"},
                                            {"fieldname": "priority", "key": "priority"}], **values})
    doc.insert()
    return doc


def run_jobs(ctx):
    """Without Redis the deliveries already ran after the commit; with Redis, run this
    site's queued webhook jobs here as a worker would (other benches share the queue)."""
    url = jobs.redis_url()
    if not url:
        return
    from rq import Queue
    from lowcode.caches import redis_client
    queue = Queue("short", connection=redis_client(url))
    for job in queue.get_jobs():
        payload = job.args[0] if job.args else {}
        if payload.get("site") == ctx.site and payload.get("method") == "lowcode.channels.webhooks.deliver":
            job.delete()
            jobs.execute_job(payload)


def logs(webhook):
    return [Obj(r) for r in lowcode.get_all(
        "Webhook Request Log", filters={"webhook": webhook}, order_by="attempt asc",
        fields=["attempt", "status_code", "error", "headers", "data", "url", "response"])]


def new_todo(text, priority="Medium"):
    return lowcode.get_doc({"doctype": "ToDo", "description": text, "priority": priority,
                          "allocated_to": "Administrator"}).insert()


def test_json_body_is_signed_and_logged(hooks_ctx, receiver):
    ctx = hooks_ctx
    server = receiver()
    hook = make_webhook(server.url, enable_security=1, webhook_secret=SECRET,
                        webhook_headers=[{"key": "X-Source", "value": "crm"}])
    assert hook.webhook_secret == webhooks.MASK
    ctx.db.commit()
    new_todo("Call the customer", "High")
    assert server.requests == []  # nothing leaves before the commit
    ctx.db.commit()
    run_jobs(ctx)

    assert len(server.requests) == 1
    request = server.requests[0]
    assert request["method"] == "POST" and request["path"] == "/hook"
    assert json.loads(request["body"]) == {"text": "Call the customer", "priority": "High"}
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["X-Source"] == "crm"
    expected = base64.b64encode(hmac.new(SECRET.encode(), request["body"], hashlib.sha256).digest()).decode()
    assert request["headers"][webhooks.SIGNATURE_HEADER] == expected

    [log] = logs(hook.name)
    assert log.status_code == 200 and log.attempt == 1 and not log.error
    assert json.loads(log.data) == {"text": "Call the customer", "priority": "High"}
    assert SECRET not in log.headers and expected not in log.headers  # the log hides the signature
    assert json.loads(log.headers)["X-Source"] == "crm"

    # Removing the webhook takes its log and its secret along.
    lowcode.delete_doc("Webhook", hook.name)
    assert logs(hook.name) == [] and webhooks.get_secret(hook.name) is None


def test_a_500_is_retried_until_success(hooks_ctx, receiver):
    ctx = hooks_ctx
    server = receiver([500, 503, 200])
    hook = make_webhook(server.url, request_method="PUT")
    ctx.db.commit()
    new_todo("Retry me")
    ctx.db.commit()
    run_jobs(ctx)

    assert len(server.requests) == 3
    assert all(json.loads(r["body"])["text"] == "Retry me" for r in server.requests)
    assert [r["method"] for r in server.requests] == ["PUT"] * 3
    rows = logs(hook.name)
    assert [(r.attempt, r.status_code) for r in rows] == [(1, 500), (2, 503), (3, 200)]
    assert "500" in rows[0].error and rows[0].response == "answer 500" and not rows[2].error


def test_a_dead_receiver_is_tried_three_times(hooks_ctx, receiver):
    ctx = hooks_ctx
    server = receiver()
    url = server.url
    server.close()  # nothing listens there now
    hook = make_webhook(url)
    ctx.db.commit()
    new_todo("Nobody listens")
    ctx.db.commit()
    run_jobs(ctx)
    rows = logs(hook.name)
    assert [r.attempt for r in rows] == [1, 2, 3]
    assert all(r.error and "ConnectionError" in r.error and not r.status_code for r in rows)


def test_condition_false_sends_nothing_and_jinja_body_and_form(hooks_ctx, receiver):
    ctx = hooks_ctx
    server = receiver()
    jinja = make_webhook(server.url, condition="doc.priority == 'High'",
                         webhook_json='{"what": "{{ doc.description }}", "urgent": true}')
    form = make_webhook(server.url + "?form=1", request_structure="Form URL-Encoded", condition="doc.priority == 'Low'")
    ctx.db.commit()
    new_todo("Routine", "Medium")  # neither condition holds
    ctx.db.commit()
    run_jobs(ctx)
    assert server.requests == [] and logs(jinja.name) == [] and logs(form.name) == []

    new_todo("Fire", "High")
    new_todo("Later", "Low")
    ctx.db.commit()
    run_jobs(ctx)
    bodies = {r["path"]: r for r in server.requests}
    assert json.loads(bodies["/hook"]["body"]) == {"what": "Fire", "urgent": True}
    assert bodies["/hook?form=1"]["body"] == b"text=Later&priority=Low"
    assert bodies["/hook?form=1"]["headers"]["Content-Type"] == "application/x-www-form-urlencoded"


def test_a_rolled_back_change_is_never_sent(hooks_ctx, receiver):
    ctx = hooks_ctx
    server = receiver()
    make_webhook(server.url)
    ctx.db.commit()
    new_todo("Undone")
    ctx.db.rollback()
    run_jobs(ctx)
    assert server.requests == []


def test_bad_settings_are_refused_naming_the_field(hooks_ctx):
    with pytest.raises(ValidationError) as e:
        make_webhook("ftp://example.com/x")
    assert e.value.field == "request_url"
    with pytest.raises(ValidationError) as e:
        make_webhook("http://127.0.0.1:9/x", condition="doc.priority ==")
    assert e.value.field == "condition"
    with pytest.raises(ValidationError) as e:
        make_webhook("http://127.0.0.1:9/x", webhook_json="{{ doc.x ")
    assert e.value.field == "webhook_json"
    with pytest.raises(ValidationError) as e:
        make_webhook("http://127.0.0.1:9/x", enable_security=1)
    assert e.value.field == "webhook_secret"
    with pytest.raises(ValidationError) as e:
        make_webhook("http://127.0.0.1:9/x", webhook_data=[{"fieldname": "no_such_field", "key": "x"}])
    assert e.value.field == "webhook_data" and "no_such_field" in e.value.message
    with pytest.raises(ValidationError) as e:
        make_webhook("http://127.0.0.1:9/x", webhook_headers=[{"key": "X-Evil", "value": "a\r\nSet-Cookie: x"}])
    assert e.value.field == "webhook_headers"


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/x", "http://localhost/x", "http://10.1.2.3/x",
                                 "http://192.168.0.1/x", "http://169.254.169.254/latest/meta-data",
                                 "http://[::1]/x", "http://0.0.0.0/x"])
def test_private_targets_are_refused_unless_allowed(hooks_ctx, url):
    ctx = hooks_ctx
    ctx.conf["allow_private_webhook_targets"] = 0
    try:
        with pytest.raises(ValidationError) as e:
            make_webhook(url)
        assert e.value.field == "request_url"
    finally:
        ctx.conf["allow_private_webhook_targets"] = 1


def test_delivery_checks_the_target_again(hooks_ctx, receiver):
    """A webhook saved while private targets were allowed is not sent once they are not."""
    ctx = hooks_ctx
    server = receiver()
    hook = make_webhook(server.url)
    ctx.conf["allow_private_webhook_targets"] = 0
    try:
        name = webhooks.deliver(hook.name, server.url, "POST", {}, "{}")
    finally:
        ctx.conf["allow_private_webhook_targets"] = 1
    assert server.requests == []
    log = lowcode.get_doc("Webhook Request Log", name)
    assert log.attempt == 1 and "private" in log.error


def test_the_connected_socket_is_checked_too(receiver):
    """DNS rebinding: a name checked as public may resolve to a private address when the
    request connects; the socket's peer is checked before anything is sent."""
    import requests
    from lowcode.channels.public_http import public_session, refused_as_private
    server = receiver()
    for url in (server.url, server.url.replace("127.0.0.1", "localhost")):
        with pytest.raises(requests.ConnectionError) as e:
            public_session().post(url, data=b"{}", timeout=5)
        assert "private or local address" in str(refused_as_private(e.value))
    assert server.requests == []
    assert requests.post(server.url, data=b"{}", timeout=5).status_code == 200  # the server does answer


def test_the_secret_never_leaves_through_the_api(hooks_ctx, client, unique):
    ctx = hooks_ctx
    hook = make_webhook("http://127.0.0.1:9/x", enable_security=1, webhook_secret=SECRET)
    agent = make_user(unique, "agent", ["Sales User"])
    assert webhooks.get_secret(hook.name) == SECRET
    csrf = login(ctx, client, "Administrator")
    response = client.get(f"/api/resource/Webhook/{hook.name}")
    assert response.status_code == 200
    assert response.json()["data"]["webhook_secret"] == webhooks.MASK and SECRET not in response.content.decode()
    listed = client.get("/api/resource/Webhook", {"fields": '["*"]'})
    assert SECRET not in listed.content.decode()

    # Created through the API: the answer shows the mask; bad input is a 4xx naming the field.
    payload = {"webhook_doctype": "ToDo", "webhook_docevent": "on_update", "request_url": "http://127.0.0.1:9/y",
               "enable_security": 1, "webhook_secret": "api-made-secret"}
    made = client.post("/api/resource/Webhook", json.dumps(payload), content_type="application/json",
                       HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert made.status_code == 200 and "api-made-secret" not in made.content.decode()
    assert made.json()["data"]["webhook_secret"] == webhooks.MASK
    before = ctx.db.sql("SELECT COUNT(*) FROM `tabWebhook`")[0][0]
    bad = client.post("/api/resource/Webhook", json.dumps(dict(payload, request_url="file:///etc/passwd")),
                      content_type="application/json", HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert 400 <= bad.status_code < 500 and bad.json()["field"] == "request_url"
    ctx.db.rollback()
    assert ctx.db.sql("SELECT COUNT(*) FROM `tabWebhook`")[0][0] == before

    login(ctx, client, agent)
    assert client.get(f"/api/resource/Webhook/{hook.name}").status_code == 403
    assert client.get("/api/resource/Webhook").status_code == 403

    # Saving again with the mask keeps the stored secret.
    ctx.db.rollback()
    doc = lowcode.get_doc("Webhook", hook.name)
    doc.request_method = "PUT"
    doc.save()
    assert webhooks.get_secret(hook.name) == SECRET


def test_send_test_button_posts_the_latest_document(hooks_ctx, receiver, client, unique):
    ctx = hooks_ctx
    server = receiver()
    hook = make_webhook(server.url, webhook_docevent="on_trash")
    latest = new_todo(f"The latest one {unique}", "Low")
    agent = make_user(unique, "agent", ["Sales User"])
    csrf = login(ctx, client, "Administrator")
    page = client.get(f"/app/webhook/{hook.name}")
    assert "Send test" in page.content.decode()
    response = client.post(f"/app/webhook/{hook.name}", {"csrf_token": csrf, "_action": "app:0"})
    assert response.status_code == 302
    assert len(server.requests) == 1
    assert json.loads(server.requests[0]["body"]) == {"text": latest.description, "priority": "Low"}
    ctx.db.rollback()
    [log] = logs(hook.name)
    assert log.status_code == 200
    log_name = lowcode.get_all("Webhook Request Log", filters={"webhook": hook.name}, pluck="name")[0]
    assert response["Location"].endswith(f"/app/webhook-request-log/{log_name}")
    shown = client.get(f"/app/webhook-request-log/{log_name}")
    assert shown.status_code == 200 and "answer 200" in shown.content.decode()
    assert client.get("/app/webhook").status_code == 200

    # Others may not send tests, neither by the button nor by the method.
    csrf = login(ctx, client, agent)
    assert client.post(f"/app/webhook/{hook.name}", {"csrf_token": csrf, "_action": "app:0"}).status_code == 403
    r = client.post("/api/method/lowcode.channels.webhooks.send_test", {"webhook": hook.name},
                    HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 403
    assert len(server.requests) == 1


def test_disabled_and_rolled_back_webhooks_send_nothing(hooks_ctx, receiver):
    ctx = hooks_ctx
    server = receiver()
    make_webhook(server.url, enabled=0)
    ctx.db.commit()
    # A webhook whose insert is rolled back, after a save in the same transaction saw it:
    make_webhook(server.url + "?gone=1")
    new_todo("Seen by the uncommitted webhook")
    ctx.db.rollback()
    new_todo("After the rollback")  # the cached map forgot the webhook that never was
    ctx.db.commit()
    run_jobs(ctx)
    assert server.requests == []
    assert lowcode.get_all("Webhook Request Log") == []


def test_old_request_logs_are_pruned(hooks_ctx):
    ctx = hooks_ctx
    hook = make_webhook("http://127.0.0.1:9/x")
    old = webhooks._log(hook.name, "ToDo", "x", 1, hook.request_url, {}, "{}", error="old")
    new = webhooks._log(hook.name, "ToDo", "y", 1, hook.request_url, {}, "{}", error="new")
    ctx.db.sql("UPDATE `tabWebhook Request Log` SET `creation`='2020-01-01 00:00:00' WHERE `name`=%s", (old,))
    webhooks.prune_request_logs()
    assert lowcode.get_all("Webhook Request Log", filters={"webhook": hook.name}, pluck="name") == [new]
