"""Outgoing e-mail against a real SMTP server (aiosmtpd) on loopback, on both engines:
the bytes that arrive (headers, right-to-left HTML, plain-text part, attachment,
threading), the queue with retries while the server is down, the per-account rate
limit, and the SMTP password kept out of documents, API answers and logs.

Messages are sent with ``flush()`` (the scheduler's job) after the commit: on the
SQLite site the in-process job has already sent them by then, on the MariaDB site
(with Redis) the RQ job would wait for a worker."""
import email
import email.policy
import socket
import time

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

import lowcode
from lowcode import auth
from lowcode.channels.email import flush, get_password, sendmail
from lowcode.exceptions import ValidationError

PASSWORD = "s3cret-smtp-Pa55"


class Inbox:
    def __init__(self):
        self.messages, self.logins = [], []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        self.logins.append((auth_data.login.decode(), auth_data.password.decode()))
        ok = auth_data.password.decode() == PASSWORD
        return AuthResult(success=ok, handled=ok)  # not handled: the server answers 535 itself

    def parsed(self, i=-1):
        return email.message_from_bytes(self.messages[i][2], policy=email.policy.default)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_smtp(port=None):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port or free_port(), authenticator=inbox.authenticate,
                            auth_require_tls=False, ready_timeout=10)
    controller.start()
    return inbox, controller


@pytest.fixture
def smtp():
    inbox, controller = start_smtp()
    yield inbox, controller
    controller.stop()


def make_account(ctx, unique, port, **extra):
    doc = lowcode.get_doc({"doctype": "Email Account", "email_account_name": f"Sales {unique}",
                           "email_id": f"sales-{unique}@example.com", "smtp_server": "127.0.0.1",
                           "smtp_port": port, "password": PASSWORD, "enable_outgoing": 1,
                           "send_limit_per_minute": 0, **extra})
    doc.insert()
    return doc


def send_and_flush(ctx, **kwargs):
    queue = sendmail(**kwargs)
    ctx.db.commit()
    flush()
    ctx.db.commit()
    return lowcode.get_doc("Email Queue", queue.name)


def test_rtl_message_with_attachment_arrives(ctx, unique, smtp):
    inbox, controller = smtp
    account = make_account(ctx, unique, controller.port, signature="<p>با احترام</p>")
    queue = send_and_flush(ctx, recipients=["Reza <reza@example.com>"], cc="dana@example.com",
                           bcc=["hidden@example.com"], subject="پیش‌فاکتور شما",
                           message="<p>سلام رضا،</p><p>پیش‌فاکتور <b>پیوست</b> است.</p>",
                           attachments=[{"fname": "quote.pdf", "fcontent": b"%PDF-1.4 test"}],
                           email_account=account.name)
    assert queue.status == "Sent", queue.attempt_log
    assert len(inbox.messages) == 1
    mail_from, rcpt_tos, raw = inbox.messages[0]
    assert mail_from == account.email_id
    assert sorted(rcpt_tos) == ["dana@example.com", "hidden@example.com", "reza@example.com"]
    msg = inbox.parsed()
    assert msg["Subject"] == "پیش‌فاکتور شما"
    assert msg["To"] == "Reza <reza@example.com>" and msg["Cc"] == "dana@example.com"
    assert msg["Bcc"] is None and b"hidden@example.com" not in raw  # bcc only in the envelope
    assert msg["Message-ID"] == queue.message_id and msg["Content-Language"] == "fa"
    html = msg.get_body(("html",)).get_content()
    assert '<html lang="fa" dir="rtl">' in html and "پیش‌فاکتور <b>پیوست</b>" in html and "با احترام" in html
    text = msg.get_body(("plain",)).get_content()
    assert "سلام رضا،" in text and "<b>" not in text
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_filename() == "quote.pdf" and attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == b"%PDF-1.4 test"
    assert inbox.logins == [(account.email_id, PASSWORD)]  # the stored password reached the server


