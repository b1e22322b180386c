"""Which app made which record, so uninstall and migrate take back exactly that.

Frappe ties records to apps through ``module`` -> Module Def -> app, which only works for
DocTypes that have a ``module`` field (a fixture may be of any DocType). Here one ledger,
``tabApp Record`` (app, ref_doctype, ref_name, root), holds every record an app's install
or migrate makes or declares, whatever its DocType:

- the records in its ``fixtures/`` and ``workflows/`` files (declared: ``root`` is the
  record itself);
- what saving them makes (a workflow's state field, Select options, states, actions and
  roles): inserted while ``owned_by(app, root)`` is in force, ``root`` is the declaring record;
- the roles its DocTypes' permissions name and its Scheduled Job Types.

A migrate lists the roots the app still declares (``declare``); ``remove_undeclared``
takes back the rest. ``uninstall`` takes back all. A record two apps claim (a shared role or
workflow state) stays until neither does. The app's own DocTypes carry ``app`` themselves
(tabDocType) and their tables go with them.
"""
import contextlib

from .context import local

TABLE = "App Record"
# Records that are never an app's to take back: DocTypes carry their app themselves; the rest
# are history or bookkeeping written as a side effect of any save.
UNTRACKED = {"DocType", "Installed App", "Module Def", "Version", "Comment", "DocShare",
             "Activity Log", "Access Log"}  # the audit trail outlives the app (audit.py)
# Removal order: what refers to others first (a workflow before its state field and states),
# roles last (permission rules and workflows name them).
_ORDER = {"Workflow": 0, "Property Setter": 1, "Custom Field": 2, "Workflow State": 8,
          "Workflow Action Master": 8, "Role": 9}


def create_table(db):
    if not db.table_exists(TABLE):
        v = db.column_sql_type
        db.sql(f"CREATE TABLE `tab{TABLE}` (`app` {v('varchar', 140)} NOT NULL, "
               f"`ref_doctype` {v('varchar', 140)} NOT NULL, `ref_name` {v('varchar', 140)} NOT NULL, "
               f"`root` {v('varchar', 300)} NOT NULL, PRIMARY KEY (`app`, `ref_doctype`, `ref_name`))")


def _root(doctype, name):
    return f"{doctype}/{name}"


@contextlib.contextmanager
def owned_by(app, root=None):
    """Records inserted inside belong to ``app`` (``root``: the declared record that makes them)."""
    saved = (local.flags.get("owning_app"), local.flags.get("owning_root"))
    local.flags.owning_app, local.flags.owning_root = app, root
    try:
        yield
    finally:
        local.flags.owning_app, local.flags.owning_root = saved


def on_insert(doc):
    """Document.insert calls this after writing the row: claim it for the app being installed."""
    app = local.flags.get("owning_app")
    if not app or doc.doctype in UNTRACKED:
        return
    if local.db.sql("SELECT 1 FROM `tabDocType` WHERE `name`=%s AND `app`=%s", (doc.doctype, app)):
        return  # a record of the app's own DocType goes with its table
    claim(app, doc.doctype, doc.name, local.flags.get("owning_root") or _root(doc.doctype, doc.name))


def claim(app, doctype, name, root=None):
    db = local.db
    if not db.sql(f"SELECT 1 FROM `tab{TABLE}` WHERE `app`=%s AND `ref_doctype`=%s AND `ref_name`=%s",
                  (app, doctype, name)):
        db.sql(f"INSERT INTO `tab{TABLE}` (`app`, `ref_doctype`, `ref_name`, `root`) VALUES (%s, %s, %s, %s)",
               (app, doctype, name, root or _root(doctype, name)))


def declare(declared, doctype, name):
    """Note in ``declared`` (a set a migrate keeps per app) that the app still declares this record."""
    declared.add(_root(doctype, name))


def declared_record(app, declared, doctype, name):
    """A record in the app's files: claimed as its own root and declared."""
    claim(app, doctype, name)
    declare(declared, doctype, name)


def records(app):
    rows = local.db.sql(f"SELECT `ref_doctype`, `ref_name`, `root` FROM `tab{TABLE}` WHERE `app`=%s", (app,),
                        as_dict=True)
    return sorted(rows, key=lambda r: (_ORDER.get(r["ref_doctype"], 5), r["ref_doctype"], r["ref_name"]))


def remove_undeclared(app, declared):
    """Take back what the app made earlier and no longer declares; returns [(doctype, name)]."""
    return _remove(app, [r for r in records(app) if r["root"] not in declared])


def remove_all(app):
    return _remove(app, records(app))


def _remove(app, rows):
    db = local.db
    removed = []
    for r in rows:
        doctype, name = r["ref_doctype"], r["ref_name"]
        db.sql(f"DELETE FROM `tab{TABLE}` WHERE `app`=%s AND `ref_doctype`=%s AND `ref_name`=%s",
               (app, doctype, name))
        others = db.sql(f"SELECT 1 FROM `tab{TABLE}` WHERE `ref_doctype`=%s AND `ref_name`=%s", (doctype, name))
        if others or not db.table_exists(doctype) or not db.exists(doctype, name):
            continue
        if doctype == "Role" and _role_in_use_elsewhere(app, name):
            continue
        _remove_record(doctype, name)
        removed.append((doctype, name))
    if removed:  # the metadata signal drops workflows, hooks and controllers too
        from . import meta
        meta.clear_cache()
    return removed


def _role_in_use_elsewhere(app, role):
    """Another app's DocType grants the role: it stays (that app would have made it too)."""
    return bool(local.db.sql("SELECT 1 FROM `tabDocPerm` p JOIN `tabDocType` d ON d.`name`=p.`parent` "
                             "WHERE p.`role`=%s AND COALESCE(d.`app`, '')!=%s LIMIT 1", (role, app)))


def _remove_record(doctype, name):
    from .document import delete_doc, load_doc
    if doctype == "Custom Field":
        from .customize import drop_custom_field
        drop_custom_field(load_doc(doctype, name))
        return
    delete_doc(doctype, name, ignore_permissions=True, force=True)
    if doctype == "Role":  # no user or permission rule keeps a role that no longer exists
        local.db.sql("DELETE FROM `tabHas Role` WHERE `role`=%s", (name,))
        local.db.sql("DELETE FROM `tabCustom DocPerm` WHERE `role`=%s", (name,))
