"""The health of a channel account, the one place that writes it: an Email Account,
SMS Settings or a Webhook is Active, or Failing since a time, with the last error and
the number of messages waiting for a retry.

The code that talks to the server calls ``mark_failing(doc, error)`` when an attempt
fails and ``mark_ok(doc)`` when one succeeds. The change is a plain UPDATE of those
fields (bookkeeping of the sender, not an edit: no version, no stale-write error for
an admin who has the form open). The step from Active to Failing is one conditional
UPDATE, so of many workers failing at once exactly one tells the System Managers, with
one Notification Log each; further failures only refresh the error and the count. Each
change of status is published (``channel_status`` to the record's realtime room).

One account can have more than one side (an Email Account sends by SMTP and receives
by IMAP): the caller names it with ``source`` ("SMTP", "IMAP"), the error is shown as
"SMTP: ...", and a success of one side clears only a failure of that same side, so a
working IMAP poll does not hide a broken SMTP server every minute."""
import datetime

from django.utils.translation import gettext as _

from ..context import local

ACTIVE, FAILING = "Active", "Failing"
# The fields every channel DocType with a status has (see their .json).
FIELDS = ("status", "failing_since", "last_error", "waiting")
MAX_ERROR = 1000


def _now():
    return datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")


def mark_failing(doc, error, waiting=None, source=None):
    """Record a failed attempt on ``doc``; True when this attempt turned it from Active to
    Failing (the admins were told). ``waiting``: messages now waiting for a retry."""
    text = (f"{source}: {error}" if source else str(error))[:MAX_ERROR]
    db, table = local.db, f"`tab{doc.doctype}`"
    started = db.sql_cursor(f"UPDATE {table} SET `status`=%s, `failing_since`=%s WHERE `name`=%s "
                            "AND (`status` IS NULL OR `status`<>%s)", (FAILING, _now(), doc.name, FAILING)).rowcount
    changes = {"last_error": text}
    if waiting is not None:
        changes["waiting"] = int(waiting)
    db.sql(f"UPDATE {table} SET {', '.join(f'`{k}`=%s' for k in changes)} WHERE `name`=%s",
           (*changes.values(), doc.name))
    doc.__dict__.update(changes, status=FAILING)
    if started:
        _tell_admins(doc, text)
        _publish(doc)
    return bool(started)


def mark_ok(doc, source=None):
    """An attempt succeeded: back to Active, unless the failure shown is another side's."""
    rows = local.db.sql(f"SELECT `status`, `last_error` FROM `tab{doc.doctype}` WHERE `name`=%s", (doc.name,))
    if not rows or rows[0][0] == ACTIVE:
        return False
    if source and rows[0][0] == FAILING and not (rows[0][1] or "").startswith(f"{source}: "):
        return False
    local.db.sql(f"UPDATE `tab{doc.doctype}` SET `status`=%s, `failing_since`=NULL, `last_error`=NULL, "
                 "`waiting`=0 WHERE `name`=%s", (ACTIVE, doc.name))
    doc.__dict__.update(status=ACTIVE, failing_since=None, last_error=None, waiting=0)
    _publish(doc)
    return True


def set_waiting(doc, waiting):
    """Refresh the count of waiting messages shown while failing (e.g. after an admin cancels some)."""
    local.db.sql(f"UPDATE `tab{doc.doctype}` SET `waiting`=%s WHERE `name`=%s AND `status`=%s",
                 (int(waiting), doc.name, FAILING))


def _publish(doc):
    """Open forms of the account hear of the change (after the commit)."""
    from ..realtime import publish_realtime
    publish_realtime("channel_status", {"doctype": doc.doctype, "name": doc.name, "status": doc.status,
                                        "last_error": doc.get("last_error")}, doctype=doc.doctype, docname=doc.name)


def system_managers():
    return local.db.sql("SELECT DISTINCT u.`name` FROM `tabUser` u JOIN `tabHas Role` r ON r.`parent`=u.`name` "
                        "AND r.`parenttype`='User' WHERE r.`role`='System Manager' AND u.`enabled`=1 "
                        "ORDER BY u.`name`", pluck=True)


def _tell_admins(doc, error):
    from ..document import get_doc
    title = doc.name if doc.name != doc.doctype else ""
    subject = _("%(doctype)s %(name)s is failing: %(error)s") % {"doctype": _(doc.doctype), "name": title,
                                                                  "error": error}
    for user in system_managers():
        get_doc({"doctype": "Notification Log", "for_user": user, "type": "Alert", "subject": subject[:500],
                 "document_type": doc.doctype, "document_name": doc.name}).insert(ignore_permissions=True,
                                                                                  ignore_links=True)
