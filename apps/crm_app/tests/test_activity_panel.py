"""The activity panel on a record's form (crm_app/activity_panel.py) over HTTP on both
engines: the panel offers the record's kinds and its channel buttons, dialogs start
prefilled with the record, a save inserts the activity linked to the record and answers
with the record's timeline (swapped out of band); bad input is refused naming the field
with nothing written; only records the user may read, only with the CSRF token."""
import re
from urllib.parse import urlencode

import lowcode
from lowcode.tests.desk_helpers import login

from crm_app.tests.helpers import as_user, make_customer, make_lead, make_user, refresh, unique_mobile

HX = {"HTTP_HX_REQUEST": "true"}


def text(response):
    return response.content.decode()


def invalid(html, control_id):
    """Whether the control with this id is marked invalid."""
    return re.search(rf'<[^>]*class="[^"]*is-invalid[^"]*"[^>]*id="{control_id}"', html) is not None


def panel_url(doc, kind=None):
    return f"/app/activity-panel{'/' + kind if kind else ''}?{urlencode({'doctype': doc.doctype, 'name': doc.name})}"


def activities(ctx, doctype, record):
    refresh(ctx)
    return lowcode.get_all(doctype, filters={"reference_doctype": record.doctype, "reference_name": record.name},
                           fields=["*"])


def test_the_panel_offers_activities_prefilled_with_the_record(ctx, client, unique):
    rep = make_user(unique, "rep")
    mobile = unique_mobile()
    with as_user(rep):
        lead = make_lead(mobile_no=mobile)
    login(ctx, client, rep)
    form = text(client.get(f"/app/lead/{lead.name}"))
    assert 'id="activity-panel"' in form and panel_url(lead).replace("&", "&amp;") in form
    page = client.get(panel_url(lead))
    assert page.status_code == 200
    html = text(page)
    for label in ("Log a call", "Add a note", "New task", "Schedule a meeting"):
        assert label in html
    assert f'value="{mobile}"' in html  # the call dialog starts with the lead's mobile
    assert f"/app/send-sms/{lead.name}" in html  # the record's SMS button, as its form actions decide
    # A form without the panel (a DocType the hook does not name) has no placeholder.
    assert 'id="activity-panel"' not in text(client.get("/app/user/" + rep))


def test_log_a_call_and_add_a_note_show_in_the_timeline(ctx, client, unique):
    rep = make_user(unique, "rep")
    with as_user(rep):
        lead = make_lead()
    csrf = login(ctx, client, rep)
    saved = client.post(panel_url(lead, "call"), {"csrf_token": csrf, "act-call-direction": "Outgoing",
                                                   "act-call-phone": "09121234567", "act-call-outcome": "Busy",
                                                   "act-call-notes": f"Call back {unique}"}, **HX)
    assert saved.status_code == 200, text(saved)
    html = text(saved)
    assert 'id="timeline" hx-swap-oob="true"' in html and "data-activity-saved" in html
    [call] = activities(ctx, "Call Log", lead)
    assert (call["phone"], call["outcome"], call["owner"]) == ("09121234567", "Busy", rep)
    assert f"/app/call-log/{call['name']}" in html
    saved = client.post(panel_url(lead, "note"), {"csrf_token": csrf, "act-note-title": f"Budget {unique}",
                                                   "act-note-content": "Decides in May"}, **HX)
    assert saved.status_code == 200 and f"Budget {unique}" in text(saved)
    [note] = activities(ctx, "Note", lead)
    assert note["content"] == "Decides in May"
    # Both are on the record's form timeline too, and a plain (no-htmx) post goes back to the record.
    form = text(client.get(f"/app/lead/{lead.name}"))
    assert f"Budget {unique}" in form and "Busy" in form
    plain = client.post(panel_url(lead, "task"), {"csrf_token": csrf, "act-task-subject": f"Send offer {unique}",
                                                  "act-task-due_date": "2099-01-02", "act-task-priority": "High"})
    assert plain.status_code == 302 and plain["Location"] == f"/app/lead/{lead.name}"
    [task] = activities(ctx, "Task", lead)
    assert (task["subject"], str(task["due_date"]), task["priority"], task["assigned_to"]) == \
        (f"Send offer {unique}", "2099-01-02", "High", rep)


