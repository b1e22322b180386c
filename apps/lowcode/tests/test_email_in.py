"""Incoming e-mail against the project's real IMAP server (Dovecot on loopback, started by
scripts/services.sh), on both engines. Messages go in with IMAP APPEND, each test in a
folder of its own, and come out through ``poll`` (the scheduler's job) or the push
endpoint: threading and sender matching, Leads and Cases for unknown senders, charsets,
sanitised HTML, attachments and their limit, malformed MIME, bounces, a crash in the
middle of an import, a down server, and who may read what came in."""
import email.utils
import imaplib
import os
import shutil
import socket
import time
from email.message import EmailMessage

import pytest

import lowcode
from lowcode.channels import bounces, email_in
from lowcode.channels.email import sendmail
from lowcode.channels.email_in import poll, poll_account
from lowcode.exceptions import ValidationError
from lowcode.realtime import add_listener, remove_listener
from tests.services import imap_server

from .desk_helpers import login, make_user


class Mailbox:
    """One test's folder on the IMAP server."""

    def __init__(self, unique):
        self.server = imap_server()
        self.folder = f"T{unique}"
        self.conn = imaplib.IMAP4(self.server["host"], self.server["port"], timeout=10)
        self.conn.login(self.server["user"], self.server["password"])
        self.conn.create(self.folder)

    def append(self, raw):
        if isinstance(raw, EmailMessage):
            raw = raw.as_bytes()
        typ, data = self.conn.append(self.folder, None, None, raw)
        assert typ == "OK", data

    def close(self):
        try:
            self.conn.delete(self.folder)
            self.conn.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


@pytest.fixture
def mailbox(unique):
    box = Mailbox(unique)
    yield box
    box.close()


def make_account(ctx, unique, mailbox, **extra):
    doc = lowcode.get_doc({"doctype": "Email Account", "email_account_name": f"Inbox {unique}",
                           "email_id": f"inbox-{unique}@example.com", "enable_outgoing": 0, "enable_incoming": 1,
                           "email_server": mailbox.server["host"], "incoming_port": mailbox.server["port"],
                           "login_id": mailbox.server["user"], "password": mailbox.server["password"],
                           "imap_folder": mailbox.folder, **extra})
    doc.insert()
    ctx.db.commit()
    return doc


def message(sender, subject, body="<p>Hello</p>", **headers):
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "inbox@example.com"
    msg["Subject"] = subject
    msg["Message-ID"] = headers.pop("message_id", None) or email.utils.make_msgid(domain="example.org")
    for key, value in headers.items():
        msg[key.replace("_", "-")] = value
    msg.set_content("Hello")
    msg.add_alternative(body, subtype="html")
    return msg


