"""Events: an event never ends before it starts (refused naming ends_on), the customer
comes from the record it is about, and the ICS feed of the calendar over HTTP (the
user's own events, public ones, private ones they are invited to; not others' private or
cancelled events; filtered by calendar; a Guest gets 403). Who sees a private event in
each read path is tested in crm_app/tests/test_crm_permissions.py."""
import datetime

import icalendar
import pytest

import lowcode
from lowcode.exceptions import MandatoryError, ValidationError

from crm_app.tests.helpers import as_user, make_customer, make_user, refresh, token


def _event(**values):
    return lowcode.get_doc(dict({"doctype": "Event", "subject": "Demo", "starts_on": "2030-01-07 10:00:00"},
                                **values)).insert()


def test_an_event_never_ends_before_it_starts(ctx):
    with pytest.raises(ValidationError) as e:
        _event(ends_on="2030-01-07 09:59:00")
    assert e.value.field == "ends_on"
    assert str(_event(ends_on="2030-01-07 10:00:00").ends_on) == "2030-01-07 10:00:00"
    event = _event(ends_on="2030-01-07 11:00:00")
    event.starts_on = "2030-01-07 12:00:00"
    with pytest.raises(ValidationError):
        event.save()


def test_the_start_is_mandatory(ctx):
    with pytest.raises(MandatoryError) as e:
        _event(starts_on=None)
    assert e.value.field == "starts_on"


def test_the_customer_comes_from_the_reference(ctx):
    customer = make_customer().name
    event = _event(reference_doctype="Customer", reference_name=customer)
    assert lowcode.db.get_value("Event", event.name, "customer") == customer


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
