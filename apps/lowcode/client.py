"""The ``frappe.client`` methods existing Frappe clients call, and the document
payload rules the REST resource API shares with them. Every read goes through the
permission-checked query layer; every write through Document, so validation,
hooks, permissions and versions always apply."""
from . import document as documents, params, query, rename
from .context import local
from .database.replicas import reads_from_replica
from .exceptions import InvalidFieldError, PermissionError, ValidationError
from .meta import STANDARD_FIELDS, CHILD_FIELDS, get_meta
from .permissions import permitted_fieldnames

_IGNORED_KEYS = {"doctype", "__islocal", "__unsaved", "__last_sync_on", "__onload", "_assign", "_comments",
                 "_liked_by", "_user_tags", "_seen", "__newname"}


def clean_payload(doctype, data, child=False):
    """Check a client's document data against metadata: unknown fields are refused by
    name rather than silently dropped, child rows likewise."""
    if not isinstance(data, dict):
        raise ValidationError(f"{doctype}: document data must be an object")
    meta = get_meta(doctype)
    allowed = set(STANDARD_FIELDS) | {f.fieldname for f in meta.data_fields}
    if child:
        allowed |= set(CHILD_FIELDS)
    out = {}
    for key, value in data.items():
        if key in _IGNORED_KEYS or key.startswith("__"):
            if key == "__newname":
                out[key] = _standard_value(key, value)
            continue
        tf = meta.get_table_field(key)
        if tf is not None:
            if not isinstance(value, list):
                raise InvalidFieldError(f"{tf.label or key}: expected a list of rows", field=key)
            out[key] = [clean_payload(tf.options, row, child=True) for row in value]
        elif key in allowed:
            out[key] = _standard_value(key, value) if key in _STANDARD_SET else value
        else:
            raise InvalidFieldError(f"{doctype} has no field {key!r}", field=key, doctype=doctype)
    return out


_STANDARD_SET = frozenset(STANDARD_FIELDS) | frozenset(CHILD_FIELDS)


def _standard_value(key, value):
    """Standard columns from a client: docstatus and idx are whole numbers, the rest
    names or timestamps (text); a list or object is refused naming the key."""
    if key in ("docstatus", "idx"):
        from .fields import registry
        return registry["Int"].coerce(value, {"fieldname": key, "label": key})
    if value is not None and not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise InvalidFieldError(f"{key} must be text, got {type(value).__name__}", field=key)
    return value


def doc_for_user(doc):
    """The document as the current user may see it: fields of unreadable permission
    levels removed, in the parent and its rows."""
    data = doc.as_dict()
    if local.user == "Administrator" or doc.flags.ignore_permissions:
        return data
    readable = set(permitted_fieldnames(doc.doctype, doc=doc))
    for df in doc.meta.data_fields:
        if df.fieldname not in readable:
            data.pop(df.fieldname, None)
    for tf in doc.meta.table_fields:
        if tf.fieldname not in readable and int(tf.permlevel or 0):
            data.pop(tf.fieldname, None)
    return data


def get_readable_doc(doctype, name):
    doc = documents.get_doc(doctype, name)
    doc.check_permission("read")
    return doc


def doc_arg(doc, what="doc"):
    """A document argument (an object, or its JSON text) as a dict; anything else is
    refused naming the argument."""
    data = params.parse_json_arg(doc, what)
    if not isinstance(data, dict):
        raise ValidationError(f"{what} must be a JSON object, got {type(data).__name__}", field=what)
    return data


def insert_doc(data):
    if not isinstance(data, dict):
        raise ValidationError(f"a document must be a JSON object, got {type(data).__name__}", field="doc")
    doctype = data.get("doctype")
    if not doctype:
        raise ValidationError("doctype is required", field="doctype")
    meta = get_meta(doctype)
    if meta.istable:
        raise PermissionError(f"{doctype} is a child table: insert it through its parent")
    data, new_password = _take_new_password(doctype, data)
    doc = documents.get_doc(dict(clean_payload(doctype, data), doctype=doctype))
    doc.insert()
    if new_password is not None:
        from .core.doctype.user.user import set_new_password
        set_new_password(doc.name, new_password)
    return doc


