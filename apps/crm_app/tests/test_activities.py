"""Activities: the customer is filled from the record an activity is linked to; tasks
track overdue and completion; the daily and hourly jobs (mark_overdue_tasks,
send_task_reminders); and the ICS feed of the calendar over HTTP."""
import datetime

import icalendar

import lowcode

from crm_app.activities import linked_customer, mark_overdue_tasks, send_task_reminders
from crm_app.conversion import convert_lead
from crm_app.tests.helpers import (as_user, days_from_today, make_customer, make_lead, make_opportunity,
                                   make_product, make_user, qualify, refresh, today, token)


def _note(reference_doctype, reference_name, **values):
    return lowcode.get_doc(dict({"doctype": "Note", "title": "about it", "reference_doctype": reference_doctype,
                                 "reference_name": reference_name}, **values)).insert()


# -- customer from the reference -----------------------------------------------------------------

def test_customer_from_a_converted_lead(ctx):
    lead = qualify(make_lead(company_name="Linked Lead Co"))
    assert _note("Lead", lead.name).customer is None
    customer = convert_lead(lead.name)["customer"]
    assert _note("Lead", lead.name).customer == customer


def test_customer_from_an_opportunity(ctx):
    customer = make_customer().name
    opp = make_opportunity(customer)
    for doctype, values in (("Task", {"subject": "prepare"}), ("Call Log", {"phone": "09121234567"}),
                            ("Event", {"subject": "pitch", "starts_on": "2030-01-01 09:00:00"}),
                            ("Communication", {"subject": "offer"})):
        doc = lowcode.get_doc(dict(values, doctype=doctype, reference_doctype="Opportunity",
                                   reference_name=opp.name)).insert()
        assert doc.customer == customer, doctype


def test_no_customer_from_an_opportunity_of_an_unconverted_lead(ctx):
    lead = make_lead()
    opp = make_opportunity(lead.name, opportunity_from="Lead")
    assert _note("Opportunity", opp.name).customer is None


def test_customer_from_a_quotation(ctx):
    customer = make_customer().name
    quotation = lowcode.get_doc({"doctype": "Quotation", "party_name": customer,
                                 "items": [{"product": make_product(rate=1), "qty": 1}]}).insert()
    assert _note("Quotation", quotation.name).customer == customer


def test_customer_from_a_contact(ctx):
    customer = make_customer().name
    contact = lowcode.get_doc({"doctype": "Contact", "first_name": "Ali",
                               "links": [{"link_doctype": "Customer", "link_name": customer}]}).insert()
    assert _note("Contact", contact.name).customer == customer
    assert linked_customer("Contact", contact.name) == customer
    loose = lowcode.get_doc({"doctype": "Contact", "first_name": "Nobody"}).insert()
    assert _note("Contact", loose.name).customer is None


def test_customer_from_the_customer_itself(ctx):
    customer = make_customer().name
    assert _note("Customer", customer).customer == customer
    assert linked_customer(None, None) is None


def test_customer_follows_a_changed_reference(ctx):
    first, second = make_customer().name, make_customer().name
    note = _note("Customer", first)
    note.reference_name = second
    note.save()
    assert note.customer == second


# -- tasks ------------------------------------------------------------------------------------------

def _task(**values):
    return lowcode.get_doc(dict({"doctype": "Task", "subject": "do it"}, **values)).insert()


def test_task_defaults(ctx, unique):
    user = make_user(unique, "tasker")
    with as_user(user):
        task = _task()
    assert task.assigned_to == user and task.status == "Open" and task.priority == "Medium"
    assert task.is_overdue == 0 and task.completed_on is None


def test_task_overdue_flag(ctx):
    assert _task(due_date=days_from_today(-1)).is_overdue == 1
    assert _task(due_date=today()).is_overdue == 0
    assert _task(due_date=days_from_today(3)).is_overdue == 0
    assert _task().is_overdue == 0
    assert _task(due_date=days_from_today(-1), status="Working").is_overdue == 1
    assert _task(due_date=days_from_today(-1), status="Cancelled").is_overdue == 0


