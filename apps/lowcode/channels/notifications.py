"""Notifications (Frappe's Notification DocType): when a document is created, saved,
submitted, cancelled, has a field changed, or a date field comes near, tell people by
e-mail, SMS or a system notification, with a Jinja subject and message.

When it fires: a doc_events handler for every DocType (hooks.py) looks the DocType up
in a map of enabled notifications, cached until a Notification changes, so saving a
DocType that has none costs one dictionary lookup. A matching notification whose
condition holds is queued as a background job (lowcode.jobs) that runs after the
commit: a rolled-back save announces nothing, a slow mail server never holds up the
save, and a message that fails to render is recorded as a Failed Job instead of
failing the user's save. The job checks the condition again on the document as
committed (and records a condition that cannot be evaluated). "Value Change" compares
with the stored document before the save. "Days Before"/"Days After" are found by a
daily job (``trigger_daily_alerts``). Not built: Frappe's "Custom", "Minutes Before/
After" events and Slack channel; ``is_standard``/``module`` are kept but not exported.

Who gets it: users (by a User field, ``owner``, a role, the assignees) only when they
may read the document, so a notification never shows a record to someone who could not
open it; addresses and numbers held in the document's own fields (a customer's e-mail)
are taken as they are. Conditions are safe expressions (lowcode.expressions), never
Python; templates render in the engine's sandbox (lowcode.printing).
"""
import datetime

from django.utils.translation import gettext as _

import lowcode
from ..caches import cached_map, forget_map
from ..context import local
from ..exceptions import DoesNotExistError, LowcodeError
from ..fields import links_to, types_where

# Document method -> the event it is for Frappe's Notification.
EVENTS = {"after_insert": "New", "on_update": "Save", "on_submit": "Submit", "on_cancel": "Cancel"}
# The methods a "Method" notification may name: those this module is hooked to where
# the document still exists after the commit (the job reads it then).
METHODS = ("validate", "on_update", "on_submit", "on_cancel", "on_update_after_submit", "on_change")
HOOKED = ("after_insert",) + METHODS
DATE_EVENTS = ("Days Before", "Days After")
# Fields a document-field recipient may name besides the DocType's own.
USER_FIELDS = ("owner", "modified_by")
_CACHE_KEY = "notifications:enabled"
# Never the subject of a notification: what sending one writes (it would feed on itself).
_SKIP = {"Notification", "Notification Log", "Email Queue", "SMS Log", "Communication", "Failed Job",
         "Webhook Request Log", "Version"}


# -- which notifications a DocType has --------------------------------------------------------

def _enabled():
    """{doctype: [[name, event, method, value_changed, condition]]} of the enabled
    notifications fired by document events, cached until a Notification changes."""
    return cached_map(_CACHE_KEY, _load)


def _load():
    found = {}
    if local.db.table_exists("Notification"):
        for name, doctype, event, method, field, condition in local.db.sql(
                "SELECT `name`, `document_type`, `event`, `method`, `value_changed`, `condition` "
                "FROM `tabNotification` WHERE `enabled`=1 ORDER BY `name`"):
            if event not in DATE_EVENTS:
                found.setdefault(doctype, []).append([name, event, method or "", field or "", condition or ""])
    return found


def clear_cache():
    """A Notification changed."""
    forget_map(_CACHE_KEY)


# -- on a document event ----------------------------------------------------------------------

def run_notifications(doc, method, *args):
    """doc_events handler for every DocType: queue the notifications this event fires."""
    entries = _enabled().get(doc.doctype)
    if not entries or doc.flags.in_notification_update or doc.doctype in _SKIP:
        return
    for name, event, trigger, field, condition in entries:
        if not _fires(doc, method, event, trigger, field):
            continue
        try:
            if not condition_holds(condition, doc):
                continue
        except LowcodeError:
            pass  # the job evaluates it again and records why it cannot
        queue(name, doc)


def _fires(doc, method, event, trigger, field):
    if event == "Method":
        return method == trigger
    if event == "Value Change":
        before = doc._doc_before_save
        if method != "on_change" or doc.flags.in_insert or before is None:
            return False
        df = doc.meta.get_field(field)
        from ..document import _values_differ
        return df is not None and _values_differ(doc.get(field), before.get(field), df)
    return EVENTS.get(method) == event


def condition_holds(condition, doc):
    from ..expressions import evaluate
    return not (condition or "").strip() or evaluate("eval:" + condition, doc)


def queue(notification, doc):
    from ..jobs import enqueue
    enqueue("lowcode.channels.notifications.send", queue="short", job_name=f"Notification {notification}",
            notification=notification, doctype=doc.doctype, docname=doc.name)


# -- sending (a background job) ---------------------------------------------------------------

