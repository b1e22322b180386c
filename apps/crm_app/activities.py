"""Activities (calls, meetings, tasks, notes, communications): what they are linked
to, who they belong to, overdue tracking, reminders and the ICS feed of the shared
calendars."""
import datetime

from django.http import HttpResponse

import lowcode
from lowcode.context import local
from lowcode.document import Document
from lowcode.utils import now, today

from crm_app.parties import customer_of


def linked_customer(reference_doctype, reference_name):
    """The customer an activity concerns, from the record it is linked to."""
    if not reference_doctype or not reference_name:
        return None
    if reference_doctype == "Customer":
        return reference_name
    if reference_doctype == "Lead":
        return customer_of("Lead", reference_name)
    if reference_doctype in ("Opportunity", "Quotation"):
        party = "opportunity_from" if reference_doctype == "Opportunity" else "quotation_to"
        row = local.db.sql(f"SELECT `{party}`, `party_name` FROM `tab{reference_doctype}` WHERE `name`=%s",
                           (reference_name,))
        return customer_of(row[0][0], row[0][1]) if row else None
    if reference_doctype == "Contact":
        rows = local.db.sql("SELECT `link_name` FROM `tabDynamic Link` WHERE `parenttype`='Contact' AND `parent`=%s "
                            "AND `link_doctype`='Customer' LIMIT 1", (reference_name,))
        return rows[0][0] if rows else None
    return None


class Activity(Document):
    """Base of every activity controller."""

    def validate(self):
        found = linked_customer(self.reference_doctype, self.reference_name)
        if found:
            self.customer = found


class Task(Activity):
    def validate(self):
        super().validate()
        if self.status == "Completed" and not self.completed_on:
            self.completed_on = now()[:19]
        if self.status != "Completed":
            self.completed_on = None
        self.is_overdue = int(bool(self.due_date and self.due_date < today() and self.status in ("Open", "Working")))
        before = self._doc_before_save
        if before is not None and (before.due_date != self.due_date or before.assigned_to != self.assigned_to):
            self.reminder_sent = 0  # rescheduled or reassigned: remind again


def mark_overdue_tasks():
    """Daily: flag open tasks past their due date (lists filter on is_overdue)."""
    local.db.sql("UPDATE `tabTask` SET `is_overdue`=1 WHERE `status` IN ('Open', 'Working') AND `due_date` < %s",
                 (today(),))
    local.db.sql("UPDATE `tabTask` SET `is_overdue`=0 WHERE `is_overdue`=1 AND (`status` NOT IN ('Open', 'Working') "
                 "OR `due_date` >= %s)", (today(),))


def send_task_reminders():
    """Hourly: remind assignees of tasks due today or overdue, once per task."""
    rows = local.db.sql("SELECT `name`, `subject`, `assigned_to`, `due_date` FROM `tabTask` WHERE `reminder_sent`=0 "
                        "AND `status` IN ('Open', 'Working') AND `due_date` <= %s AND `assigned_to` IS NOT NULL",
                        (today(),), as_dict=True)
    sent = 0
    for task in rows:
        if local.db.table_exists("Notification Log"):
            lowcode.get_doc({"doctype": "Notification Log", "for_user": task["assigned_to"], "type": "Alert",
                             "subject": f"Task due {task['due_date']}: {task['subject']}",
                             "document_type": "Task", "document_name": task["name"]}).insert(ignore_permissions=True)
        local.db.sql("UPDATE `tabTask` SET `reminder_sent`=1 WHERE `name`=%s", (task["name"],))
        sent += 1
    return sent


FEED_MAX_DAYS = 3660


@lowcode.whitelist(methods=["GET"])
def ics_feed(calendar: str = None, days_back: int = 30, days_ahead: int = 180):
    """The events the caller may see on a shared calendar, as an ICS feed for phone
    and desktop calendar apps (authenticate with an API token)."""
    from icalendar import Calendar, Event as IcsEvent
    from lowcode.params import integer
    # Ten years either way is more than any calendar app asks for, and keeps the dates valid.
    days_back = integer(days_back, "days_back", default=30, minimum=0, maximum=FEED_MAX_DAYS)
    days_ahead = integer(days_ahead, "days_ahead", default=180, minimum=0, maximum=FEED_MAX_DAYS)
    start = (datetime.date.today() - datetime.timedelta(days=days_back)).isoformat()
    end = (datetime.date.today() + datetime.timedelta(days=days_ahead)).isoformat()
    filters = [["starts_on", "between", [start, end]], ["status", "!=", "Cancelled"]]
    if calendar:
        filters.append(["calendar", "=", calendar])
    events = lowcode.get_list("Event", fields=["name", "subject", "starts_on", "ends_on", "all_day", "location",
                                               "event_type", "calendar", "modified"],
                              filters=filters, limit_page_length=5000, order_by="starts_on asc")
    cal = Calendar()
    cal.add("prodid", "-//Lowcode CRM//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"{calendar or 'CRM'} ({local.site})")
    for e in events:
        item = IcsEvent()
        item.add("uid", f"{e['name']}@{local.site}")
        item.add("summary", e["subject"])
        begins = datetime.datetime.fromisoformat(str(e["starts_on"])[:19])
        if int(e["all_day"] or 0):
            item.add("dtstart", begins.date())
        else:
            item.add("dtstart", begins)
            if e["ends_on"]:
                item.add("dtend", datetime.datetime.fromisoformat(str(e["ends_on"])[:19]))
        if e["location"]:
            item.add("location", e["location"])
        item.add("categories", [e["event_type"] or "Meeting"])
        item.add("dtstamp", datetime.datetime.fromisoformat(str(e["modified"])[:19]))
        cal.add_component(item)
    response = HttpResponse(cal.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{(calendar or "crm").lower()}.ics"'
    return response
