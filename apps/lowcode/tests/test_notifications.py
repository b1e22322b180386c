"""Notifications (Frappe's Notification DocType) on both engines, sent through real
servers on loopback: e-mail to aiosmtpd, SMS to a loopback Kavenegar, system
notifications as Notification Logs and realtime events. Each test makes its own
DocType, so its notifications fire nowhere else."""
import datetime
import json
import uuid

import pytest

import lowcode
from lowcode import jobs
from lowcode.channels import notifications
from lowcode.exceptions import PermissionError, ValidationError
from lowcode.realtime import add_listener, remove_listener

from .desk_helpers import as_user, ensure_role, login, make_user
from .test_email_out import make_account, smtp  # noqa: F401 - smtp is a fixture
from .test_sms import e164, gateway, mobile  # noqa: F401 - gateway is a fixture

# The jobs a notification sets going: itself, then the e-mail or SMS it queues.
JOB_METHODS = ("lowcode.channels.notifications.send", "lowcode.channels.email.send_queued",
               "lowcode.channels.sms.deliver")


def run_jobs(ctx):
    """Commit, which sends the queued jobs: in-process without Redis; with Redis, this
    site's notification, e-mail and SMS jobs are taken off the shared queue and run here
    the way the in-process runner does (a failure becomes a Failed Job)."""
    ctx.db.commit()
    if not jobs.redis_url():
        return
    from rq import Queue
    from lowcode.caches import redis_client
    queue = Queue("short", connection=redis_client(jobs.redis_url()))
    for _round in range(5):  # a notification's job queues the e-mail's or SMS's
        found = [job for job in queue.get_jobs()
                 if job.args and job.args[0].get("site") == ctx.site and job.args[0].get("method") in JOB_METHODS]
        if not found:
            return
        for job in found:
            job.delete()
            jobs.run_inline(job.args[0])


@pytest.fixture
def record_type(make_doctype):
    """A DocType with the fields notifications read: e-mail, mobile, a User link, a date."""
    def make(**props):
        return make_doctype([
            {"fieldname": "title", "fieldtype": "Data", "label": "Title"},
            {"fieldname": "status", "fieldtype": "Select", "label": "Status", "options": "Open\nWon\nLost\nNotified"},
            {"fieldname": "email", "fieldtype": "Data", "options": "Email", "label": "Email"},
            {"fieldname": "mobile", "fieldtype": "Data", "options": "Phone", "label": "Mobile"},
            {"fieldname": "manager", "fieldtype": "Link", "options": "User", "label": "Manager"},
            {"fieldname": "due_date", "fieldtype": "Date", "label": "Due Date"},
            {"fieldname": "amount", "fieldtype": "Int", "label": "Amount"},
            {"fieldname": "note", "fieldtype": "Data", "label": "Note", "allow_on_submit": 1},
        ], title_field="title", **props)
    return make


def make_notification(unique, doctype, **values):
    doc = lowcode.get_doc({"doctype": "Notification", "name": f"N {unique} {uuid.uuid4().hex[:6]}",
                           "document_type": doctype, "channel": "System Notification",
                           "subject": "{{ doc.title }} changed", **values})
    doc.insert()
    return doc


def logs(doctype, name=None):
    rows = lowcode.db.sql("SELECT `for_user`, `subject`, `email_content` FROM `tabNotification Log` "
                          "WHERE `document_type`=%s" + (" AND `document_name`=%s" if name else "")
                          + " ORDER BY `for_user`, `creation`", (doctype, name) if name else (doctype,))
    return [tuple(r) for r in rows]


def new_record(doctype, **values):
    return lowcode.get_doc({"doctype": doctype, "title": "Rec", "status": "Open", **values}).insert()


def test_new_record_mails_the_document_address_and_role_users(ctx, unique, smtp, record_type):  # noqa: F811
    inbox, controller = smtp
    doctype = record_type()
    account = make_account(ctx, unique, controller.port)
    ensure_role(f"Deal Desk {unique}")
    desk = make_user(unique, "desk", [f"Deal Desk {unique}", "System Manager"])
    make_notification(unique, doctype, event="New", channel="Email", sender=account.name,
                      subject="New deal {{ doc.title }}", message="<p>Deal {{ doc.title }} for {{ doc.amount }}</p>",
                      recipients=[{"receiver_by_document_field": "email"},
                                  {"receiver_by_role": f"Deal Desk {unique}", "cc": "boss@example.com"}])
    rec = new_record(doctype, title="<Acme>", email="buyer@example.com", amount=120)
    run_jobs(ctx)
    assert len(inbox.messages) == 1
    mail_from, rcpt_tos, _raw = inbox.messages[0]
    assert mail_from == account.email_id
    assert sorted(rcpt_tos) == sorted(["buyer@example.com", desk, "boss@example.com"])
    msg = inbox.parsed()
    assert msg["Subject"] == "New deal <Acme>"  # a subject is plain text
    assert "Deal &lt;Acme&gt; for 120" in msg.get_body(("html",)).get_content()  # the body escapes values
    queue = lowcode.get_doc("Email Queue", {"reference_name": rec.name})
    assert (queue.reference_doctype, queue.status) == (doctype, "Sent")  # on the record's timeline

    rec.title = "Changed"
    rec.save()
    run_jobs(ctx)
    assert len(inbox.messages) == 1  # "New" fires on insert only