def test_activities_on_a_customer_carry_the_customer(ctx, client, unique):
    rep = make_user(unique, "rep")
    customer = make_customer()
    csrf = login(ctx, client, rep)
    saved = client.post(panel_url(customer, "meeting"), {
        "csrf_token": csrf, "act-meeting-subject": f"Demo {unique}", "act-meeting-starts_on": "2099-03-01T10:00",
        "act-meeting-ends_on": "2099-03-01T11:00", "act-meeting-location": "Office"}, **HX)
    assert saved.status_code == 200, text(saved)
    [event] = activities(ctx, "Event", customer)
    assert (event["customer"], str(event["starts_on"])[:16]) == (customer.name, "2099-03-01 10:00")


def test_bad_input_names_the_field_and_writes_nothing(ctx, client, unique):
    rep = make_user(unique, "rep")
    with as_user(rep):
        lead = make_lead()
    csrf = login(ctx, client, rep)
    missing = client.post(panel_url(lead, "note"), {"csrf_token": csrf, "act-note-content": "No title"}, **HX)
    assert missing.status_code == 417, text(missing)
    html = text(missing)
    assert "data-activity-error" in html and 'id="f-act-note-title"' in html
    assert invalid(html, "f-act-note-title")  # the dialog marks the field it names
    assert "No title" in html  # what was typed stays in the dialog
    bad_date = client.post(panel_url(lead, "task"), {"csrf_token": csrf, "act-task-subject": "x",
                                                     "act-task-due_date": "soon"}, **HX)
    assert bad_date.status_code == 417 and invalid(text(bad_date), "f-act-task-due_date")
    assert client.post(panel_url(lead, "explode"), {"csrf_token": csrf}).status_code == 404
    other = client.post(f"/app/activity-panel/note?{urlencode({'doctype': 'User', 'name': rep})}",
                        {"csrf_token": csrf, "act-note-title": "x"})
    assert other.status_code == 417
    no_token = client.post(panel_url(lead, "note"), {"act-note-title": "Forged"})
    assert no_token.status_code == 400
    assert client.get(panel_url(lead, "note")).status_code == 405  # GET never writes
    assert not activities(ctx, "Note", lead) and not activities(ctx, "Task", lead)


def test_only_a_record_the_user_may_read(ctx, client, unique):
    owner, stranger = make_user(unique, "owner"), make_user(unique, "stranger")
    with as_user(owner):
        lead = make_lead()
    csrf = login(ctx, client, stranger)  # another rep's lead, outside their territory
    assert client.get(panel_url(lead)).status_code == 403
    assert client.post(panel_url(lead, "note"), {"csrf_token": csrf, "act-note-title": "Sneaky"}).status_code == 403
    assert not activities(ctx, "Note", lead)


RULE_PROPS = ("read", "write", "create", "delete", "submit", "cancel", "amend", "report", "export", "import",
              "share", "print", "email", "if_owner", "select")


def test_no_new_task_without_create_permission_on_task(ctx, site, client, unique):
    """Sales Users lose "create" on Task in the Role Permission Manager: the panel stops
    offering "New task" and a forged post is refused; the other kinds stay."""
    from django.test import Client
    from lowcode.meta import get_meta
    from lowcode.tests.test_desk_customize import desk_user, post
    from lowcode.tests.test_desk_permission_manager import rules_data

    rep = make_user(unique, "rep")
    with as_user(rep):
        lead = make_lead()
    admin = Client(HTTP_HOST=site, raise_request_exception=False)
    _email, manager = desk_user(ctx, admin, unique, "perm-admin")
    rules = []
    for p in get_meta("Task").permissions:
        rule = {"role": p.role, "permlevel": str(p.permlevel or 0)}
        rule.update({k: (0 if (k == "create" and p.role == "Sales User") else p.get(k)) for k in RULE_PROPS})
        rules.append(rule)
    saved = post(admin, manager, "/app/permission-manager", rules_data("Task", rules))
    assert saved.status_code == 302, saved.content[:500]
    try:
        csrf = login(ctx, client, rep)
        html = text(client.get(panel_url(lead)))
        assert "Log a call" in html and "New task" not in html
        refused = client.post(panel_url(lead, "task"), {"csrf_token": csrf, "act-task-subject": "Forged"}, **HX)
        assert refused.status_code == 403
        assert not activities(ctx, "Task", lead)
    finally:
        reset = post(admin, manager, "/app/permission-manager", {"doctype": "Task", "_action": "reset"})
        assert reset.status_code == 302