def received(account):
    return lowcode.get_all("Communication", filters={"email_account": account.name, "sent_or_received": "Received"},
                           fields=["name", "subject", "sender", "reference_doctype", "reference_name", "customer",
                                   "status", "content", "message_id", "uid", "in_reply_to"],
                           order_by="uid asc", limit_page_length=0)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_poll_threads_replies_matches_senders_and_makes_leads(ctx, unique, mailbox):
    account = make_account(ctx, unique, mailbox, append_to="Lead")
    customer = lowcode.get_doc({"doctype": "Customer", "customer_name": f"Pars {unique}",
                                "email_id": f"office-{unique}@pars.example"}).insert()
    lead = lowcode.get_doc({"doctype": "Lead", "first_name": "Known",
                            "email_id": f"known-{unique}@example.com"}).insert()
    # An e-mail we sent about the customer: the reply (from anyone) joins it.
    sent = lowcode.get_doc({"doctype": "Communication", "communication_medium": "Email", "sent_or_received": "Sent",
                            "subject": "Quote", "message_id": f"<quote-{unique}@crm.example>",
                            "reference_doctype": "Customer", "reference_name": customer.name}).insert()
    ctx.db.commit()
    mailbox.append(message(f"Someone <someone-{unique}@elsewhere.example>", "Re: Quote",
                           In_Reply_To=sent.message_id, References=sent.message_id))
    mailbox.append(message(f"KNOWN-{unique}@example.com", "Question"))
    mailbox.append(message(f"Reza Ahmadi <new-{unique}@example.net>", "=?utf-8?b?2LPZhNin2YU=?="))
    events = []
    listener = add_listener(events.append)
    try:
        result = poll()
        ctx.db.commit()
    finally:
        remove_listener(listener)
    assert result[account.name] == {"imported": 3}
    reply, known, new = received(account)
    # Open desks of each record hear of its new mail (names only).
    rooms = {e["message"]["communication"]: e["room"] for e in events if e["event"] == "new_communication"}
    assert rooms[reply["name"]] == f"doc:Customer/{customer.name}" and rooms[known["name"]] == f"doc:Lead/{lead.name}"
    assert (reply["reference_doctype"], reply["reference_name"], reply["customer"]) == ("Customer", customer.name,
                                                                                        customer.name)
    assert reply["in_reply_to"] == sent.message_id and reply["status"] == "Open"
    assert (known["reference_doctype"], known["reference_name"]) == ("Lead", lead.name)
    assert known["sender"] == f"known-{unique}@example.com"
    assert new["subject"] == "سلام" and new["reference_doctype"] == "Lead"  # encoded-word subject
    made = lowcode.get_doc("Lead", new["reference_name"])
    assert (made.email_id, made.first_name, made.last_name) == (f"new-{unique}@example.net", "Reza", "Ahmadi")
    stored = lowcode.get_doc("Email Account", account.name)
    assert stored.last_uid == 3 and stored.uidvalidity and stored.status == "Active"
    # A second poll finds nothing new; saving the account form keeps the UID mark.
    assert poll_account(account.name) == {"imported": 0}
    stored.append_to = "Lead"
    stored.last_uid = 0
    stored.save()
    ctx.db.commit()
    assert lowcode.db.get_value("Email Account", account.name, "last_uid") == 3


def test_unknown_sender_opens_a_case_when_the_account_appends_to_case(ctx, unique, mailbox):
    account = make_account(ctx, unique, mailbox, append_to="Case")
    mailbox.append(message(f"client-{unique}@example.com", "چاپگر کار نمی‌کند", "<p>کمک!</p>"))
    poll_account(account.name)
    ctx.db.commit()
    [comm] = received(account)
    assert comm["reference_doctype"] == "Case"
    case = lowcode.get_doc("Case", comm["reference_name"])
    assert case.raised_by == f"client-{unique}@example.com" and case.channel == "E-mail"
    assert case.subject == "چاپگر کار نمی‌کند" and "کمک!" in case.description
    with pytest.raises(ValidationError) as e:
        lowcode.get_doc({"doctype": "Email Account", "email_account_name": f"Bad {unique}", "enable_outgoing": 0,
                         "email_id": f"bad-{unique}@example.com", "enable_incoming": 1, "email_server": "h",
                         "append_to": "ToDo"}).insert()
    assert e.value.field == "append_to"