def test_save_and_value_change(ctx, unique, record_type):
    doctype = record_type()
    make_notification(unique, doctype, event="Value Change", value_changed="status",
                      subject="{{ doc.title }} is {{ doc.status }}",
                      recipients=[{"receiver_by_document_field": "owner"}])
    make_notification(unique, doctype, event="Save", subject="saved {{ doc.title }}",
                      recipients=[{"receiver_by_document_field": "manager"}])
    manager = make_user(unique, "mgr", ["System Manager"])
    rec = new_record(doctype, title="Alpha", manager=manager)
    run_jobs(ctx)
    # Insert: "Save" fires (Frappe's on_update runs on insert), "Value Change" does not.
    assert logs(doctype) == [(manager, "saved Alpha", None)]
    rec.amount = 5
    rec.save()
    run_jobs(ctx)
    assert [s for _u, s, _c in logs(doctype)] == ["saved Alpha", "saved Alpha"]  # unrelated: no value change
    rec.status = "Won"
    rec.save()
    run_jobs(ctx)
    rec.amount = 6
    rec.save()
    run_jobs(ctx)
    changes = [row for row in logs(doctype) if row[1] == "Alpha is Won"]
    # Once, to the owner (Administrator saved it: an alert reaches its own author too).
    assert changes == [("Administrator", "Alpha is Won", None)]


def test_submit_and_cancel(ctx, unique, record_type):
    doctype = record_type(is_submittable=1)
    make_notification(unique, doctype, event="Submit", subject="submitted {{ doc.title }}",
                      recipients=[{"receiver_by_document_field": "owner"}])
    make_notification(unique, doctype, event="Cancel", subject="cancelled {{ doc.title }}",
                      recipients=[{"receiver_by_document_field": "owner"}])
    rec = new_record(doctype, title="Order")
    run_jobs(ctx)
    assert logs(doctype) == []
    rec.submit()
    run_jobs(ctx)
    assert [s for _u, s, _c in logs(doctype)] == ["submitted Order"]
    rec.cancel()
    run_jobs(ctx)
    assert [s for _u, s, _c in logs(doctype)] == ["submitted Order", "cancelled Order"]


def test_condition_true_and_false(ctx, unique, record_type):
    doctype = record_type()
    make_notification(unique, doctype, event="New", condition="doc.amount > 100 and doc.status == 'Open'",
                      recipients=[{"receiver_by_document_field": "owner"},
                                  {"receiver_by_document_field": "manager", "condition": "doc.amount > 1000"}])
    manager = make_user(unique, "mgr", ["System Manager"])
    new_record(doctype, title="small", amount=50, manager=manager)
    new_record(doctype, title="big", amount=500, manager=manager)
    new_record(doctype, title="huge", amount=5000, manager=manager)
    run_jobs(ctx)
    assert sorted((u, s) for u, s, _c in logs(doctype)) == [
        ("Administrator", "big changed"), ("Administrator", "huge changed"), (manager, "huge changed")]


def test_days_before_and_after_send_once_a_day(ctx, unique, record_type):
    doctype = record_type()
    today = datetime.date(2031, 3, 10)
    make_notification(unique, doctype, event="Days Before", date_changed="due_date", days_in_advance=3,
                      subject="{{ doc.title }} due soon", recipients=[{"receiver_by_document_field": "owner"}])
    make_notification(unique, doctype, event="Days After", date_changed="due_date", days_in_advance=2,
                      subject="{{ doc.title }} overdue", recipients=[{"receiver_by_document_field": "owner"}])
    new_record(doctype, title="soon", due_date="2031-03-13")
    new_record(doctype, title="late", due_date="2031-03-08")
    new_record(doctype, title="other", due_date="2031-03-11")
    run_jobs(ctx)
    notifications.trigger_daily_alerts(today)
    run_jobs(ctx)
    notifications.trigger_daily_alerts(today)  # the scheduler ran it twice: nothing more
    run_jobs(ctx)
    assert sorted(s for _u, s, _c in logs(doctype)) == ["late overdue", "soon due soon"]
    notifications.trigger_daily_alerts(today + datetime.timedelta(days=1))  # the next day: "other" is 2 days off
    run_jobs(ctx)
    assert sorted(s for _u, s, _c in logs(doctype)) == ["late overdue", "soon due soon"]
    notifications.trigger_daily_alerts(datetime.date(2031, 3, 13))
    run_jobs(ctx)
    assert sorted(s for _u, s, _c in logs(doctype)) == ["late overdue", "other overdue", "soon due soon"]


