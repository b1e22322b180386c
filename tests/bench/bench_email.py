"""E-mail out at scale: N messages to an SMTP server (aiosmtpd) on loopback, started here.

- raw: ``smtplib`` sends N ready-made messages over one connection (the baseline: what
  the SMTP server and the socket cost, nothing of ours);
- queue: N ``sendmail(..., delayed=True)`` calls (build the MIME message, write the Email
  Queue row and its recipient), committed every ``COMMIT_EVERY``, as a bulk send would;
- flush: ``flush()`` until the queue is empty, committed after each call, as the
  scheduler's minute job does (each call sends at most one batch).

Reported: messages/s for each and for queue + flush together, against the raw rate.
Every message is counted at the server, so a lost or doubled one fails the run.

Run by run_bench.py (``--emails``, ``--email-only``, ``--no-email``); ``measure()`` is also
called with a tiny N by apps/lowcode/tests/test_bench_email_smoke.py.
"""
import smtplib
import socket
import time
from email.message import EmailMessage

import lowcode
from lowcode.context import local

try:  # run from run_bench.py (tests/bench on the path) or imported as tests.bench.bench_email
    from bench_report import Figure
except ImportError:  # pragma: no cover - the smoke test imports it as a package module
    from tests.bench.bench_report import Figure

COMMIT_EVERY = 100
BODY = "<p>سلام {i}،</p><p>This is message {i} of the benchmark, with a little <b>HTML</b>.</p>"


class Counter:
    """An aiosmtpd handler that only counts what arrives (and the recipients)."""

    def __init__(self):
        self.messages = 0
        self.recipients = set()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages += 1
        self.recipients.update(envelope.rcpt_tos)
        return "250 OK"


def start_server():
    from aiosmtpd.controller import Controller
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = Counter()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    return handler, controller


def raw_send(port, n):
    """Seconds for n ready-made messages over one smtplib connection."""
    messages = []
    for i in range(n):
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = "raw@example.com", f"raw{i}@example.com", f"Raw {i}"
        msg.set_content(BODY.format(i=i), subtype="html")
        messages.append((f"raw{i}@example.com", msg.as_bytes()))
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as server:
        for rcpt, data in messages:
            server.sendmail("raw@example.com", [rcpt], data)
    return time.perf_counter() - started


def measure(run, n, tag="bench"):
    """Fill ``run["email"]`` with the three rates for n messages on the current site."""
    from lowcode.channels.email import flush, sendmail
    db = local.db
    handler, controller = start_server()
    try:
        raw_seconds = raw_send(controller.port, n)
        if handler.messages != n:
            raise RuntimeError(f"raw: the server got {handler.messages} of {n} messages")
        handler.messages, handler.recipients = 0, set()
        lowcode.set_user("Administrator")
        account = lowcode.get_doc({"doctype": "Email Account", "email_account_name": f"Bench mail {tag}",
                                   "email_id": f"bench-{tag}@example.com", "smtp_server": "127.0.0.1",
                                   "smtp_port": controller.port, "enable_outgoing": 1,
                                   "send_limit_per_minute": 0}).insert()
        db.commit()
        started = time.perf_counter()
        for i in range(n):
            sendmail(f"to{i}-{tag}@example.com", f"Message {i}", BODY.format(i=i), email_account=account.name,
                     delayed=True)
            if (i + 1) % COMMIT_EVERY == 0:
                db.commit()
        db.commit()
        queue_seconds = time.perf_counter() - started
        started = time.perf_counter()
        flushes, outcomes = 0, {}
        while True:
            done = flush()
            db.commit()
            flushes += 1
            if not done:
                break
            for status in done.values():
                outcomes[status] = outcomes.get(status, 0) + 1
        flush_seconds = time.perf_counter() - started
    finally:
        controller.stop()
    db.begin(write=False)
    sent = db.sql("SELECT COUNT(*) FROM `tabEmail Queue` WHERE `email_account`=%s AND `status`='Sent'",
                  (account.name,))[0][0]
    db.commit()
    if handler.messages != n or sent != n or len(handler.recipients) != n:
        raise RuntimeError(f"flush: server got {handler.messages} messages for {len(handler.recipients)} "
                           f"recipients, {sent} rows Sent, of {n} (outcomes {outcomes})")
    run["email"] = {"n": n, "raw_seconds": raw_seconds, "raw_per_s": n / raw_seconds,
                    "queue_seconds": queue_seconds, "queue_per_s": n / queue_seconds,
                    "flush_seconds": flush_seconds, "flush_per_s": n / flush_seconds, "flush_calls": flushes,
                    "total_per_s": n / (queue_seconds + flush_seconds)}
    return run["email"]


def figures(run):
    e = run.get("email")
    if not e:
        return []
    raw = e["raw_per_s"]
    return [
        Figure("e-mail raw smtplib send (one connection)", raw, "msgs/s", raw=raw,
               detail=f"{e['n']:,} messages in {e['raw_seconds']:.1f}s"),
        Figure("e-mail queue (sendmail, delayed)", e["queue_per_s"], "msgs/s", raw=raw,
               detail=f"{e['queue_seconds']:.1f}s, commit every {COMMIT_EVERY}"),
        Figure("e-mail flush to SMTP (scheduler job)", e["flush_per_s"], "msgs/s", raw=raw,
               detail=f"{e['flush_seconds']:.1f}s in {e['flush_calls']} flush calls"),
        Figure("e-mail queue + flush end to end", e["total_per_s"], "msgs/s", raw=raw,
               detail=f"{e['queue_seconds'] + e['flush_seconds']:.1f}s for {e['n']:,}"),
    ]