def test_task_completion(ctx):
    task = _task(due_date=days_from_today(-2))
    assert task.is_overdue == 1
    task.status = "Completed"
    task.save()
    assert task.completed_on and str(task.completed_on)[:10] == today()
    assert task.is_overdue == 0
    completed_on = str(task.completed_on)
    task.description = "<p>done well</p>"
    task.save()
    assert str(task.completed_on) == completed_on  # kept, not reset on every save
    task.status = "Open"
    task.save()
    assert task.completed_on is None and task.is_overdue == 1


def test_mark_overdue_tasks(ctx):
    late = _task(due_date=today())
    done = _task(due_date=today())
    future = _task(due_date=days_from_today(5))
    # time passes: the due dates are now in the past / the flags stale
    lowcode.db.sql("UPDATE `tabTask` SET `due_date`=%s WHERE `name` IN (%s, %s)",
                   (days_from_today(-1), late.name, done.name))
    lowcode.db.sql("UPDATE `tabTask` SET `status`='Completed', `is_overdue`=1 WHERE `name`=%s", (done.name,))
    lowcode.db.sql("UPDATE `tabTask` SET `is_overdue`=1 WHERE `name`=%s", (future.name,))
    mark_overdue_tasks()
    flags = {n: lowcode.db.get_value("Task", n, "is_overdue") for n in (late.name, done.name, future.name)}
    assert flags == {late.name: 1, done.name: 0, future.name: 0}


def test_overdue_tasks_can_be_listed(ctx, unique):
    _task(subject=f"late {unique}", due_date=days_from_today(-3))
    _task(subject=f"fine {unique}", due_date=days_from_today(3))
    rows = lowcode.get_list("Task", filters=[["subject", "like", f"%{unique}"], ["is_overdue", "=", 1]],
                            pluck="subject")
    assert rows == [f"late {unique}"]


def _notifications(task):
    return lowcode.get_all("Notification Log", fields=["for_user", "subject", "type", "document_type"],
                           filters={"document_type": "Task", "document_name": task})


def test_send_task_reminders(ctx, unique):
    """Assignees of tasks due today or overdue are reminded once. A 'Notification Log'
    is written when that DocType exists (it is being added to the engine); the task's
    reminder_sent flag is set in any case."""
    user = make_user(unique, "remind")
    due = _task(subject=f"due {unique}", assigned_to=user, due_date=today())
    late = _task(subject=f"late {unique}", assigned_to=user, due_date=days_from_today(-4))
    later = _task(subject=f"later {unique}", assigned_to=user, due_date=days_from_today(2))
    closed = _task(subject=f"closed {unique}", assigned_to=user, due_date=today(), status="Completed")
    sent = send_task_reminders()
    assert sent >= 2
    sent_flags = {t.name: lowcode.db.get_value("Task", t.name, "reminder_sent") for t in (due, late, later, closed)}
    assert sent_flags == {due.name: 1, late.name: 1, later.name: 0, closed.name: 0}
    has_log = lowcode.db.table_exists("Notification Log")
    if has_log:
        for task in (due, late):
            logs = _notifications(task.name)
            assert len(logs) == 1
            assert logs[0]["for_user"] == user and logs[0]["type"] == "Alert"
            assert task.subject in logs[0]["subject"]
        assert _notifications(later.name) == [] and _notifications(closed.name) == []
    send_task_reminders()  # a second run reminds nobody again
    if has_log:
        assert len(_notifications(due.name)) == 1
    with as_user(user):
        if has_log:
            mine = lowcode.get_list("Notification Log", filters={"document_name": due.name}, pluck="name")
            assert len(mine) == 1  # the user sees their own notification


