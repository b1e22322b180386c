"""The activity panel on a record's form: "Log a call", "Add a note", "New task" and
"Schedule a meeting" as small dialogs prefilled with the record, beside the record's
Email and SMS buttons.

Which DocTypes show it is the ``activity_panel`` hook (``{doctype: [kind, ...]}``,
crm_app's hooks.py; service_app adds Case). The form loads the panel from
/app/activity-panel?doctype=..&name=..; a dialog posts to /app/activity-panel/<kind>
with the same query. Each activity is an ordinary Document insert (create permission,
validation and hooks apply; an error rolls back and is shown in the dialog on the
field it names); on success the answer is a fresh dialog plus the record's timeline,
swapped out of band, so the new item shows without a reload."""
import copy
import datetime
from urllib.parse import quote, urlencode

from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.utils import translation
from django.utils.translation import gettext as _

import lowcode
from lowcode.apps import get_hooks
from lowcode.context import local
from lowcode.desk.formatting import format_value, parse_input
from lowcode.desk.render import prefs, render
from lowcode.desk.views.common import open_doc
from lowcode.desk.views.form import form_actions, timeline as record_timeline
from lowcode.exceptions import LowcodeError, ValidationError
from lowcode.meta import get_meta
from lowcode.permissions import has_permission
from lowcode.utils import route_for

# kind -> the activity DocType and the fields its dialog asks for (the titles are in the template).
KINDS = {
    "call": {"doctype": "Call Log", "fields": ["direction", "phone", "outcome", "notes"]},
    "note": {"doctype": "Note", "fields": ["title", "content"]},
    "task": {"doctype": "Task", "fields": ["subject", "due_date", "priority"]},
    "meeting": {"doctype": "Event", "fields": ["subject", "starts_on", "ends_on", "location"]},
}
PHONE_FIELDS = ("mobile_no", "phone", "contact_phone", "contact_mobile")
# The record's channel buttons are its own form actions (they decide when a record has an address).
CHANNEL_ROUTES = ("/app/email?", "/app/send-sms/")


def kinds_for(doctype):
    """The kinds of activity the record's DocType offers, in the hook's order."""
    return list(dict.fromkeys(get_hooks("activity_panel", {}).get(doctype, [])))


def _record(request):
    doctype, name = request.GET.get("doctype") or "", request.GET.get("name") or ""
    if not doctype or not name or not kinds_for(doctype):
        raise ValidationError(_("No activities for %(doctype)s") % {"doctype": doctype or "?"}, field="doctype")
    return open_doc(doctype, name)  # the stored record, if the user may read it


def _fields(kind):
    """(fieldname, field) of the dialog; rich text is asked as plain text in a dialog."""
    meta = get_meta(KINDS[kind]["doctype"])
    out = []
    for fieldname in KINDS[kind]["fields"]:
        df = meta.get_field(fieldname)
        if df is None:
            continue
        if df.fieldtype == "Text Editor":
            df = copy.copy(df)
            df.fieldtype = "Small Text"
        out.append((fieldname, df))
    return out