def send(notification, doctype, docname):
    """Send ``notification`` about the document as committed. Errors propagate: the job
    runner records them as a Failed Job."""
    from ..document import get_doc
    try:
        alert = get_doc("Notification", notification)
        doc = get_doc(doctype, docname)
    except DoesNotExistError:
        return None  # deleted since the event
    if not alert.enabled or not condition_holds(alert.condition, doc):
        return None
    return deliver(alert, doc)


def deliver(alert, doc):
    """Render and send ``alert`` for ``doc`` now (queued e-mail/SMS, system notifications);
    returns {"email": Email Queue name, "sms": [SMS Log names], "system": [users]}."""
    from ..printing import render, template_context
    # The whole document, as Frappe renders it: the admin chose what the message shows.
    context = template_context(doc, data=doc.as_dict())
    subject = " ".join(render(alert.subject or "", context, autoescape=False).split()) \
        or f"{_(doc.doctype)} {doc.name}"
    users, values, cc, bcc = recipients(alert, doc)
    done = {"email": None, "sms": [], "system": []}
    if alert.channel == "Email":
        done["email"] = _email(alert, doc, subject, render(alert.message or "", context), users, values, cc, bcc)
    elif alert.channel == "SMS":
        done["sms"] = _sms(doc, render(alert.message or "", context, autoescape=False), users, values)
    if alert.channel == "System Notification" or (alert.channel == "Email" and alert.send_system_notification):
        content = render(alert.message or "", context) if alert.message else None
        done["system"] = _system(doc, subject, content, users)
    if alert.set_property_after_alert:
        _set_property(alert, doc)
    return done


def recipients(alert, doc):
    """(users who may read ``doc``, e-mail addresses/phone numbers from its fields, cc, bcc)."""
    from ..assignments import read_assign
    users, values, cc, bcc = [], [], [], []
    for row in alert.get("recipients") or []:
        if not condition_holds(row.condition, doc):
            continue
        if row.receiver_by_document_field:
            for fieldname, value in _field_values(doc, row.receiver_by_document_field):
                df = doc.meta.get_field(fieldname)
                is_user = fieldname in USER_FIELDS or (df is not None and links_to(df) == "User")
                (users if is_user else values).extend(_split(value))
        if row.receiver_by_role:
            users += local.db.sql(
                "SELECT DISTINCT u.`name` FROM `tabUser` u JOIN `tabHas Role` r ON r.`parent`=u.`name` "
                "AND r.`parenttype`='User' WHERE r.`role`=%s AND u.`enabled`=1 ORDER BY u.`name`",
                (row.receiver_by_role,), pluck=True)
        cc += _split(row.cc)
        bcc += _split(row.bcc)
    if alert.send_to_all_assignees:
        users += read_assign(doc.doctype, doc.name)
    return [u for u in dict.fromkeys(users) if _may_read(u, doc)], list(dict.fromkeys(values)), cc, bcc


def _field_values(doc, spec):
    """[(fieldname, value)] of ``fieldname`` or, as Frappe writes it, ``fieldname,table``
    (the field in every row of a child table)."""
    fieldname, _sep, table = (part.strip() for part in spec.partition(","))
    if table:
        return [(fieldname, row.get(fieldname)) for row in doc.get(table) or [] if row.get(fieldname)]
    return [(fieldname, doc.get(fieldname))] if doc.get(fieldname) else []


def _split(value):
    return [v.strip() for v in str(value or "").replace(";", ",").replace("\n", ",").split(",") if v.strip()]


def _may_read(user, doc):
    from ..permissions import has_permission
    enabled = local.db.sql("SELECT `enabled` FROM `tabUser` WHERE `name`=%s", (user,), pluck=True)
    return bool(enabled and int(enabled[0] or 0)) and has_permission(doc.doctype, "read", doc=doc, user=user)


def _user_values(users, column):
    if not users:
        return []
    marks = ", ".join(["%s"] * len(users))
    return [v for v in local.db.sql(f"SELECT `{column}` FROM `tabUser` WHERE `name` IN ({marks}) ORDER BY `name`",
                                    tuple(users), pluck=True) if v]


def _email(alert, doc, subject, message, users, values, cc, bcc):
    from .email import sendmail
    to = list(dict.fromkeys([v for v in values if "@" in v] + _user_values(users, "email")))
    if not to:
        return None
    attachments = None
    if alert.attach_print:
        from ..desk.views.printview import download_pdf
        attachments = [{"fname": f"{doc.name}.pdf", "content_type": "application/pdf",
                        "fcontent": download_pdf(doc.doctype, doc.name, format=alert.print_format or None).content}]
    queue = sendmail(to, subject, message, reference_doctype=doc.doctype, reference_name=doc.name, cc=cc or None,
                     bcc=bcc or None, attachments=attachments, email_account=alert.sender or _shared_account())
    return queue.name


def _shared_account():
    """The site's default outgoing account: a notification goes out in the site's name,
    never from the personal account of whoever saved the document."""
    rows = local.db.sql("SELECT `name` FROM `tabEmail Account` WHERE `enable_outgoing`=1 AND `default_outgoing`=1 "
                        "AND (`user` IS NULL OR `user`='') ORDER BY `name` LIMIT 1", pluck=True)
    return rows[0] if rows else None


