"""``is_public`` on Reports and Workspaces: a public record is shared with everyone
(one DocShare row with ``everyone=1``, ``read=1``), so every read path (lists, forms,
the REST API, the report view's list of saved reports) shows it through the engine's
own share rule instead of a special case per view. Owners still hold the only write
access (their DocPerm rule is ``if_owner``)."""
from lowcode.context import local
from lowcode.document import delete_doc, get_doc
from lowcode.exceptions import PermissionError
from lowcode.permissions import has_permission


def check_may_publish(doc):
    """Making a record public shares it with everyone, so, as for any share (Frappe's
    rule), it needs the ``share`` right on it: System Managers by default, not the
    owner's ``if_owner`` rule. Keeping a record public that already is needs nothing."""
    if not int(doc.get("is_public") or 0) or doc.flags.ignore_permissions:
        return
    before = doc._doc_before_save
    if before is not None and int(before.get("is_public") or 0):
        return
    if not has_permission(doc.doctype, "share", doc=doc):
        raise PermissionError(f"Not permitted to make this {doc.doctype} public (it needs the share permission)",
                              field="is_public", doctype=doc.doctype)


def sync_public_share(doc):
    rows = local.db.sql("SELECT `name` FROM `tabDocShare` WHERE `share_doctype`=%s AND `share_name`=%s "
                        "AND `everyone`=1", (doc.doctype, doc.name), pluck=True)
    if int(doc.get("is_public") or 0):
        if not rows:
            get_doc({"doctype": "DocShare", "share_doctype": doc.doctype, "share_name": doc.name,
                     "everyone": 1, "read": 1}).insert(ignore_permissions=True)
    else:
        for name in rows:
            delete_doc("DocShare", name, ignore_permissions=True)


def share_with_user(doctype, name, user, write=0):
    """Let one user read (and optionally write) one document, unless they already can
    through a share."""
    if local.db.sql("SELECT 1 FROM `tabDocShare` WHERE `share_doctype`=%s AND `share_name`=%s AND `user`=%s "
                    "AND `read`=1", (doctype, name, user)):
        return
    get_doc({"doctype": "DocShare", "share_doctype": doctype, "share_name": name, "user": user,
             "read": 1, "write": int(write)}).insert(ignore_permissions=True)