def test_reminder_is_sent_again_after_the_due_date_moves(ctx, unique):
    """A task rescheduled after its reminder went out gets a new reminder when it is
    due again."""
    user = make_user(unique, "resched")
    task = _task(assigned_to=user, due_date=today())
    send_task_reminders()
    assert lowcode.db.get_value("Task", task.name, "reminder_sent") == 1
    task.reload()
    task.due_date = days_from_today(7)
    task.save()
    assert lowcode.db.get_value("Task", task.name, "reminder_sent") == 0, \
        "reminder_sent stays set when the due date moves, so the new date is never reminded"


# -- ICS feed ---------------------------------------------------------------------------------------

def test_ics_feed_over_http(ctx, client, unique):
    me = make_user(unique, "icsme")
    other = make_user(unique, "icsother")
    soon = (datetime.date.today() + datetime.timedelta(days=2)).isoformat()
    with as_user(me):
        mine = lowcode.get_doc({"doctype": "Event", "subject": f"Mine {unique}", "starts_on": f"{soon} 10:00:00",
                                "ends_on": f"{soon} 11:00:00", "location": "Tel Aviv", "is_private": 1}).insert()
        all_day = lowcode.get_doc({"doctype": "Event", "subject": f"Expo {unique}", "starts_on": f"{soon} 00:00:00",
                                   "all_day": 1}).insert()
    with as_user(other):
        public = lowcode.get_doc({"doctype": "Event", "subject": f"Public {unique}",
                                  "starts_on": f"{soon} 12:00:00"}).insert()
        private = lowcode.get_doc({"doctype": "Event", "subject": f"Private {unique}", "is_private": 1,
                                   "starts_on": f"{soon} 13:00:00"}).insert()
        invited = lowcode.get_doc({"doctype": "Event", "subject": f"Invited {unique}", "is_private": 1,
                                   "starts_on": f"{soon} 14:00:00",
                                   "participants": [{"participant_type": "User", "user": me}]}).insert()
        cancelled = lowcode.get_doc({"doctype": "Event", "subject": f"Cancelled {unique}", "status": "Cancelled",
                                     "starts_on": f"{soon} 15:00:00"}).insert()
        service = lowcode.get_doc({"doctype": "Event", "subject": f"Service {unique}", "calendar": "Service",
                                   "starts_on": f"{soon} 16:00:00"}).insert()
    auth = token(me)
    refresh(ctx)

    response = client.get("/api/method/crm_app.activities.ics_feed", **auth)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    events = {str(c["uid"]).split("@")[0]: c for c in calendar.walk("VEVENT")}
    for doc in (mine, all_day, public, invited, service):
        assert doc.name in events, doc.subject
    for doc in (private, cancelled):
        assert doc.name not in events, doc.subject
    item = events[mine.name]
    assert str(item["summary"]) == f"Mine {unique}" and str(item["location"]) == "Tel Aviv"
    assert item.decoded("dtstart") == datetime.datetime.fromisoformat(f"{soon} 10:00:00")
    assert item.decoded("dtend") == datetime.datetime.fromisoformat(f"{soon} 11:00:00")
    assert events[all_day.name].decoded("dtstart") == datetime.date.fromisoformat(soon)

    sales_only = client.get("/api/method/crm_app.activities.ics_feed", {"calendar": "Sales"}, **auth)
    names = {str(c["uid"]).split("@")[0] for c in icalendar.Calendar.from_ical(sales_only.content).walk("VEVENT")}
    assert mine.name in names and service.name not in names

    # the other user's feed has their private event, not mine
    other_auth = token(other)
    refresh(ctx)
    theirs = client.get("/api/method/crm_app.activities.ics_feed", **other_auth)
    names = {str(c["uid"]).split("@")[0] for c in icalendar.Calendar.from_ical(theirs.content).walk("VEVENT")}
    assert private.name in names and mine.name not in names


def test_ics_feed_needs_a_user(ctx, client):
    response = client.get("/api/method/crm_app.activities.ics_feed")
    assert response.status_code == 403