def test_sms_reaches_the_gateway(ctx, unique, gateway, record_type):  # noqa: F811
    doctype = record_type()
    number = mobile()
    make_notification(unique, doctype, event="New", channel="SMS", subject="",
                      message="سلام {{ doc.title }}، مبلغ {{ doc.amount }}",
                      recipients=[{"receiver_by_document_field": "mobile"}])
    rec = new_record(doctype, title="رضا", mobile=number, amount=7)
    run_jobs(ctx)
    assert [r["form"]["receptor"] for r in gateway.requests] == [e164(number)]
    assert gateway.requests[0]["form"]["message"] == "سلام رضا، مبلغ 7"
    log = lowcode.get_doc("SMS Log", {"reference_name": rec.name})
    assert (log.reference_doctype, log.status) == (doctype, "Sent")


def test_system_notification_log_and_realtime(ctx, unique, record_type):
    doctype = record_type()
    manager = make_user(unique, "mgr", ["System Manager"])
    make_notification(unique, doctype, event="New", subject="Hello {{ doc.title }}",
                      message="<b>{{ doc.title }}</b>", recipients=[{"receiver_by_document_field": "manager"}])
    seen = []
    listener = add_listener(seen.append)
    try:
        rec = new_record(doctype, title="<i>x</i>", manager=manager)
        assert seen == [] and logs(doctype) == []  # nothing before the commit
        run_jobs(ctx)
    finally:
        remove_listener(listener)
    assert logs(doctype) == [(manager, "Hello <i>x</i>", "<b>&lt;i&gt;x&lt;/i&gt;</b>")]
    events = [p for p in seen if p["event"] == "notification"]
    assert len(events) == 1 and events[0]["room"] == f"user:{manager}" and events[0]["site"] == ctx.site
    message = events[0]["message"]
    assert (message["document_type"], message["document_name"], message["subject"]) == (doctype, rec.name,
                                                                                       "Hello <i>x</i>")
    assert lowcode.get_doc("Notification Log", message["name"]).for_user == manager