def test_reply_carries_thread_headers(ctx, unique, smtp):
    inbox, controller = smtp
    account = make_account(ctx, unique, controller.port)
    first = send_and_flush(ctx, recipients="a@example.com", subject="שלום", message="<p>שלום עולם</p>",
                           email_account=account.name)
    second = send_and_flush(ctx, recipients="a@example.com", subject="Re: שלום", message="<p>תודה</p>",
                            email_account=account.name, in_reply_to=first.message_id)
    third = send_and_flush(ctx, recipients="a@example.com", subject="Re: שלום", message="<p>again</p>",
                           email_account=account.name, in_reply_to=second.message_id)
    assert inbox.parsed(0)["Content-Language"] == "he"
    assert '<html lang="he" dir="rtl">' in inbox.parsed(0).get_body(("html",)).get_content()
    assert inbox.parsed(1)["In-Reply-To"] == first.message_id
    assert inbox.parsed(2)["In-Reply-To"] == second.message_id
    assert inbox.parsed(2)["References"].split() == [first.message_id, second.message_id]
    assert third.status == "Sent"


def test_down_server_keeps_the_message_and_retries(ctx, unique):
    port = free_port()
    account = make_account(ctx, unique, port)
    started = time.monotonic()
    queue = send_and_flush(ctx, recipients="x@example.com", subject="Hello", message="<p>Hi</p>",
                           email_account=account.name)
    assert time.monotonic() - started < 10  # a refused connection does not hang the sender
    assert queue.status == "Not Sent" and queue.retry >= 1 and queue.send_after
    assert "attempt 1 failed" in queue.attempt_log and "ConnectionRefused" in queue.attempt_log
    inbox, controller = start_smtp(port)
    try:
        flush()  # still backing off: nothing is sent early
        ctx.db.commit()
        assert inbox.messages == []
        ctx.db.sql("UPDATE `tabEmail Queue` SET `send_after`=%s WHERE `name`=%s", ("2000-01-01 00:00:00", queue.name))
        ctx.db.commit()
        flush()
        ctx.db.commit()
    finally:
        controller.stop()
    queue = lowcode.get_doc("Email Queue", queue.name)
    assert queue.status == "Sent" and len(inbox.messages) == 1
    assert inbox.parsed()["Subject"] == "Hello"


def test_rate_limit_per_account(ctx, unique, smtp):
    inbox, controller = smtp
    account = make_account(ctx, unique, controller.port, send_limit_per_minute=2)
    names = [sendmail(recipients="r@example.com", subject=f"n{i}", message="<p>x</p>",
                      email_account=account.name).name for i in range(3)]
    ctx.db.commit()
    flush()
    ctx.db.commit()
    statuses = [lowcode.db.get_value("Email Queue", n, "status") for n in names]
    assert statuses.count("Sent") == 2 and statuses.count("Not Sent") == 1 and len(inbox.messages) == 2
    waiting = names[statuses.index("Not Sent")]
    assert "rate limit" in lowcode.db.get_value("Email Queue", waiting, "attempt_log")
    # A minute later (the sent rows aged, the wait over) the third one goes.
    ctx.db.sql("UPDATE `tabEmail Queue` SET `modified`=%s, `send_after`=NULL WHERE `email_account`=%s",
               ("2000-01-01 00:00:00", account.name))
    ctx.db.commit()
    flush()
    ctx.db.commit()
    assert lowcode.db.get_value("Email Queue", waiting, "status") == "Sent" and len(inbox.messages) == 3


def test_password_is_never_in_documents_or_api(ctx, unique, client, smtp):
    inbox, controller = smtp
    account = make_account(ctx, unique, controller.port)
    queue = send_and_flush(ctx, recipients="p@example.com", subject="Hi", message="<p>x</p>",
                           email_account=account.name)
    assert get_password(account.name) == PASSWORD
    stored = ctx.db.sql("SELECT `password` FROM `tabEmail Account` WHERE `name`=%s", (account.name,))[0][0]
    assert stored == "*" * 8
    assert PASSWORD not in (queue.message + (queue.attempt_log or ""))
    session = auth.start_session("Administrator", desk=True)
    ctx.db.commit()
    client.cookies["sid"] = session.sid
    answer = client.get(f"/api/resource/Email Account/{account.name}")
    assert answer.status_code == 200 and PASSWORD not in answer.content.decode()
    assert answer.json()["data"]["password"] == "*" * 8
    # Saving the masked value back keeps the real password.
    doc = lowcode.get_doc("Email Account", account.name)
    doc.signature = "<p>thanks</p>"
    doc.save()
    ctx.db.commit()
    assert get_password(account.name) == PASSWORD
    versions = ctx.db.sql("SELECT `data` FROM `tabVersion` WHERE `ref_doctype`='Email Account' AND `docname`=%s",
                          (account.name,))
    assert all(PASSWORD not in (v[0] or "") for v in versions)