def test_a_meeting_with_a_contact_invites_the_contact(ctx, client, unique):
    rep = make_user(unique, "rep")
    customer = make_customer()
    contact = lowcode.get_doc({"doctype": "Contact", "first_name": "Omid", "last_name": unique,
                               "email_id": f"omid-{unique}@example.com",
                               "links": [{"link_doctype": "Customer", "link_name": customer.name}]}).insert()
    csrf = login(ctx, client, rep)
    html = text(client.get(panel_url(contact)))
    assert "Schedule a meeting" in html
    assert f"/app/email?doctype=Contact&amp;name={contact.name}" in html  # it has an address: the Email button
    saved = client.post(panel_url(contact, "meeting"), {
        "csrf_token": csrf, "act-meeting-subject": f"Visit {unique}", "act-meeting-starts_on": "2099-04-01T09:30"},
        **HX)
    assert saved.status_code == 200, text(saved)
    [event] = activities(ctx, "Event", contact)
    event = lowcode.get_doc("Event", event["name"])
    assert event.customer == customer.name
    assert [(p.participant_type, p.contact) for p in event.participants] == [("Contact", contact.name)]


def test_the_case_form_has_the_panel_too(ctx, client, unique):
    """service_app adds Case to the hook; a call logged on a case carries its customer."""
    from service_app.tests.helpers import make_case
    agent = make_user(unique, "agent", roles=("Support Manager",))
    customer = make_customer()
    case = make_case(customer=customer.name)
    csrf = login(ctx, client, agent)
    assert 'id="activity-panel"' in text(client.get(f"/app/case/{case.name}"))
    saved = client.post(panel_url(case, "call"), {"csrf_token": csrf, "act-call-direction": "Incoming",
                                                  "act-call-outcome": "Connected"}, **HX)
    assert saved.status_code == 200, text(saved)
    [call] = activities(ctx, "Call Log", case)
    assert call["customer"] == customer.name
    assert text(saved).count(f"/app/call-log/{call['name']}") == 1  # once, though two apps list it


def test_the_timeline_speaks_the_users_language_and_calendar(ctx, client, unique):
    rep = make_user(unique, "rep")
    user = lowcode.get_doc("User", rep)
    user.language, user.calendar = "fa", "Jalali"
    user.save(ignore_permissions=True)
    with as_user(rep):
        lead = make_lead()
    csrf = login(ctx, client, rep)
    saved = client.post(panel_url(lead, "meeting"), {"csrf_token": csrf, "act-meeting-subject": f"Tea {unique}",
                                                     "act-meeting-starts_on": "۱۴۰۵/۱۰/۰۱ ۱۰:۰۰"}, **HX)
    assert saved.status_code == 200, text(saved)
    [event] = activities(ctx, "Event", lead)
    assert str(event["starts_on"])[:16] == "2026-12-22 10:00"  # 1 Dey 1405, typed in Persian digits
    assert f"Tea {unique} · 1405/10/01 10:00" in text(saved).split('id="timeline"')[1]  # the date, Jalali
    call = client.post(panel_url(lead, "call"), {"csrf_token": csrf, "act-call-direction": "Outgoing",
                                                 "act-call-outcome": "Busy"}, **HX)
    assert "اشغال" in text(call).split('id="timeline"')[1]  # the outcome in Persian