def test_charsets_html_and_attachments(ctx, unique, mailbox, client):
    account = make_account(ctx, unique, mailbox, attachment_limit=1)
    msg = EmailMessage()
    msg["From"] = f"رضا <reza-{unique}@example.com>"
    msg["Subject"] = "Invoice"
    msg["Message-ID"] = f"<att-{unique}@example.com>"
    msg.set_content("plain")
    msg.add_alternative('<p onclick="steal()">سلام<script>alert(1)</script><b>bold</b></p>', subtype="html")
    msg.add_attachment(b"%PDF-1.4 small", maintype="application", subtype="pdf", filename="invoice.pdf")
    msg.add_attachment(b"x" * (1024 * 1024 + 1), maintype="application", subtype="zip", filename="big.zip")
    msg.add_attachment(b"<script>alert(1)</script>", maintype="text", subtype="html", filename="page.html")
    mailbox.append(msg)
    # Persian in windows-1256 (labelled), Hebrew in iso-8859-8 labelled as Latin-1.
    for n, (text, charset, label) in enumerate((("سلام دوست گرامي", "windows-1256", "windows-1256"),
                                                ("שלום עולם", "iso-8859-8", "iso-8859-1"))):
        raw = (f"From: sender-{unique}@example.com\r\nSubject: charset {n}\r\nMessage-ID: <cs{n}-{unique}@x>\r\n"
               f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset={label}\r\n"
               f"Content-Transfer-Encoding: 8bit\r\n\r\n").encode() + text.encode(charset) + b"\r\n"
        mailbox.append(raw)
    poll_account(account.name)
    ctx.db.commit()
    first, persian, hebrew = received(account)
    assert "سلام" in first["content"] and "<b>bold</b>" in first["content"]
    assert "script" not in first["content"] and "onclick" not in first["content"]
    assert "big.zip" in first["content"] and "over the 1048576 allowed" in first["content"]  # dropped, said why
    assert "page.html" in first["content"]  # a type the site refuses is dropped too
    assert "سلام دوست گرامي" in persian["content"] and "שלום עולם" in hebrew["content"]
    files = lowcode.get_all("File", filters={"attached_to_doctype": "Communication",
                                             "attached_to_name": first["name"]},
                            fields=["file_name", "file_url", "is_private"])
    assert [(f["file_name"], f["is_private"]) for f in files] == [("invoice.pdf", 1)]
    assert files[0]["file_url"].startswith("/private/files/")
    login(ctx, client, "Administrator")
    answer = client.get(files[0]["file_url"])
    assert answer.status_code == 200 and answer["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in answer["Content-Security-Policy"]


def test_malformed_mime_is_imported_readable_or_kept_with_the_reason(ctx, unique, mailbox):
    account = make_account(ctx, unique, mailbox, append_to="Lead")
    # A multipart whose closing boundary never comes and whose part has an unknown charset.
    mailbox.append((f"From: broken-{unique}@example.com\r\nSubject: broken\r\nMessage-ID: <b-{unique}@x>\r\n"
                    "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"XYZ\"\r\n\r\n"
                    "--XYZ\r\nContent-Type: text/plain; charset=no-such-charset\r\n\r\nstill readable\r\n").encode())
    mailbox.append(b"this is not an e-mail at all\r\n\r\njust text\r\n")
    # A sender the Lead refuses (no domain): kept with the Lead's reason, not retried forever.
    mailbox.append(message(f"someone-{unique}@intranet", "from the intranet", message_id=f"<i-{unique}@x>"))
    mailbox.append(message(f"after-{unique}@example.com", "after"))
    assert poll_account(account.name) == {"imported": 2}
    ctx.db.commit()
    broken, after = received(account)
    assert "still readable" in broken["content"] and after["subject"] == "after"
    not_mail, refused = lowcode.get_all("Unhandled Email", filters={"email_account": account.name},
                                        fields=["uid", "reason", "raw", "message_id"], order_by="uid asc")
    assert not_mail["uid"] == 2 and "no sender address" in not_mail["reason"]
    assert "just text" in not_mail["raw"]
    assert refused["uid"] == 3 and refused["message_id"] == f"<i-{unique}@x>"
    assert "not a valid e-mail address" in refused["reason"] and "(field email_id)" in refused["reason"]
    assert not lowcode.get_all("Lead", filters={"email_id": f"someone-{unique}@intranet"})
    assert lowcode.db.get_value("Email Account", account.name, "last_uid") == 4


def test_crash_in_the_middle_of_an_import_imports_once(ctx, unique, mailbox):
    """The attachment cannot be written (the files folder is a file): the import fails
    after the Communication was inserted; everything rolls back with the UID mark, and
    the next poll imports the message once."""
    account = make_account(ctx, unique, mailbox)
    msg = message(f"crash-{unique}@example.com", "with file")
    msg.add_attachment(b"%PDF-1.4 x", maintype="application", subtype="pdf", filename="a.pdf")
    mailbox.append(msg)
    folder = os.path.join(ctx.site_path, "private", "files")
    os.makedirs(folder, exist_ok=True)
    shutil.move(folder, folder + f".{unique}")
    try:
        with open(folder, "w") as f:
            f.write("in the way")
        result = poll_account(account.name)
        ctx.db.commit()
    finally:
        os.remove(folder)
        shutil.move(folder + f".{unique}", folder)
    assert "error" in result and result["imported"] == 0
    assert received(account) == [] and not lowcode.db.get_value("Email Account", account.name, "last_uid")
    assert lowcode.db.get_value("Email Account", account.name, "last_error").startswith("IMAP: ")
    assert poll_account(account.name) == {"imported": 1}
    ctx.db.commit()
    assert poll_account(account.name) == {"imported": 0}
    # Even with the UID mark lost (a new UIDVALIDITY looks the same), the message stays single.
    ctx.db.sql("UPDATE `tabEmail Account` SET `last_uid`=0 WHERE `name`=%s", (account.name,))
    ctx.db.commit()
    assert poll_account(account.name) == {"imported": 0}
    ctx.db.commit()
    [comm] = received(account)
    assert len(lowcode.get_all("File", filters={"attached_to_name": comm["name"]})) == 1


def dsn(unique, recipient, status, action="failed", original_id=None):
    msg = EmailMessage()
    msg["From"] = "Mail Delivery System <MAILER-DAEMON@mx.example>"
    msg["Subject"] = "Undelivered Mail Returned to Sender"
    msg["Message-ID"] = email.utils.make_msgid()
    msg.set_content("Your message could not be delivered.")
    msg.make_mixed()
    raw = msg.as_bytes().replace(b"multipart/mixed", b"multipart/report; report-type=delivery-status", 1)
    boundary = msg.get_boundary().encode()
    report = (b"Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\n"
              b"Final-Recipient: rfc822; " + recipient.encode() + b"\r\nAction: " + action.encode() +
              b"\r\nStatus: " + status.encode() + b"\r\nDiagnostic-Code: smtp; 550 no such user\r\n")
    if original_id:  # the headers of the message that bounced
        report += (b"\r\n--" + boundary + b"\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: " +
                   original_id.encode() + b"\r\nSubject: Hi\r\n")
    closing = b"--" + boundary + b"--"
    return raw.replace(closing, b"--" + boundary + b"\r\n" + report + b"\r\n" + closing)


def test_bounces_mark_addresses_and_sending_skips_them(ctx, unique, mailbox, client):
    account = make_account(ctx, unique, mailbox, enable_outgoing=1, smtp_server="127.0.0.1", smtp_port=free_port())
    hard, soft, daemon = (f"{tag}-{unique}@example.com" for tag in ("hard", "soft", "daemon"))
    lead = lowcode.get_doc({"doctype": "Lead", "first_name": "Bouncing", "email_id": hard}).insert()
    earlier = sendmail(recipients=[hard, soft], subject="Hi", message="<p>x</p>", email_account=account.name)
    ctx.db.commit()
    mailbox.append(dsn(unique, hard, "5.1.1", original_id=earlier.message_id))
    mailbox.append(dsn(unique, soft, "4.2.2", action="delayed"))
    mailbox.append((f"From: postmaster@mx.example\r\nX-Failed-Recipients: {daemon}\r\nSubject: failure\r\n"
                    f"Message-ID: <d-{unique}@x>\r\n\r\nThe mail server said: 550 5.7.1 rejected\r\n").encode())
    assert poll_account(account.name) == {"imported": 0}  # bounces are not conversations
    ctx.db.commit()
    assert received(account) == []
    assert bounces.is_invalid_email(hard) and bounces.is_invalid_email(f"Bob <{hard.upper()}>")
    assert bounces.is_invalid_email(daemon) and not bounces.is_invalid_email(soft)
    assert lowcode.db.get_value("Email Bounce", soft, "soft_bounces") == 1
    assert lowcode.db.get_value("Email Bounce", hard, "last_status") == "5.1.1"
    rows = {r.recipient: (r.status, r.error) for r in lowcode.get_doc("Email Queue", earlier.name).recipients}
    assert rows[hard][0] == "Error" and "bounced 5.1.1" in rows[hard][1] and rows[soft][0] != "Error"
    # Shown on the lead, skipped by sendmail (on the queue row, not an error).
    [item] = bounces.timeline("Lead", lead.name)
    assert hard in item["content"] and item["kind"] == "Email Bounce"
    login(ctx, client, "Administrator")
    form = client.get(f"/app/lead/{lead.name}").content.decode()
    assert f"E-mail to {hard} bounced (5.1.1)" in form
    queue = sendmail(recipients=[hard, f"ok-{unique}@example.com"], subject="Hi", message="<p>x</p>",
                     email_account=account.name)
    rows = {r.recipient: (r.status, r.error) for r in queue.recipients}
    assert rows[hard][0] == "Skipped" and "bounced" in rows[hard][1]
    assert rows[f"ok-{unique}@example.com"][0] == "Not Sent" and queue.status == "Not Sent"
    only_bad = sendmail(recipients=hard, subject="Hi", message="<p>x</p>", email_account=account.name)
    assert only_bad.status == "Cancelled" and "marked invalid" in only_bad.attempt_log
    ctx.db.rollback()


def test_a_down_server_is_shown_on_its_account_and_spares_the_others(ctx, unique, mailbox):
    good = make_account(ctx, unique, mailbox)
    down = make_account(ctx, f"{unique}d", mailbox, email_account_name=f"A down {unique}",
                        incoming_port=free_port())
    mailbox.append(message(f"x-{unique}@example.com", "still comes"))
    started = time.monotonic()
    result = poll()
    ctx.db.commit()
    assert time.monotonic() - started < 15
    assert "ConnectionRefused" in result[down.name]["error"] and result[good.name] == {"imported": 1}
    assert lowcode.db.get_value("Email Account", down.name, "last_error").startswith("IMAP: ConnectionRef")
    assert lowcode.db.get_value("Email Account", good.name, "status") == "Active"
    assert lowcode.db.get_value("Email Account", down.name, "status") == "Failing"
    # A wrong password is a failure of that account too, never a crash of the poll.
    ctx.db.sql("UPDATE `tabEmail Account` SET `enable_incoming`=0 WHERE `name`=%s", (down.name,))
    doc = lowcode.get_doc("Email Account", good.name)
    doc.password = "wrong-password-123"
    doc.save()
    ctx.db.commit()
    assert "error" in poll()[good.name]
    ctx.db.commit()
    assert "wrong-password-123" not in lowcode.db.get_value("Email Account", good.name, "status")


def test_tls_and_starttls_with_a_verified_certificate(ctx, unique, mailbox, monkeypatch):
    """The server's certificate is checked: untrusted, the poll fails on the account;
    trusted (SSL_CERT_FILE names it), mail comes in over TLS and over STARTTLS."""
    tls = make_account(ctx, unique, mailbox, use_ssl_for_incoming=1, incoming_port=mailbox.server["tls_port"])
    mailbox.append(message(f"tls-{unique}@example.com", "over tls"))
    assert "CERTIFICATE_VERIFY_FAILED" in poll_account(tls.name)["error"]
    ctx.db.commit()
    assert received(tls) == []
    monkeypatch.setenv("SSL_CERT_FILE", mailbox.server["ca"])
    assert poll_account(tls.name) == {"imported": 1}
    ctx.db.commit()
    starttls = make_account(ctx, f"{unique}s", mailbox, email_account_name=f"Starttls {unique}", use_starttls=1)
    assert poll_account(starttls.name) == {"imported": 1}
    ctx.db.commit()
    assert [c["subject"] for c in received(starttls)] == ["over tls"]
    with pytest.raises(ValidationError) as e:
        lowcode.get_doc({"doctype": "Email Account", "email_account_name": f"Both {unique}", "enable_outgoing": 0,
                         "email_id": f"both-{unique}@example.com", "enable_incoming": 1, "email_server": "h",
                         "use_starttls": 1, "use_ssl_for_incoming": 1}).insert()
    assert e.value.field == "use_starttls"


def test_push_endpoint_needs_the_token_and_post(ctx, unique, mailbox, client, monkeypatch):
    token = f"push-token-{unique}-0123456789"
    account = make_account(ctx, unique, mailbox, inbound_token=token)
    assert lowcode.db.get_value("Email Account", account.name, "inbound_token") == "*" * 8
    assert email_in.get_inbound_token(account.name) == token
    url = "/api/method/lowcode.channels.email_in.receive_pushed"
    raw = message(f"pushed-{unique}@example.com", "pushed", "<p>via push</p>").as_bytes()
    query = f"?account={account.name.replace(' ', '%20')}"
    wrong = client.post(f"{url}{query}&token=wrong-{token}", data=raw, content_type="message/rfc822")
    assert wrong.status_code == 403
    assert client.get(f"{url}{query}&token={token}").status_code in (403, 405)
    ok = client.post(f"{url}{query}&token={token}", data=raw, content_type="message/rfc822")
    assert ok.status_code == 200, ok.content
    again = client.post(f"{url}{query}&token={token}", data=raw, content_type="message/rfc822")
    assert again.status_code == 200 and again.json()["message"]["communication"] is None  # pushed twice: once
    ctx.db.rollback()
    [comm] = received(account)
    assert comm["name"] == ok.json()["message"]["communication"] and "via push" in comm["content"]
    monkeypatch.setattr(email_in, "MAX_MESSAGE_BYTES", 1000)
    big = client.post(f"{url}{query}&token={token}", data=raw + b"x" * 2000, content_type="message/rfc822")
    assert big.status_code == 413
    # The token never shows in the API.
    login(ctx, client, "Administrator")
    answer = client.get(f"/api/resource/Email Account/{account.name}")
    assert answer.status_code == 200 and token not in answer.content.decode()


def test_received_mail_is_read_only_by_those_allowed(ctx, unique, mailbox, client):
    """Received mail is read with the record it is about: a Sales User sees the mail of
    their own lead, not of another's; a user without CRM roles sees none; the accounts,
    bounces and unhandled mail are for System Managers."""
    account = make_account(ctx, unique, mailbox)
    agent = make_user(unique, "agent", ["Sales User"])
    outsider = make_user(unique, "outsider", ["Blogger"])
    mine = lowcode.get_doc({"doctype": "Lead", "first_name": "Mine", "lead_owner": agent,
                            "email_id": f"mine-{unique}@example.com"}).insert()
    other = lowcode.get_doc({"doctype": "Lead", "first_name": "Other",
                             "email_id": f"other-{unique}@example.com"}).insert()
    ctx.db.commit()
    mailbox.append(message(mine.email_id, f"for agent {unique}"))
    mailbox.append(message(other.email_id, f"private matter {unique}"))
    mailbox.append(message(f"nobody-{unique}@example.com", f"about nothing {unique}"))  # no record: all may read
    poll_account(account.name)
    ctx.db.commit()
    to_mine, to_other, about_nothing = received(account)
    assert (to_mine["reference_name"], to_other["reference_name"]) == (mine.name, other.name)
    assert about_nothing["reference_name"] is None
    login(ctx, client, outsider)
    listing = client.get("/api/resource/Communication", {"fields": '["subject", "message_id", "email_account"]'})
    assert listing.status_code == 403 and f"private matter {unique}" not in listing.content.decode()
    for doctype in ("Email Account", "Unhandled Email", "Email Bounce"):
        assert client.get(f"/api/resource/{doctype}").status_code == 403
    login(ctx, client, agent)
    listing = client.get("/api/resource/Communication", {
        "fields": '["subject", "message_id", "sender"]', "limit_page_length": "0",
        "filters": f'[["email_account", "=", "{account.name}"]]'})
    assert listing.status_code == 200
    assert sorted(r["subject"] for r in listing.json()["data"]) == [f"about nothing {unique}",
                                                                    f"for agent {unique}"]
    assert client.get(f"/api/resource/Communication/{to_other['name']}").status_code == 403
    assert client.get(f"/api/resource/Communication/{to_mine['name']}").status_code == 200
    assert client.get(f"/api/resource/Email Account/{account.name}").status_code == 403
