"""Renaming a document (Frappe's rename_doc): the row, its child rows, every Link and
Dynamic Link that points at it, and the records that name it in plain fields; with
``merge``, folding it into an existing document."""
from .caches import forget_records, forgettable_doctypes
from .context import local
from .document import load_doc
from .exceptions import DoesNotExistError, DuplicateEntryError, PermissionError, ValidationError
from .links import get_dynamic_linked_fields, get_linked_fields
from .meta import get_meta
from .naming import advance_series_past, check_name
from .utils import now


def rename_doc(doctype, old, new, merge=False, ignore_permissions=False):
    """Rename a document and every Link and Dynamic Link that points at it.
    With ``merge``, fold ``old`` into an existing ``new``."""
    db = local.db
    meta = get_meta(doctype)
    doc = load_doc(doctype, old)
    if ignore_permissions:
        doc.flags.ignore_permissions = True
    new = (new or "").strip()
    if not new:
        raise ValidationError("the new name is empty", field="name")
    check_name(new, doctype)
    if not doc.flags.ignore_permissions:
        if not meta.allow_rename and local.user != "Administrator":
            raise PermissionError(f"{doctype} does not allow renaming")
        doc.check_permission("write")
        if merge:
            doc.check_permission("delete")
    exists = db.exists(doctype, new)
    if exists and not merge:
        raise DuplicateEntryError(f"{doctype} {new!r} already exists", field="name", doctype=doctype)
    if merge and not exists:
        raise DoesNotExistError(f"cannot merge: {doctype} {new!r} does not exist", doctype=doctype)
    if merge and not doc.flags.ignore_permissions:
        load_doc(doctype, new).check_permission("write")  # merging writes into the target, too
    doc.run_method("before_rename", old, new, merge)
    # the links moved reach records of many DocTypes: every memoised record is read again
    for memoised in [doctype] + forgettable_doctypes():
        forget_records(memoised)
    if merge:
        db.sql(f"DELETE FROM `tab{doctype}` WHERE `name`=%s", (old,))
        for tf in meta.table_fields:
            db.sql(f"DELETE FROM `tab{tf.options}` WHERE `parent`=%s AND `parenttype`=%s", (old, doctype))
    else:
        db.sql(f"UPDATE `tab{doctype}` SET `name`=%s, `modified`=%s, `modified_by`=%s WHERE `name`=%s",
               (new, now(), local.user, old))
        for tf in meta.table_fields:
            db.sql(f"UPDATE `tab{tf.options}` SET `parent`=%s WHERE `parent`=%s AND `parenttype`=%s",
                   (new, old, doctype))
    for parent_dt, fieldname, _ in get_linked_fields(doctype):
        db.sql(f"UPDATE `tab{parent_dt}` SET `{fieldname}`=%s WHERE `{fieldname}`=%s", (new, old))
    for parent_dt, fieldname, dt_field in get_dynamic_linked_fields():
        if db.table_exists(parent_dt):
            db.sql(f"UPDATE `tab{parent_dt}` SET `{fieldname}`=%s WHERE `{fieldname}`=%s AND `{dt_field}`=%s",
                   (new, old, doctype))
    # Shares, attachments and history name the document in plain fields, not Dynamic Links.
    for ref_table, dt_field, name_field in (("DocShare", "share_doctype", "share_name"),
                                            ("File", "attached_to_doctype", "attached_to_name"),
                                            ("Version", "ref_doctype", "docname")):
        if db.table_exists(ref_table):
            db.sql(f"UPDATE `tab{ref_table}` SET `{name_field}`=%s WHERE `{dt_field}`=%s AND `{name_field}`=%s",
                   (new, doctype, old))
    if meta.autoname.startswith("field:") and not merge:
        field = meta.autoname[6:]
        db.sql(f"UPDATE `tab{doctype}` SET `{field}`=%s WHERE `name`=%s", (new, new))
    renamed = load_doc(doctype, new)
    if not merge:
        advance_series_past(renamed, new)  # the series must not hand out the name again
    renamed.run_method("after_rename", old, new, merge)
    return new