def _prefill(kind, record):
    """What the dialog starts with: the record's phone for a call, the next full hour
    for a meeting."""
    values = {}
    if kind == "call":
        values["phone"] = next((record.get(f) for f in PHONE_FIELDS if record.meta.has_field(f) and record.get(f)),
                               None)
    if kind == "meeting":
        start = (datetime.datetime.now() + datetime.timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
        values["starts_on"] = start.strftime("%Y-%m-%d %H:%M:%S")
        values["ends_on"] = (start + datetime.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
    return values


def _dialog(kind, record, values=None, error=None, error_field=None, saved=False):
    return {"key": kind, "fields": _fields(kind), "error": error,
            "error_field": error_field, "saved": saved,
            "values": values if values is not None else _prefill(kind, record)}


def _query(record):
    return urlencode({"doctype": record.doctype, "name": record.name})


def create_activity(kind, record, post):
    """Insert the activity of ``kind`` for the record from the dialog's fields."""
    spec = KINDS[kind]
    activity = lowcode.new_doc(spec["doctype"])
    p = prefs()
    for fieldname, df in _fields(kind):
        # what does not parse is kept as typed: the field's own check refuses it by name
        activity.set(fieldname, parse_input(post.get(f"act-{kind}-{fieldname}"), df, p) or None)
    activity.reference_doctype, activity.reference_name = record.doctype, record.name
    if activity.meta.has_field("customer") and record.meta.has_field("customer") and record.get("customer"):
        activity.customer = record.get("customer")  # Activity.validate fills it for CRM records
    if kind == "meeting":
        contact = record.name if record.doctype == "Contact" else (
            record.get("contact") if record.meta.has_field("contact") else None)
        if contact:
            activity.set("participants", [{"participant_type": "Contact", "contact": contact}])
    return activity.insert()


def _render(record, dialogs, status=200, dialog_only=False, with_timeline=False):
    """The whole panel, or (``dialog_only``) one dialog's form, with the record's
    timeline out of band after a save."""
    panel = not (dialog_only or with_timeline)
    return render("crm_app/activity_panel.html", status=status, record=record, dialogs=dialogs,
                  query=_query(record), panel=panel,
                  channels=[a for a in form_actions(record) if (a.get("url") or "").startswith(CHANNEL_ROUTES)]
                  if panel else [],
                  timeline=record_timeline(record) if with_timeline else None)


def page(request, name=None):
    """GET /app/activity-panel?doctype=&name= (the panel); POST /app/activity-panel/<kind>?..."""
    if name is None:
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        record = _record(request)
        dialogs = [_dialog(k, record) for k in kinds_for(record.doctype)
                   if k in KINDS and has_permission(KINDS[k]["doctype"], "create")]
        return _render(record, dialogs)
    if name not in KINDS:
        raise Http404()
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    record = _record(request)
    if name not in kinds_for(record.doctype):
        raise Http404()
    try:
        create_activity(name, record, request.POST)
    except LowcodeError as e:
        local.db.rollback()
        local.db.begin()
        values = {f: request.POST.get(f"act-{name}-{f}") for f, _df in _fields(name)}
        return _render(record, [_dialog(name, record, values, e.message, e.field)], status=e.http_status,
                       dialog_only=True)
    if not request.headers.get("HX-Request"):
        return HttpResponseRedirect(f"/app/{route_for(record.doctype)}/{quote(record.name)}")
    return _render(record, [_dialog(name, record, saved=True)], with_timeline=True)


# -- the record's timeline ----------------------------------------------------------------------

TIMELINE = (("Call Log", ["outcome", "phone", "notes"]), ("Note", ["title"]),
            ("Task", ["subject", "status"]), ("Event", ["subject", "starts_on"]))


def timeline(doctype, name):
    """``additional_timeline_content``: the calls, notes, tasks and meetings linked to
    the record, those the user may read."""
    p = prefs()
    items = []
    for activity, fields in TIMELINE:
        if not local.db.table_exists(activity) or not has_permission(activity):
            continue
        rows = lowcode.get_list(activity, fields=["name", "owner", "creation"] + fields,
                                filters=[["reference_doctype", "=", doctype], ["reference_name", "=", name]],
                                order_by="creation desc", limit_page_length=100)
        meta = get_meta(activity)
        for r in rows:
            with translation.override(p.lang):  # option values and dates in the user's language and calendar
                parts = [_(r[f]) if f in ("outcome", "status") else format_value(r[f], meta.get_field(f), p)
                         for f in fields if r.get(f)]
            items.append({"when": r["creation"], "who": r["owner"], "kind": activity,
                          "content": " · ".join(parts), "url": f"/app/{route_for(activity)}/{quote(r['name'])}"})
    return items
