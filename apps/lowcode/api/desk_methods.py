"""Frappe's desk methods that API clients call (``frappe.desk.form.*``,
``frappe.client.validate_link``), on the engine's own comment, assignment and
permission code: each reads and writes as the user, as the desk does."""
from .. import client, query
from ..desk.views import collaboration
from ..assignments import read_assign
from ..exceptions import DoesNotExistError
from ..meta import get_meta
from .request import json_arg


def add_comment(reference_doctype: str, reference_name: str, content: str, comment_email: str = None,
                comment_by: str = None):
    """frappe.desk.form.utils.add_comment: a comment on a record the user may read (the
    author is always the user, whatever ``comment_email`` says); mentions notify."""
    doc = client.get_readable_doc(reference_doctype, reference_name)
    comment, _notified, _skipped = collaboration.add_comment(doc, content)
    return comment.as_dict()


def assign_add(doctype: str, name: str, assign_to: str | list, date: str = None, description: str = None,
               priority: str = "Medium"):
    """frappe.desk.form.assign_to.add: assign a record (needs write on it); answers the
    record's assignees, as Frappe does."""
    doc = client.get_readable_doc(doctype, name)
    users = json_arg({"assign_to": assign_to}, "assign_to")
    collaboration.assign(doc, users if isinstance(users, list) else [users], date=date, description=description,
                         priority=priority or "Medium")
    return read_assign(doctype, name)


def assign_remove(doctype: str, name: str, assign_to: str):
    """frappe.desk.form.assign_to.remove: take a user off a record; answers the assignees left."""
    doc = client.get_readable_doc(doctype, name)
    collaboration.unassign(doc, assign_to)
    return read_assign(doctype, name)


def validate_link(doctype: str, docname: str, fields: str | list = None):
    """frappe.client.validate_link: {"name": ...} (and the asked fields) when the record
    exists and the user may read it, else {} (Frappe's answer for a broken link)."""
    get_meta(doctype)  # an unknown DocType is a 404
    wanted = json_arg({"fields": fields}, "fields") or []
    rows = query.get_list(doctype, fields=["name"] + [f for f in wanted if f != "name"],
                          filters=[["name", "=", docname]], limit_page_length=1)
    return rows[0] if rows else {}


def getdoc(doctype: str, name: str):
    """frappe.desk.form.load.getdoc: the record as the user may see it, and its docinfo
    (assignments, comments), as Frappe's form loads it."""
    doc = client.get_readable_doc(doctype, name)
    comments = query.get_all("Comment", filters={"reference_doctype": doctype, "reference_name": doc.name,
                                                 "comment_type": "Comment"},
                             fields=["name", "content", "comment_email", "creation", "owner"],
                             order_by="creation desc")
    todos = collaboration.open_todos(doc)
    return {"docs": [client.doc_for_user(doc)],
            "docinfo": {"doctype": doctype, "name": doc.name, "comments": comments,
                        "assignments": [{"name": t["name"], "owner": t["allocated_to"]} for t in todos]}}


def getdoctype(doctype: str, with_parent: int = 0):
    """frappe.desk.form.load.getdoctype: the DocType's definition and its child tables'
    (what a client builds its form from), for a user who may read the DocType's records."""
    from ..permissions import has_permission
    from ..exceptions import PermissionError
    meta = get_meta(doctype)
    if not has_permission(doctype, "read"):
        raise PermissionError(f"Not permitted: read {doctype}", doctype=doctype)
    docs = [meta.as_dict()]
    for table in meta.table_fields:
        try:
            docs.append(get_meta(table.options).as_dict())
        except DoesNotExistError:
            continue
    return {"docs": docs}