def _take_new_password(doctype, data):
    """Frappe's ``new_password`` on User: not a field of the document (never stored in
    or returned with it) but a password to hash through auth (core/doctype/user)."""
    if doctype != "User" or "new_password" not in data:
        return data, None
    data = dict(data)
    return data, data.pop("new_password") or None  # empty: no change, as in Frappe


def update_doc(doctype, name, data):
    data, new_password = _take_new_password(doctype, data)
    if new_password is not None:
        from .core.doctype.user.user import set_new_password
        set_new_password(name, new_password)  # checks who may, on the stored record
        if not set(data) - _IGNORED_KEYS - {"name", "modified"}:
            return documents.get_doc(doctype, name)  # a user changing only their own password
    doc = documents.get_doc(doctype, name)
    payload = clean_payload(doctype, data)
    payload.pop("name", None)
    for key in ("owner", "creation", "modified_by", "docstatus"):
        payload.pop(key, None)
    doc.update(payload)
    return doc.save()


# -- frappe.client ---------------------------------------------------------------------------

@reads_from_replica
def get_list(doctype: str, fields: str | list = None, filters: str | dict | list = None, order_by: str = None,
             limit_start: int = 0, limit_page_length: int = 20, parent: str = None,
             or_filters: str | dict | list = None, group_by: str = None, as_dict: bool = True, limit: int = None,
             **_):
    return query.get_list(doctype, fields=fields, filters=filters, or_filters=or_filters, order_by=order_by,
                          limit_start=limit_start, limit_page_length=limit or limit_page_length,
                          group_by=group_by, as_list=not _truthy(as_dict))


@reads_from_replica
def get_count(doctype: str, filters: str | dict | list = None, **_):
    return query.get_count(doctype, filters=filters)


def get(doctype: str, name: str = None, filters: str | dict | list = None, parent: str = None, **_):
    if isinstance(filters, str) and filters[:1] in ("{", "["):
        filters = params.parse_json_arg(filters, "filters")
    meta = get_meta(doctype)
    if filters and not name:
        name = query.get_value(doctype, filters, "name")
        if not name:
            from .exceptions import DoesNotExistError
            raise DoesNotExistError(f"{doctype} matching {filters} not found", doctype=doctype)
    if meta.issingle:
        name = doctype
    return doc_for_user(get_readable_doc(doctype, name))


def get_value(doctype: str, fieldname: str | list, filters: str | dict | list = None, as_dict: bool = True,
              parent: str = None, **_):
    fields = params.parse_json_arg(fieldname, "fieldname") if isinstance(fieldname, str) and fieldname[:1] == "[" \
        else fieldname
    if isinstance(filters, str) and filters[:1] in ("{", "["):
        filters = params.parse_json_arg(filters, "filters")
    fields = fields if isinstance(fields, list) else [fields]
    rows = query.get_list(doctype, fields=fields, filters=filters or {}, limit_page_length=1)
    if not rows:
        return None
    return rows[0] if _truthy(as_dict) else [rows[0][k] for k in rows[0]]


def get_single_value(doctype: str, field: str):
    if not get_meta(doctype).issingle:
        raise ValidationError(f"{doctype} is not a single DocType", field="doctype")
    doc = get_readable_doc(doctype, doctype)
    return doc_for_user(doc).get(field)


def set_value(doctype: str, name: str, fieldname: str | dict, value=None):
    values = params.parse_json_arg(fieldname, "fieldname") if isinstance(fieldname, str) and fieldname[:1] == "{" \
        else fieldname
    if not isinstance(values, dict):
        values = {values: value}
    return doc_for_user(update_doc(doctype, name, values))


def insert(doc: str | dict):
    return doc_for_user(insert_doc(doc_arg(doc)))


def insert_many(docs: str | list):
    docs = params.parse_json_arg(docs, "docs")
    if not isinstance(docs, list):
        raise ValidationError("docs must be a list", field="docs")
    return [insert_doc(d).name for d in docs]


def save(doc: str | dict):
    data = doc_arg(doc)
    return doc_for_user(update_doc(data.get("doctype"), data.get("name"), data))


def delete(doctype: str, name: str):
    documents.delete_doc(doctype, name)