def _sms(doc, message, users, values):
    from .email import html_to_text
    from .sms import send_sms
    numbers = list(dict.fromkeys([v for v in values if "@" not in v] + _user_values(users, "mobile_no")))
    text = html_to_text(message).strip()
    if not numbers or not text:
        return []
    return send_sms(numbers, text, reference=(doc.doctype, doc.name))


def _system(doc, subject, content, users):
    """A Notification Log per user (its insert tells an open desk at once, realtime)."""
    from ..desk.views.collaboration import notify
    sent = []
    for user in users:
        notify(user, "Alert", subject, doc, content=content, to_self=True)
        sent.append(user)
    return sent


def _set_property(alert, doc):
    """Frappe's "Set Property After Alert": the field takes the value, by a save that
    fires no notification (it would fire this one again)."""
    df = doc.meta.get_field(alert.set_property_after_alert)
    if df is None or (doc.docstatus == 1 and not df.allow_on_submit) or doc.docstatus == 2:
        return
    doc.set(df.fieldname, alert.property_value)
    doc.flags.in_notification_update = True
    try:
        doc.save(ignore_permissions=True)
    finally:
        doc.flags.in_notification_update = False


# -- days before / after a date (a daily job) ---------------------------------------------------

def trigger_daily_alerts(today=None, notification=None):
    """Daily: queue each date-based notification (or just ``notification``) for the
    documents whose reference date is ``today`` (a date or ISO text) plus (Days Before) or
    minus (Days After) its days. A notification's run is stamped in the same transaction
    as its jobs are queued, so running this twice on a day sends nothing twice. One that
    fails is rolled back (it sends nothing and is stamped not) and recorded as a Failed
    Job whose retry runs just that one; the others still go."""
    import traceback
    from ..jobs import record_failure
    today = datetime.date.fromisoformat(str(today)) if today else datetime.date.today()
    names = local.db.sql("SELECT `name` FROM `tabNotification` WHERE `enabled`=1 AND `event` IN (%s, %s) "
                         "AND (`last_daily_run` IS NULL OR `last_daily_run` < %s) ORDER BY `name`",
                         (*DATE_EVENTS, today.isoformat()), pluck=True)
    for name in names if notification is None else [n for n in names if n == notification]:
        try:
            _queue_for_day(name, today)
            local.db.commit()
        except Exception:
            local.db.rollback()
            record_failure({"method": "lowcode.channels.notifications.trigger_daily_alerts", "queue": "long",
                            "job_name": f"Notification {name}", "user": local.user,
                            "kwargs": {"today": today.isoformat(), "notification": name}}, traceback.format_exc())


def _queue_for_day(name, today):
    from ..document import get_doc
    alert = get_doc("Notification", name)
    for docname in documents_for_day(alert, today):
        doc = get_doc(alert.document_type, docname)
        try:
            if not condition_holds(alert.condition, doc):
                continue
        except LowcodeError:
            pass  # the job evaluates it again and records why it cannot
        queue(alert.name, doc)
    local.db.sql("UPDATE `tabNotification` SET `last_daily_run`=%s WHERE `name`=%s", (today.isoformat(), name))


def documents_for_day(alert, today):
    """Names of ``alert``'s documents (not cancelled) whose reference date is the day it is due for."""
    from ..meta import get_meta
    days = int(alert.days_in_advance or 0)
    day = today + datetime.timedelta(days=days if alert.event == "Days Before" else -days)
    df = get_meta(alert.document_type).get_field(alert.date_changed or "")
    if df is None or df.fieldtype not in types_where("dated"):
        return []
    column = df.fieldname  # an identifier from metadata, never from the request
    return local.db.sql(f"SELECT `name` FROM `tab{alert.document_type}` WHERE `{column}` >= %s AND `{column}` < %s "
                        f"AND `docstatus` < 2 ORDER BY `name`",
                        (day.isoformat(), (day + datetime.timedelta(days=1)).isoformat()), pluck=True)


# -- the form ---------------------------------------------------------------------------------------



@lowcode.whitelist(methods=["GET"])
def get_fields(doctype):
    """What the Notification form suggests once a Document Type is chosen: the DocType's
    fields as [{fieldname, label, fieldtype, options}] (System Managers only, as the form)."""
    from ..meta import get_meta
    lowcode.only_for("System Manager")
    meta = get_meta(doctype)
    fields = [{"fieldname": df.fieldname, "label": _(df.label or df.fieldname), "fieldtype": df.fieldtype,
               "options": df.options or ""} for df in meta.fields if df.fieldtype not in types_where("layout")]
    labels = {"owner": _("Created By"), "modified_by": _("Last Updated By")}
    return fields + [{"fieldname": f, "label": labels[f], "fieldtype": "Link", "options": "User"} for f in USER_FIELDS]