def test_bad_input_names_the_field(ctx, unique, smtp):
    inbox, controller = smtp
    account = make_account(ctx, unique, controller.port)
    with pytest.raises(ValidationError) as e:
        sendmail(recipients="not-an-address", subject="x", message="x", email_account=account.name)
    assert e.value.field == "recipients"
    with pytest.raises(ValidationError) as e:
        sendmail(recipients="a@example.com", subject="x", message="x", cc="a@b\r\nBcc: evil@x",
                 email_account=account.name)
    assert e.value.field == "cc"
    with pytest.raises(ValidationError) as e:
        sendmail(recipients="a@example.com", subject="x", message="x", email_account=account.name,
                 attachments=[{"fname": "big.bin", "fcontent": b"0" * (25 * 1024 * 1024 + 1)}])
    assert e.value.field == "attachments"
    assert not lowcode.get_all("Email Queue", filters={"email_account": account.name})
    with pytest.raises(ValidationError) as e:
        lowcode.get_doc({"doctype": "Email Account", "email_account_name": f"Bad {unique}",
                         "email_id": f"b-{unique}@example.com", "smtp_server": "h", "use_tls": 1,
                         "use_ssl": 1}).insert()
    assert e.value.field == "use_ssl"


def test_email_action_on_a_record_sends_template_and_pdf(ctx, unique, client, smtp, make_doctype):
    """The form's "Email" action: the compose page filled from an Email Template for the
    record, sent with the record's PDF; the message is a Communication on the record."""
    inbox, controller = smtp
    account = make_account(ctx, unique, controller.port, default_outgoing=1)
    doctype = make_doctype([{"fieldname": "title", "fieldtype": "Data", "label": "Title"},
                            {"fieldname": "email", "fieldtype": "Data", "label": "Email", "options": "Email"}])
    with_mail = lowcode.get_doc({"doctype": doctype, "title": "مشتری", "email": "c@example.com"}).insert()
    without = lowcode.get_doc({"doctype": doctype, "title": "No mail"}).insert()
    template = lowcode.get_doc({"doctype": "Email Template", "template_name": f"Hello {unique}",
                                "reference_doctype": doctype, "subject": "سلام {{ doc.title }}",
                                "response": "<p>{{ doc.title }} عزیز، سند پیوست است.</p>"}).insert()
    session = auth.start_session("Administrator", desk=True)
    ctx.db.commit()
    client.cookies["sid"] = session.sid
    route = f"/app/{doctype.lower().replace(' ', '-')}"
    form = client.get(f"{route}/{with_mail.name}").content.decode()
    assert f"/app/email?doctype={doctype.replace(' ', '%20')}&amp;name={with_mail.name}" in form
    assert "/app/email?" not in client.get(f"{route}/{without.name}").content.decode()
    page = client.get("/app/email", {"doctype": doctype, "name": with_mail.name, "template": template.name})
    text = page.content.decode()
    assert page.status_code == 200 and 'value="c@example.com"' in text and "سلام مشتری" in text
    # Bad input: a clear 417 naming the field, nothing queued.
    bad = client.post("/app/email", {"csrf_token": session.csrf_token, "doctype": doctype, "name": with_mail.name,
                                     "to": "nobody", "subject": "x", "message": "x"})
    assert bad.status_code == 417 and "recipients" in bad.content.decode()
    ctx.db.rollback()
    assert not lowcode.get_all("Email Queue", filters={"reference_name": with_mail.name})
    typed = client.post("/app/email", {"csrf_token": session.csrf_token, "doctype": doctype, "name": with_mail.name,
                                       "to": "c@example.com", "subject": "typed", "message": "line 1\r\n2 < 3 & co"})
    assert typed.status_code == 302
    ctx.db.rollback()
    flush()
    ctx.db.commit()
    typed_html = inbox.parsed().get_body(("html",)).get_content()
    assert "line 1<br>" in typed_html and "2 &lt; 3 &amp; co" in typed_html
    sent = client.post("/app/email", {"csrf_token": session.csrf_token, "doctype": doctype, "name": with_mail.name,
                                      "to": "c@example.com", "subject": "", "message": "", "template": template.name,
                                      "attach_pdf": "1"})
    assert sent.status_code == 302 and sent["Location"] == f"{route}/{with_mail.name}"
    ctx.db.rollback()
    flush()
    ctx.db.commit()
    [queued] = lowcode.get_all("Email Queue", filters={"reference_doctype": doctype, "reference_name": with_mail.name,
                                                       "subject": "سلام مشتری"},
                               fields=["name", "status", "communication"])
    assert queued["status"] == "Sent"
    msg = inbox.parsed()
    assert msg["Subject"] == "سلام مشتری" and msg["From"] == account.email_id
    [pdf] = list(msg.iter_attachments())
    assert pdf.get_filename() == f"{with_mail.name}.pdf" and pdf.get_content().startswith(b"%PDF")
    comm = lowcode.get_doc("Communication", queued["communication"])
    assert (comm.reference_doctype, comm.reference_name, comm.sent_or_received) == (doctype, with_mail.name, "Sent")
    assert comm.subject == "سلام مشتری" and "عزیز" in comm.content
    form = client.get(f"{route}/{with_mail.name}").content.decode()  # on the record's timeline
    assert f"/app/communication/{comm.name}" in form and "سلام مشتری" in form