def submit(doc: str | dict):
    data = doc_arg(doc)
    target = documents.get_doc(data.get("doctype"), data.get("name"))
    if data.get("modified"):
        target.modified = data["modified"]
    return doc_for_user(target.submit())


def cancel(doctype: str, name: str):
    return doc_for_user(documents.get_doc(doctype, name).cancel())


def rename_doc(doctype: str, old_name: str, new_name: str, merge: bool = False):
    return rename.rename_doc(doctype, old_name, new_name, merge=_truthy(merge))


def bulk_update(docs: str | list):
    """frappe.client.bulk_update: each row ``{doctype, docname, field: value, ...}`` saved as
    the user through Document (permission decided on the stored record). A row that fails
    is undone alone (a savepoint) and reported in ``failed_docs`` with its error's line;
    the others are saved, as Frappe does; so is a row the database itself refuses (a
    value too long, a constraint), while an error that may have ended the transaction (a
    deadlock, a lost connection) fails the whole request."""
    rows = params.parse_json_arg(docs, "docs")
    if not isinstance(rows, list):
        raise ValidationError("docs must be a JSON list of documents", field="docs")
    failed = []
    for row in rows:
        local.db.savepoint("bulk_update")
        try:
            if not isinstance(row, dict):
                raise ValidationError("each document must be a JSON object", field="docs")
            data = {k: v for k, v in row.items() if k not in ("flags", "docname")}
            if not row.get("doctype") or not row.get("docname"):
                raise ValidationError("each document needs doctype and docname", field="docname")
            update_doc(row["doctype"], row["docname"], data)
        except Exception as exc:  # noqa: BLE001 - _row_error re-raises what is not the row's own failure
            e = _row_error(exc)
            local.db.rollback_to_savepoint("bulk_update")
            failed.append({"doc": row, "exc": f"lowcode.exceptions.{e.exc_type}: {e.message}"})
        local.db.release_savepoint("bulk_update")
    return {"failed_docs": failed}


def _row_error(exc):
    """The error a failed bulk_update row is reported with: its own, else what the
    database's refusal means to the client (the column a value is too long for, a taken
    unique value; anything else logged under a trace id). Re-raises an error after which
    the transaction may be gone, so the request fails whole."""
    from .database import error_kind
    from .exceptions import LowcodeError
    from .web.server_errors import server_error
    if isinstance(exc, LowcodeError):
        return exc
    refused = local.db.client_value_error(exc)
    if refused is not None:
        return refused
    if error_kind(exc) in (None, "lock_timeout", "deadlock", "connection"):
        raise exc
    return server_error(exc, local.request)


def attach_file(filename: str = None, filedata: str = None, doctype: str = None, docname: str = None,
                folder: str = None, decode_base64: bool = False, is_private: bool = None, docfield: str = None):
    """frappe.client.attach_file: ``filedata`` (base64 with ``decode_base64``, else the text
    itself) saved as a File attached to a record the user may write (checked on the stored
    record before anything is written), through the upload rules of api/files.py (name,
    size, type); with ``docfield`` the record's field gets the file's URL."""
    import base64
    import binascii
    import re
    from .api import files
    for name, value in (("filename", filename), ("doctype", doctype), ("docname", docname)):
        if not value:
            raise ValidationError(f"{name} is required", field=name)
    if filedata is None:
        raise ValidationError("filedata is required", field="filedata")
    doc = documents.get_doc(doctype, docname)
    doc.check_permission("write")
    if docfield and doc.meta.get_field(docfield) is None:
        raise InvalidFieldError(f"{doctype} has no field {docfield!r}", field="docfield", doctype=doctype)
    if decode_base64:
        if "," in filedata[:200]:
            filedata = filedata.split(",", 1)[1]  # a data: URL, as Frappe's File accepts
        # checked before decoding: the decoded size is three quarters of the text's
        files.check_upload(files.safe_name(filename), len(filedata) * 3 // 4)
        try:
            content = base64.b64decode(re.sub(r"[\r\n]+", "", filedata), validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError("filedata is not base64", field="filedata") from None
    else:
        content = filedata.encode("utf-8")
    return files.save_file(filename, content, private=bool(is_private), attached_to_doctype=doctype,
                           attached_to_name=doc.name, attached_to_field=docfield or None,
                           folder=folder).as_dict()


def _truthy(value):
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)
