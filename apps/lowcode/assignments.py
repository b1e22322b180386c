"""Who a document is assigned to, stored twice and written in one place.

- ``_assign`` on the document's own row: Frappe's JSON list of user names, kept as it
  is for Frappe compatibility (clients, reports and the list's "assigned to" read it).
- ``tab_Assignment``: one row per (user, DocType, document), so that a row rule such as
  "what is assigned to me" is an index lookup. A ``LIKE '%"user"%'`` on the JSON column
  cannot use an index: at a million rows it scanned the table on every list and count
  of every user who is not an admin.

Every change of ``_assign`` goes through ``write_assign`` here (the ToDo controller,
the desk's assign/unassign, bulk assign and the CRM's assignment rules all call it),
which rewrites both in the same statement batch of the same transaction. Deleting and
renaming a document carry its rows along (``doc_events["*"]`` in lowcode/hooks.py), and
``lowcode migrate`` creates the table and fills it from ``_assign`` on sites made
before it existed.

The table is a system table like tabSeries, not a DocType: it is derived data, never
edited, and its name starts with an underscore, which no DocType name can.
"""
import json

from .context import local

TABLE = "_Assignment"  # tab_Assignment


def create_table(db):
    """Create the table (and fill it from every DocType's ``_assign``) if it is missing.
    Returns True when it was created."""
    if db.table_exists(TABLE):
        return False
    v = db.column_sql_type
    # The primary key answers "documents of this DocType assigned to this user" from the
    # index alone; the second index serves writes, deletes and renames by document.
    db.sql(f"CREATE TABLE `tab{TABLE}` (`user` {v('varchar', 140)} NOT NULL, "
           f"`reference_type` {v('varchar', 140)} NOT NULL, `reference_name` {v('varchar', 140)} NOT NULL, "
           f"PRIMARY KEY (`user`, `reference_type`, `reference_name`))")
    db.add_index(TABLE, "_assignment__reference", ["reference_type", "reference_name"])
    backfill(db)
    return True


def backfill(db, doctypes=None):
    """Rows for every user in every document's ``_assign`` (a site made before the
    table; ``doctypes`` limits it to those, whose rows must not be there yet)."""
    if not db.table_exists("DocType"):
        return 0
    added = 0
    if doctypes is None:
        doctypes = db.sql("SELECT `name` FROM `tabDocType` WHERE `istable`=0 AND `issingle`=0", pluck=True)
    for doctype in doctypes:
        if not db.table_exists(doctype):
            continue
        rows = db.sql(f"SELECT `name`, `_assign` FROM `tab{doctype}` WHERE `_assign` IS NOT NULL "
                      f"AND `_assign` NOT IN ('', '[]')")
        values = [(user, doctype, name) for name, raw in rows for user in dict.fromkeys(_parse(raw))]
        if values:
            db.bulk_insert(TABLE, ("user", "reference_type", "reference_name"), values)
            added += len(values)
    return added


def _parse(raw):
    try:
        value = json.loads(raw) if raw else []
    except ValueError:
        return []
    return [u for u in value if isinstance(u, str) and u] if isinstance(value, list) else []


def read_assign(doctype, name):
    rows = local.db.sql(f"SELECT `_assign` FROM `tab{doctype}` WHERE `name`=%s", (name,), pluck=True)
    return _parse(rows[0]) if rows else []


def write_assign(doctype, name, users):
    """Set the users a document is assigned to, in ``_assign`` and in the table."""
    users = list(dict.fromkeys(u for u in users if u))
    db = local.db
    # A direct UPDATE: _assign is bookkeeping, not a field edit, so the document's
    # modified timestamp and version history stay as they were (as in Frappe).
    db.sql(f"UPDATE `tab{doctype}` SET `_assign`=%s WHERE `name`=%s", (json.dumps(users) if users else None, name))
    db.sql(f"DELETE FROM `tab{TABLE}` WHERE `reference_type`=%s AND `reference_name`=%s", (doctype, name))
    if users:
        db.bulk_insert(TABLE, ("user", "reference_type", "reference_name"), [(u, doctype, name) for u in users])


def remove_assignment(doctype, name, user):
    users = read_assign(doctype, name)
    if user in users:
        write_assign(doctype, name, [u for u in users if u != user])


def assigned_subquery(user, doctype):
    """(sql, values) selecting the names of the ``doctype`` documents assigned to
    ``user``: read from the primary key alone."""
    return (f"SELECT `reference_name` FROM `tab{TABLE}` WHERE `user`=%s AND `reference_type`=%s",
            [user, doctype])


def is_assigned(user, doctype, name):
    return bool(local.db.sql(f"SELECT 1 FROM `tab{TABLE}` WHERE `user`=%s AND `reference_type`=%s "
                             f"AND `reference_name`=%s", (user, doctype, name)))


# -- doc_events["*"] --------------------------------------------------------------------------

def on_trash(doc, method=None):
    if doc.meta.istable or doc.doctype == "ToDo":
        return
    local.db.sql(f"DELETE FROM `tab{TABLE}` WHERE `reference_type`=%s AND `reference_name`=%s",
                 (doc.doctype, doc.name))


def after_rename(doc, method=None, old=None, new=None, merge=False):
    """The renamed document keeps its assignments (with ``merge``, those of the
    merged-away document are dropped with it: ``_assign`` of the kept one is unchanged)."""
    db = local.db
    if merge:
        db.sql(f"DELETE FROM `tab{TABLE}` WHERE `reference_type`=%s AND `reference_name`=%s", (doc.doctype, old))
    else:
        db.sql(f"UPDATE `tab{TABLE}` SET `reference_name`=%s WHERE `reference_type`=%s AND `reference_name`=%s",
               (new, doc.doctype, old))
