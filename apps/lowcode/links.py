"""Which DocTypes link to a DocType (Link and Dynamic Link fields, standard and custom),
and the check that nothing links to a document before it is deleted (Frappe's
LinkExistsError, 417). Renaming (rename.py) follows the same links."""
from .apps import get_hooks
from .context import local
from .exceptions import LinkExistsError
from .meta import get_meta


def get_linked_fields(doctype):
    """[(doctype, fieldname, istable)] of every Link field that points at ``doctype``."""
    db = local.db
    rows = db.sql("SELECT df.`parent`, df.`fieldname`, dt.`istable` FROM `tabDocField` df "
                  "JOIN `tabDocType` dt ON dt.`name` = df.`parent` "
                  "WHERE df.`fieldtype`='Link' AND df.`options`=%s", (doctype,))
    rows += db.sql("SELECT cf.`dt`, cf.`fieldname`, dt.`istable` FROM `tabCustom Field` cf "
                   "JOIN `tabDocType` dt ON dt.`name` = cf.`dt` "
                   "WHERE cf.`fieldtype`='Link' AND cf.`options`=%s", (doctype,))
    return [(r[0], r[1], bool(r[2])) for r in rows]


def get_dynamic_linked_fields():
    db = local.db
    return db.sql("SELECT df.`parent`, df.`fieldname`, df.`options` FROM `tabDocField` df "
                  "WHERE df.`fieldtype`='Dynamic Link'") + db.sql(
        "SELECT `dt`, `fieldname`, `options` FROM `tabCustom Field` WHERE `fieldtype`='Dynamic Link'")


def _links_ignored_on_delete():
    """DocTypes whose links never block a deletion: the document's own history and
    attachments, and what apps name in Frappe's ``ignore_links_on_delete`` hook (a log
    such as crm_app's Assignment Log keeps its row, naming a record that is gone)."""
    return {"Version", "Comment", "DocShare", "File"} | set(get_hooks("ignore_links_on_delete", []))


def check_no_links(doc):
    db = local.db
    ignored = _links_ignored_on_delete()
    for parent_dt, fieldname, istable in get_linked_fields(doc.doctype):
        if parent_dt in ignored:
            continue
        if parent_dt == doc.doctype and fieldname and not istable:
            rows = db.sql(f"SELECT `name` FROM `tab{parent_dt}` WHERE `{fieldname}`=%s AND `name`!=%s LIMIT 1",
                          (doc.name, doc.name))
        elif istable:
            rows = db.sql(f"SELECT `parenttype`, `parent` FROM `tab{parent_dt}` WHERE `{fieldname}`=%s "
                          "AND NOT (`parenttype`=%s AND `parent`=%s) LIMIT 1", (doc.name, doc.doctype, doc.name))
            if rows:
                raise LinkExistsError(f"Cannot delete {doc.doctype} {doc.name}: it is linked from "
                                      f"{rows[0][0]} {rows[0][1]}", doctype=doc.doctype)
            continue
        else:
            rows = db.sql(f"SELECT `name` FROM `tab{parent_dt}` WHERE `{fieldname}`=%s LIMIT 1", (doc.name,))
        if rows:
            raise LinkExistsError(f"Cannot delete {doc.doctype} {doc.name}: it is linked from "
                                  f"{parent_dt} {rows[0][0]}", doctype=doc.doctype)


def check_no_dynamic_links(doc):
    db = local.db
    ignored = _links_ignored_on_delete()
    for parent_dt, fieldname, dt_field in get_dynamic_linked_fields():
        if parent_dt in ignored or not db.table_exists(parent_dt):
            continue
        meta = get_meta(parent_dt)
        if meta.istable:
            rows = db.sql(f"SELECT `parenttype`, `parent` FROM `tab{parent_dt}` WHERE `{fieldname}`=%s "
                          f"AND `{dt_field}`=%s AND NOT (`parenttype`=%s AND `parent`=%s) LIMIT 1",
                          (doc.name, doc.doctype, doc.doctype, doc.name))
        else:
            rows = [(parent_dt, r[0]) for r in db.sql(
                f"SELECT `name` FROM `tab{parent_dt}` WHERE `{fieldname}`=%s AND `{dt_field}`=%s LIMIT 1",
                (doc.name, doc.doctype))]
        if rows:
            raise LinkExistsError(f"Cannot delete {doc.doctype} {doc.name}: it is linked from "
                                  f"{rows[0][0]} {rows[0][1]}", doctype=doc.doctype)
