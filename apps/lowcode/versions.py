"""Version history for ``track_changes`` DocTypes: who changed which field from what
to what, and which child rows were added, removed or edited."""
import json

from .context import local
from .meta import STANDARD_FIELDS
from .utils import generate_hash, now

_SKIP = set(STANDARD_FIELDS) | {"parent", "parentfield", "parenttype"}


def diff(old, new):
    """A Frappe-shaped change record, or None when nothing a user would see changed."""
    meta = new.meta
    changed = []
    for df in meta.data_fields:
        a, b = old.get(df.fieldname), new.get(df.fieldname)
        if _norm(a) != _norm(b):
            changed.append([df.fieldname, a, b])
    added, removed, row_changed = [], [], []
    for tf in meta.table_fields:
        old_rows = {r.name: r for r in old.get(tf.fieldname) or []}
        new_rows = {r.name: r for r in new.get(tf.fieldname) or []}
        for name, row in new_rows.items():
            if name not in old_rows:
                added.append([tf.fieldname, row.as_dict(no_nulls=True)])
            else:
                cells = [[df.fieldname, old_rows[name].get(df.fieldname), row.get(df.fieldname)]
                         for df in row.meta.data_fields
                         if _norm(old_rows[name].get(df.fieldname)) != _norm(row.get(df.fieldname))]
                if cells:
                    row_changed.append([tf.fieldname, row.idx, name, cells])
        for name, row in old_rows.items():
            if name not in new_rows:
                removed.append([tf.fieldname, row.as_dict(no_nulls=True)])
    if not (changed or added or removed or row_changed):
        return None
    return {"changed": changed, "added": added, "removed": removed, "row_changed": row_changed}


def _norm(value):
    return None if value in ("", None, []) else value


def record(old, new):
    data = diff(old, new)
    if data is None:
        return None
    ts = now()
    row = {"name": generate_hash(10), "owner": local.user, "creation": ts, "modified": ts,
           "modified_by": local.user, "docstatus": 0, "idx": 0, "ref_doctype": new.doctype,
           "docname": new.name, "data": json.dumps(data, ensure_ascii=False, default=str)}
    local.db.insert_row("Version", row)
    return data


def get_versions(doctype, name):
    rows = local.db.sql("SELECT `owner`, `creation`, `data` FROM `tabVersion` WHERE `ref_doctype`=%s "
                        "AND `docname`=%s ORDER BY `creation`", (doctype, name), as_dict=True)
    for r in rows:
        r["data"] = json.loads(r["data"])
    return rows
