"""Idempotency keys of what jobs send (jobs.idempotency_key), on both engines: an e-mail
queued twice by the same job is one Email Queue row with a stable Message-ID, and a webhook
request whose key was answered 2xx is not sent again. The crash that makes a job run twice
is test_fault_worker_kill.py; these are the rules it relies on."""
import json

import lowcode
from lowcode.channels import webhooks
from lowcode.channels.email import sendmail

from .test_email_out import make_account, smtp  # noqa: F401 - fixture
from .test_webhooks import hooks_ctx, make_webhook, new_todo, receiver, run_jobs  # noqa: F401 - fixtures


def _send(account, unique, subject="Once"):
    return sendmail(recipients=["buyer@example.com"], subject=f"{subject} {unique}", message="<p>x</p>",
                    email_account=account.name)


def test_a_job_queues_its_email_once(ctx, unique, smtp):  # noqa: F811
    account = make_account(ctx, unique, smtp[1].port)
    ctx.flags.job_id = f"job-{unique}"
    try:
        first, other = _send(account, unique), _send(account, unique, "Other")
        twice = _send(account, unique, "Twice"), _send(account, unique, "Twice")
        ctx.cache.pop("idempotency_keys")  # the job's next run (a new context) does the same again
        again, twice_again = _send(account, unique), (_send(account, unique, "Twice"), _send(account, unique, "Twice"))
    finally:
        ctx.flags.job_id = None
    assert first.name == again.name != other.name
    assert first.idempotency_key and first.idempotency_key != other.idempotency_key
    assert first.message_id == f"<{first.idempotency_key}@example.com>"  # the same on a resend
    assert ctx.db.sql("SELECT COUNT(*) FROM `tabEmail Queue` WHERE `subject`=%s", (f"Once {unique}",))[0][0] == 1
    # The same message sent twice by one run is two messages, and still two after a run again.
    assert twice[0].name != twice[1].name and [d.name for d in twice_again] == [d.name for d in twice]
    # Outside a job nothing ties two sends together: each is its own message.
    plain = [_send(account, unique, "Plain") for _ in range(2)]
    assert plain[0].name != plain[1].name and not plain[0].idempotency_key


def test_a_webhook_request_answered_is_not_sent_again(hooks_ctx, receiver, unique):  # noqa: F811
    ctx = hooks_ctx
    server = receiver([500])
    hook = make_webhook(server.url)
    ctx.db.commit()
    new_todo(f"Call {unique}")
    ctx.db.commit()
    run_jobs(ctx)
    assert len(server.requests) == 2  # a 500, then the retry: one key for both
    keys = {r["headers"]["Idempotency-Key"] for r in server.requests}
    assert len(keys) == 1 and len(keys.pop()) == 40
    key = server.requests[0]["headers"]["Idempotency-Key"]
    request = {"url": server.url, "http_method": "POST", "headers": {"Content-Type": "application/json"},
               "body": json.dumps({"text": f"Call {unique}"})}
    ok_log = webhooks.deliver(hook.name, idempotency_key=key, **request)  # the job run again
    assert len(server.requests) == 2
    assert lowcode.db.get_value("Webhook Request Log", ok_log, "status_code") == 200
    assert lowcode.db.get_value("Webhook Request Log", ok_log, "idempotency_key") == key
    webhooks.deliver(hook.name, idempotency_key=f"other-{unique}", **request)
    assert len(server.requests) == 3 and server.requests[2]["headers"]["Idempotency-Key"] == f"other-{unique}"