def test_role_recipients_exclude_users_who_cannot_read(ctx, unique, make_doctype, smtp):  # noqa: F811
    inbox, controller = smtp
    account = make_account(ctx, unique, controller.port)
    watchers, readers = f"Watchers {unique}", f"Readers {unique}"
    for role in (watchers, readers):
        ensure_role(role)
    doctype = make_doctype([{"fieldname": "title", "fieldtype": "Data", "label": "Title"}], permissions=[
        {"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1},
        {"role": readers, "read": 1}])
    may_read = make_user(unique, "reader", [watchers, readers])
    may_not = make_user(unique, "outsider", [watchers])
    make_notification(unique, doctype, event="New", subject="New {{ doc.title }}",
                      recipients=[{"receiver_by_role": watchers}])
    make_notification(unique, doctype, event="New", channel="Email", sender=account.name,
                      subject="Mail {{ doc.title }}", message="secret {{ doc.title }}",
                      recipients=[{"receiver_by_role": watchers}])
    lowcode.get_doc({"doctype": doctype, "title": "Confidential"}).insert()
    run_jobs(ctx)
    assert [u for u, _s, _c in logs(doctype)] == [may_read]
    assert [sorted(m[1]) for m in inbox.messages] == [[may_read]]
    assert not any(may_not in m[1] for m in inbox.messages)


def test_set_property_after_alert(ctx, unique, record_type):
    doctype = record_type()
    make_notification(unique, doctype, event="Save", set_property_after_alert="status", property_value="Notified",
                      recipients=[{"receiver_by_document_field": "owner"}])
    rec = new_record(doctype, title="Prop")
    run_jobs(ctx)
    assert lowcode.db.get_value(doctype, rec.name, "status") == "Notified"
    assert len(logs(doctype)) == 1  # the property's own save fires nothing again


def test_a_failing_template_is_logged_and_the_save_stands(ctx, unique, record_type):
    doctype = record_type()
    alert = make_notification(unique, doctype, event="New", subject="{{ 10 // doc.amount }}",
                              recipients=[{"receiver_by_document_field": "owner"}])
    rec = new_record(doctype, title="Zero", amount=0)
    run_jobs(ctx)
    assert lowcode.db.exists(doctype, rec.name)
    assert logs(doctype) == []
    failed = lowcode.db.sql("SELECT `error` FROM `tabFailed Job` WHERE `method`='lowcode.channels.notifications.send' "
                            "AND `kwargs` LIKE %s", (f"%{rec.name}%",), pluck=True)
    assert len(failed) == 1 and "ZeroDivisionError" in failed[0] and alert.name


@pytest.mark.parametrize("values, field", [
    ({"event": "Days After", "date_changed": "nope"}, "date_changed"),
    ({"event": "Days After", "date_changed": "title"}, "date_changed"),     # not a date
    ({"event": "Value Change", "value_changed": "nope"}, "value_changed"),
    ({"event": "Method", "method": "os.system"}, "method"),
    ({"event": "New", "condition": "doc.amount >"}, "condition"),
    ({"event": "New", "subject": "{{ doc.title "}, "subject"),
    ({"event": "New", "message": "{% if %}"}, "message"),
    ({"event": "New", "channel": "Email", "message": ""}, "message"),
    ({"event": "New", "set_property_after_alert": "nope"}, "set_property_after_alert"),
    ({"event": "New", "recipients": [{"receiver_by_document_field": "nope"}]}, "recipients"),
    ({"event": "New", "recipients": [{"receiver_by_role": "System Manager", "condition": "doc.("}]}, "recipients"),
])
def test_bad_config_is_refused_naming_the_field(ctx, unique, record_type, values, field):
    doctype = record_type()
    with pytest.raises(ValidationError) as e:
        make_notification(unique, doctype, **values)
    assert e.value.field == field
    assert lowcode.db.sql("SELECT COUNT(*) FROM `tabNotification` WHERE `document_type`=%s", (doctype,))[0][0] == 0


def test_configured_over_http_by_system_managers_only(ctx, unique, client, record_type):
    doctype = record_type()
    payload = {"name": f"Web {unique}", "document_type": doctype, "event": "Value Change", "value_changed": "nope",
               "channel": "System Notification", "subject": "x"}
    csrf = login(ctx, client, "Administrator")
    bad = client.post("/api/resource/Notification", json.dumps(payload), content_type="application/json",
                      HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert 400 <= bad.status_code < 500 and bad.json()["field"] == "value_changed"
    good = client.post("/api/resource/Notification", json.dumps(dict(payload, value_changed="status")),
                       content_type="application/json", HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert good.status_code == 200, good.content
    form = client.get(f"/app/notification/{payload['name'].replace(' ', '%20')}")
    assert form.status_code == 200 and b'name="value_changed"' in form.content
    assert b"notification_form" in form.content  # the script that suggests the DocType's fields
    fields = client.get("/api/method/lowcode.channels.notifications.get_fields", {"doctype": doctype})
    assert fields.status_code == 200
    by_name = {f["fieldname"]: f["fieldtype"] for f in fields.json()["message"]}
    assert by_name["due_date"] == "Date" and by_name["owner"] == "Link" and "status" in by_name
    agent = make_user(unique, "agent", ["Sales User"])
    csrf = login(ctx, client, agent)
    denied = client.post("/api/resource/Notification", json.dumps(dict(payload, name=f"Agent {unique}",
                                                                       value_changed="status")),
                         content_type="application/json", HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert denied.status_code == 403
    assert client.get("/api/method/lowcode.channels.notifications.get_fields", {"doctype": doctype}).status_code == 403
    with as_user(agent), pytest.raises(PermissionError):
        make_notification(unique, doctype, event="New")


def test_method_event_and_assignees(ctx, unique, record_type):
    from lowcode.desk.views.collaboration import assign
    doctype = record_type(is_submittable=1)
    make_notification(unique, doctype, event="Method", method="on_update_after_submit",
                      subject="amended {{ doc.title }}", send_to_all_assignees=1)
    first, second = make_user(unique, "first", ["System Manager"]), make_user(unique, "second", ["System Manager"])
    rec = new_record(doctype, title="Sub")
    assign(rec, [first, second])
    rec = lowcode.get_doc(doctype, rec.name)
    rec.submit()
    run_jobs(ctx)
    assert [s for _u, s, _c in logs(doctype) if s.startswith("amended")] == []  # submit is not that method
    rec = lowcode.get_doc(doctype, rec.name)
    rec.note = "changed after submit"
    rec.save()
    run_jobs(ctx)
    assert sorted((u, s) for u, s, _c in logs(doctype) if s.startswith("amended")) == [
        (first, "amended Sub"), (second, "amended Sub")]


def test_the_print_is_attached(ctx, unique, smtp, record_type):  # noqa: F811
    inbox, controller = smtp
    doctype = record_type()
    account = make_account(ctx, unique, controller.port)
    make_notification(unique, doctype, event="New", channel="Email", sender=account.name, attach_print=1,
                      subject="Quote {{ doc.title }}", message="<p>attached</p>",
                      recipients=[{"receiver_by_document_field": "email"}])
    rec = new_record(doctype, title="Q1", email="client@example.com")
    run_jobs(ctx)
    [attachment] = list(inbox.parsed().iter_attachments())
    assert attachment.get_filename() == f"{rec.name}.pdf" and attachment.get_content()[:5] == b"%PDF-"


def test_a_personal_sender_account_is_refused(ctx, unique, record_type):
    doctype = record_type()
    mine = lowcode.get_doc({"doctype": "Email Account", "email_account_name": f"Mine {unique}",
                            "email_id": f"mine-{unique}@example.com", "smtp_server": "127.0.0.1", "smtp_port": 25,
                            "enable_outgoing": 1, "user": "Administrator"}).insert()
    with pytest.raises(ValidationError) as e:
        make_notification(unique, doctype, event="New", channel="Email", sender=mine.name, message="x")
    assert e.value.field == "sender"


def test_a_broken_daily_notification_is_recorded_and_the_others_still_go(ctx, unique, record_type):
    doctype = record_type()
    broken = make_notification(unique, doctype, event="Days After", date_changed="due_date", days_in_advance=0,
                               subject="{{ doc.title }} today", recipients=[{"receiver_by_document_field": "owner"}])
    good = make_notification(unique, doctype, event="Days After", date_changed="due_date", days_in_advance=1,
                             subject="{{ doc.title }} yesterday", recipients=[{"receiver_by_document_field": "owner"}])
    new_record(doctype, title="A", due_date="2031-05-01")
    new_record(doctype, title="B", due_date="2031-05-02")
    # Its DocType went away after the notification was saved.
    ctx.db.sql("UPDATE `tabNotification` SET `document_type`='No Such Type' WHERE `name`=%s", (broken.name,))
    run_jobs(ctx)
    notifications.trigger_daily_alerts(datetime.date(2031, 5, 2))
    run_jobs(ctx)
    assert [s for _u, s, _c in logs(doctype)] == ["A yesterday"]
    assert lowcode.db.get_value("Notification", good.name, "last_daily_run") is not None
    assert lowcode.db.get_value("Notification", broken.name, "last_daily_run") is None
    failed = lowcode.db.sql("SELECT `kwargs` FROM `tabFailed Job` WHERE `job_name`=%s",
                            (f"Notification {broken.name}",), pluck=True)
    assert len(failed) == 1 and json.loads(failed[0]) == {"today": "2031-05-02", "notification": broken.name}


def test_the_desk_form_saves_and_names_the_bad_field(ctx, unique, client, record_type):
    from lowcode.utils import route_for
    doctype = record_type()
    csrf = login(ctx, client, "Administrator")
    page = client.get("/app/notification/new").content.decode()
    for field in ("__newname", "document_type", "date_changed", "value_changed", "subject", "message"):
        assert f'name="{field}"' in page, field
    form = {"csrf_token": csrf, "__newname": f"Desk {unique}", "document_type": doctype, "event": "Days Before",
            "date_changed": "title", "days_in_advance": "2", "channel": "System Notification",
            "subject": "{{ doc.title }} is due", "recipients-rows": "1",
            "recipients-1-receiver_by_document_field": "manager"}
    bad = client.post("/app/notification/new", form)
    assert bad.status_code == 417 and "date_changed" in bad.content.decode()
    ctx.db.rollback()
    assert not lowcode.db.exists("Notification", f"Desk {unique}")
    good = client.post("/app/notification/new", dict(form, date_changed="due_date"))
    assert good.status_code == 302, good.content[:800]
    ctx.db.rollback()
    saved = lowcode.get_doc("Notification", f"Desk {unique}")
    assert (saved.event, saved.date_changed, saved.days_in_advance) == ("Days Before", "due_date", 2)
    assert [r.receiver_by_document_field for r in saved.recipients] == ["manager"]
    assert route_for("Notification") == "notification"
