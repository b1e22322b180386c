"""The audit trail, in Frappe's two DocTypes: ``Activity Log`` (logins, failed logins,
logouts, and, beyond Frappe, permission, role and customisation changes, each naming
the record it changed) and ``Access Log`` (exports: report/list export, the data-export
CLI, Data Import Mapping export). Two DocTypes rather than one ``Audit Trail`` because
Frappe's users and clients know these names and shapes; ``operation`` tells the
Activity Log's kinds apart.

A change's row is written in the same transaction as the change (a ``"*"`` doc_events
handler), so a rolled-back change leaves none; a failed login's row is its own
committed write, since the failing request rolls back. Rows are read by System Managers
only (the DocTypes' permissions, applied in SQL) and are never changed or deleted
(AuditRecord). Passwords, secrets and codes are never written here."""
import datetime
import json

from .context import local
from .document import Document
from .exceptions import PermissionError

# DocTypes whose changes are permission or role changes, and customisations.
PERMISSION_DOCTYPES = frozenset(["Custom DocPerm", "User Permission", "Role"])
CUSTOMIZATION_DOCTYPES = frozenset(["Custom Field", "Property Setter", "DocType", "Workflow"])
_EVENTS = {"after_insert": "created", "on_update": "changed", "on_trash": "deleted"}


class AuditRecord(Document):
    """An audit row: inserted by this module only, then never changed nor deleted, by
    anyone (the Administrator, who passes every permission, included)."""

    def validate(self):
        if not self.is_new():
            raise PermissionError(f"{self.doctype} records cannot be changed")
        if not self.flags.written_by_audit:
            raise PermissionError(f"{self.doctype} records are written by the system only")

    def on_trash(self):
        raise PermissionError(f"{self.doctype} records cannot be deleted")


def _now():
    return datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")


def _ip():
    request = getattr(local, "request", None)
    return request.META.get("REMOTE_ADDR") if request is not None else None


def log_activity(subject, operation, status="Success", user=None, reference_doctype=None, reference_name=None,
                 content=None, ip=None):
    from .document import get_doc
    user = user or local.user
    full_name = local.db.get_value("User", user, "full_name") if user else None
    doc = get_doc({"doctype": "Activity Log", "subject": subject[:1000], "operation": operation, "status": status,
                   "user": user, "full_name": full_name, "ip_address": ip or _ip(),
                   "communication_date": _now(), "reference_doctype": reference_doctype,
                   "reference_name": reference_name, "content": content})
    doc.flags.written_by_audit = True
    # ignore_links: a failed login names the user as typed, who may not exist.
    doc.insert(ignore_permissions=True, ignore_links=True)
    return doc


def log_login(user, ip=None):
    log_activity(f"{user} logged in", "Login", user=user, ip=ip)


def log_logout(user, ip=None):
    log_activity(f"{user} logged out", "Logout", user=user, ip=ip)


def log_failed_login(login, ip=None, reason="Invalid login or password"):
    """A failed login's row (the name as typed; never the password), committed on its
    own: the failing request rolls back, and the row must survive it. The request
    wrote nothing before the check failed, so its unit of work ends first."""
    db = local.db
    db.rollback()
    db.set_read_only(False)
    db.begin()
    log_activity(f"Failed login for {login or '(no user name)'}: {reason}", "Login", status="Failed",
                 user=(login or "")[:140] or None, ip=ip)
    db.commit()
    db.begin()


def log_export(export_from, file_type, method=None, report_name=None, filters=None, reference_document=None):
    """An export's Access Log row. An export may be a GET (a read-only unit of work, which
    wrote nothing): like logout, its one write gets a unit of its own, which the request
    commits (a foreign page that triggers an export only adds this row)."""
    db = local.db
    if db.read_only:
        db.commit()
        db.set_read_only(False)
        db.begin()
    from .document import get_doc
    doc = get_doc({"doctype": "Access Log", "user": local.user, "export_from": export_from,
                   "file_type": file_type.upper(), "method": method, "report_name": report_name,
                   "reference_document": reference_document,
                   "filters": json.dumps(filters, ensure_ascii=False, default=str) if filters not in (None, "") else None,
                   "ip_address": _ip(), "timestamp": _now()})
    doc.flags.written_by_audit = True
    doc.insert(ignore_permissions=True, ignore_links=True)


def on_doc_event(doc, method, *args):
    """``"*"`` doc_events: a row for a permission, role or customisation change, in the
    change's own transaction. A DocType's own permissions (DocPerm) change with the DocType."""
    doctype = doc.doctype
    if doctype == "User":
        return _user_changes(doc, method)
    if doctype in PERMISSION_DOCTYPES:
        operation = "Permission"
    elif doctype in CUSTOMIZATION_DOCTYPES:
        operation = "Customization"
    else:
        return
    if _installing():
        return
    if method == "on_update" and doc._doc_before_save is None:
        return  # a new record: after_insert told it
    action = _EVENTS.get(method)
    if action is None:
        return
    log_activity(f"{doctype} {doc.name} {action}", operation, reference_doctype=doctype,
                 reference_name=None if method == "on_trash" else doc.name,
                 content=_summary(doc))


def _installing():
    """An app's install, migrate or uninstall writing what it declares (ownership.py's
    ``owning_app``): the app's own definitions, not someone's change."""
    flags = local.flags
    return bool(flags.in_install or flags.in_migrate or flags.in_uninstall or flags.get("owning_app"))


def _summary(doc):
    """What the row changed, without secrets (these DocTypes hold none)."""
    keep = {k: v for k, v in doc.as_dict(no_nulls=True).items()
            if not isinstance(v, list) and k not in ("owner", "creation", "modified", "modified_by", "idx",
                                                       "docstatus")}
    return json.dumps(keep, ensure_ascii=False, default=str)[:10000]


def _user_changes(doc, method):
    """Roles added or removed (Has Role rows) and the user enabled or disabled."""
    if method != "on_update" or _installing():
        return
    before = doc._doc_before_save
    old_roles = {r.role for r in before.roles} if before is not None else set()
    new_roles = {r.role for r in doc.roles}
    for role in sorted(new_roles - old_roles):
        log_activity(f"Role {role} added to {doc.name}", "Permission", reference_doctype="User",
                     reference_name=doc.name, content=json.dumps({"role": role, "added": 1}))
    for role in sorted(old_roles - new_roles):
        log_activity(f"Role {role} removed from {doc.name}", "Permission", reference_doctype="User",
                     reference_name=doc.name, content=json.dumps({"role": role, "removed": 1}))
    if before is not None and int(before.enabled or 0) != int(doc.enabled or 0):
        state = "enabled" if int(doc.enabled or 0) else "disabled"
        log_activity(f"User {doc.name} {state}", "Permission", reference_doctype="User", reference_name=doc.name)