def test_wrong_password_is_logged_without_secrets_and_shown_on_the_account(ctx, unique, smtp):
    inbox, controller = smtp
    account = make_account(ctx, unique, controller.port, password="wrong-Pa55word-xyz")
    queue = send_and_flush(ctx, recipients="w@example.com", subject="Hi", message="<p>x</p>",
                           email_account=account.name)
    assert queue.status == "Not Sent" and inbox.messages == [] and queue.retry == 1
    assert "SMTPAuthenticationError" in queue.attempt_log and "wrong-Pa55word-xyz" not in queue.attempt_log
    account.reload()
    assert account.status == "Failing" and account.last_error.startswith("SMTP: SMTPAuthentication")
    assert account.waiting == 1 and account.failing_since
    # The admin fixes the password; the next due attempt goes and the account shows OK.
    doc = lowcode.get_doc("Email Account", account.name)
    doc.password = PASSWORD
    doc.save()
    ctx.db.sql("UPDATE `tabEmail Queue` SET `send_after`=NULL WHERE `name`=%s", (queue.name,))
    ctx.db.commit()
    assert flush() == {queue.name: "Sent"}
    ctx.db.commit()
    assert lowcode.db.get_value("Email Account", account.name, "status") == "Active" and len(inbox.messages) == 1
    # Sending the same row again sends nothing twice.
    from lowcode.channels.email import send_queued
    assert send_queued(queue.name) == "Sent" and len(inbox.messages) == 1


def test_personal_accounts_and_the_email_permission(ctx, unique, client, smtp, make_doctype):
    """A user's own account sends their mail and nobody else's; the Email action needs
    the "email" permission on the record, not only read."""
    inbox, controller = smtp
    for role in (f"Mailer {unique}", f"Reader {unique}"):
        lowcode.get_doc({"doctype": "Role", "role_name": role}).insert()
    users = {}
    for tag in ("mailer", "reader"):
        users[tag] = lowcode.get_doc({"doctype": "User", "email": f"{tag}-{unique}@example.com", "first_name": tag,
                                      "roles": [{"role": f"{tag.title()} {unique}"}]}).insert().name
    own = make_account(ctx, unique, controller.port, user=users["mailer"], email_id=f"mailer-{unique}@example.com")
    doctype = make_doctype([{"fieldname": "email", "fieldtype": "Data", "label": "Email", "options": "Email"}],
                           permissions=[{"role": f"Mailer {unique}", "read": 1, "email": 1},
                                        {"role": f"Reader {unique}", "read": 1}])
    record = lowcode.get_doc({"doctype": doctype, "email": "k@example.com"}).insert()
    ctx.db.commit()
    ctx.user = users["mailer"]
    queue = lowcode.sendmail(recipients="k@example.com", subject="mine", message="<p>x</p>")  # the public name
    ctx.db.commit()
    flush()
    ctx.db.commit()
    queue = lowcode.get_doc("Email Queue", queue.name)
    assert queue.email_account == own.name and inbox.parsed()["From"] == own.email_id
    ctx.user = users["reader"]
    with pytest.raises(lowcode.exceptions.PermissionError):
        sendmail(recipients="k@example.com", subject="not yours", message="x", email_account=own.name)
    ctx.user = "Administrator"
    ctx.db.rollback()
    route = f"/app/{doctype.lower().replace(' ', '-')}/{record.name}"
    for tag, status in (("reader", 403), ("mailer", 200)):
        session = auth.start_session(users[tag], desk=True)
        ctx.db.commit()
        client.cookies["sid"] = session.sid
        page = client.get("/app/email", {"doctype": doctype, "name": record.name})
        assert page.status_code == status, tag
        assert ("/app/email?" in client.get(route).content.decode()) == (tag == "mailer")


def test_starttls_with_a_verified_certificate(ctx, unique, tmp_path, monkeypatch):
    """use_tls: STARTTLS before the login, the server's certificate verified (a server the
    client does not trust gets nothing: the attempt is logged and retried later)."""
    import ssl
    import subprocess
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    inbox = Inbox()
    sessions = []

    class Recording(Inbox):
        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            sessions.append(session.ssl is not None)
            return await inbox.handle_DATA(server, session, envelope)

    controller = Controller(Recording(), hostname="127.0.0.1", port=free_port(), tls_context=tls,
                            require_starttls=True, authenticator=inbox.authenticate, ready_timeout=10)
    controller.start()
    try:
        account = make_account(ctx, unique, controller.port, use_tls=1)
        untrusted = send_and_flush(ctx, recipients="t@example.com", subject="TLS", message="<p>x</p>",
                                   email_account=account.name)
        assert untrusted.status == "Not Sent" and "SSLCertVerificationError" in untrusted.attempt_log
        assert inbox.messages == []
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client now trusts this server
        ctx.db.sql("UPDATE `tabEmail Queue` SET `send_after`=NULL WHERE `name`=%s", (untrusted.name,))
        ctx.db.commit()
        assert flush() == {untrusted.name: "Sent"}
        ctx.db.commit()
    finally:
        controller.stop()
    assert sessions == [True] and inbox.logins == [(account.email_id, PASSWORD)]


def test_message_about_a_deleted_record_is_sent_once(ctx, unique, smtp, make_doctype):
    inbox, controller = smtp
    account = make_account(ctx, unique, controller.port)
    doctype = make_doctype([{"fieldname": "email", "fieldtype": "Data", "label": "Email", "options": "Email"}])
    record = lowcode.get_doc({"doctype": doctype, "email": "gone@example.com"}).insert()
    ctx.db.commit()
    queue = sendmail(recipients="gone@example.com", subject="bye", message="<p>x</p>", email_account=account.name,
                     reference_doctype=doctype, reference_name=record.name)
    ctx.db.sql(f"DELETE FROM `tab{doctype}` WHERE `name`=%s", (record.name,))  # gone before the send
    ctx.db.commit()
    flush()
    ctx.db.commit()
    flush()
    ctx.db.commit()
    assert lowcode.db.get_value("Email Queue", queue.name, "status") == "Sent" and len(inbox.messages) == 1
