"""Data Import (Frappe's shape): a CSV or XLSX file for a DocType, its column mapping, a
preview, and the import as a background job with a log per row.

The methods clients call keep Frappe's names (``frappe.core.doctype.data_import.
data_import.download_template``, ``get_preview_from_template``, ``form_start_import``,
``download_errored_template``, ``get_import_status``; lowcode/api/method.py maps them here).
The rows' work is in importer.py, the files' in template.py."""
import json
import uuid

from django.http import HttpResponse

from lowcode import db
from lowcode.context import local
from lowcode.document import Document, get_doc
from lowcode.exceptions import PermissionError, ValidationError
from lowcode.meta import get_meta
from lowcode.naming import give_back_series_blocks, series_blocks
from lowcode.permissions import has_permission

from . import template
from .importer import INSERT, Importer, row_error

LOG = "Data Import Log"
ERROR_COLUMN = "Error"  # the failed-rows file's last column; left unmapped when the file comes back
BATCH = 500  # rows per commit: progress is seen and a long import holds no huge transaction
# Rows written under one savepoint: a savepoint a row was one of five statements a lead on
# MariaDB. A row that fails sends its group back, and the group is written again a row per
# savepoint, so the failed row is still undone alone.
GROUP = 50
SERIES_BLOCK = 100  # series numbers reserved at a time (naming.series_blocks)
SWITCH_FLAGS = {"skip_validation_hooks": "ignore_validate", "skip_workflows": "ignore_workflow",
                "skip_assignment_rules": "skip_assignment"}


def importable_meta(doctype):
    """The meta of a DocType records can be imported into (and exported from): a 404 naming
    it when there is none, a 417 for a child table or a single."""
    meta = get_meta(doctype)
    if meta.istable or meta.issingle:
        raise ValidationError(f"reference_doctype: {doctype} is a child table or a single "
                              "DocType and cannot be imported", field="reference_doctype")
    return meta


class DataImport(Document):
    def validate(self):
        meta = importable_meta(self.reference_doctype)
        if self.key_field and self.key_field != "name" and not meta.has_field(self.key_field):
            raise ValidationError(f"key_field: {self.reference_doctype} has no field {self.key_field!r}",
                                  field="key_field")
        if self.import_file:
            template.file_type_of(self.import_file)
        mapping_of(self)
        if self.import_mapping:
            erp = get_doc("Data Import Mapping", self.import_mapping)
            if erp.reference_doctype != self.reference_doctype:
                raise ValidationError(f"import_mapping: {erp.name} maps {erp.reference_doctype}, not "
                                      f"{self.reference_doctype}", field="import_mapping")


def mapping_of(doc):
    """The saved column mapping ({header: target or None}), checked for shape."""
    text = doc.template_options
    if not text:
        return None
    try:
        value = json.loads(text) if isinstance(text, str) else text
    except ValueError:
        raise ValidationError("template_options: not valid JSON", field="template_options") from None
    mapping = value.get("column_to_field_map", value) if isinstance(value, dict) else None
    if not isinstance(mapping, dict) or not all(isinstance(k, str) and (v is None or isinstance(v, str))
                                                for k, v in mapping.items()):
        raise ValidationError('template_options: {"column_to_field_map": {column: fieldname or null}} expected',
                              field="template_options")
    return mapping


# -- the file -------------------------------------------------------------------------------------

def file_rows(doc):
    """The attached file's rows; the user must be able to read its File record (a
    private file of someone else's cannot be imported, nor previewed)."""
    if not doc.import_file:
        raise ValidationError("import_file: attach a CSV or XLSX file first", field="import_file")
    from lowcode.api.files import read_stored, stored_file
    from lowcode.query import get_list
    if stored_file(doc.import_file) is None \
            or not get_list("File", filters={"file_url": doc.import_file}, fields=["name"], limit=1):
        raise PermissionError(f"import_file: no file {doc.import_file!r} you may read", doctype="File")
    try:
        content = read_stored(doc.import_file)
    except FileNotFoundError:
        raise ValidationError(f"import_file: {doc.import_file!r} is missing on disk", field="import_file") from None
    return template.read_rows(content, template.file_type_of(doc.import_file))


def importer_for(doc, rows=None, check_cells=True):
    return Importer(doc.reference_doctype, rows if rows is not None else file_rows(doc), mapping=mapping_of(doc),
                    import_type=doc.import_type or INSERT, key_field=doc.key_field or "name",
                    duplicate_handling=doc.duplicate_handling or "Skip", calendar=doc.calendar or "Auto",
                    check_cells=check_cells,
                    erp_mapping=get_doc("Data Import Mapping", doc.import_mapping) if doc.import_mapping else None)


def _load(name, ptype="read"):
    doc = get_doc("Data Import", name)
    doc.check_permission(ptype)
    return doc


def _download(filename, content, file_type):
    response = HttpResponse(content, content_type=template.content_type(file_type))
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in filename)
    response["Content-Disposition"] = f'attachment; filename="{safe}"'
    return response


def _file_type(file_type):
    file_type = (file_type or "CSV").upper()
    if file_type == "EXCEL":
        file_type = "XLSX"  # Frappe's name for it
    if file_type not in template.FILE_TYPES:
        raise ValidationError(f"file_type: {file_type!r} is not CSV or XLSX", field="file_type")
    return file_type


# -- methods ----------------------------------------------------------------------------------------

def download_template(doctype: str, file_type: str = "CSV", import_type: str = None, **_):
    """The DocType's empty template (its columns, child tables' too); for who may create or
    write its records."""
    get_meta(doctype)
    if not (has_permission(doctype, "create") or has_permission(doctype, "write")):
        raise PermissionError(f"Not permitted: you may not import {doctype}", doctype=doctype)
    file_type = _file_type(file_type)
    name, content = template.template_file(doctype, file_type, with_name=import_type == "Update Existing Records")
    return _download(name, content, file_type)


def get_preview_from_template(data_import: str, import_file: str = None, limit: int = 20, **_):
    """The first rows checked cell by cell, nothing written: columns and their mapping,
    unmapped columns, every error (row, column, message)."""
    doc = _load(data_import)
    if import_file:
        doc.import_file = import_file
    return importer_for(doc).preview(limit=max(1, min(int(limit or 20), 500)))


def form_start_import(data_import: str):
    """Check, then queue the import (the long queue); it runs as the calling user."""
    return start_import(data_import)


def start_import(data_import):
    doc = _load(data_import, "write")
    importer = importer_for(doc)
    importer.check_permission()
    if doc.status == "Running":
        raise ValidationError(f"Data Import {doc.name} is already running", field="status")
    if doc.status in ("Success", "Partial Success"):  # again would make its records twice
        raise ValidationError(f"Data Import {doc.name} has already imported its rows: import the failed rows "
                              "file as a new Data Import", field="status")
    doc.status = "Running"
    doc.payload_count = importer.count()
    doc.save()
    from lowcode.jobs import enqueue
    enqueue("lowcode.core.doctype.data_import.data_import.run_import", queue="long",
            job_name=f"Data Import {doc.name}", data_import=doc.name)
    return {"status": doc.status, "payload_count": doc.payload_count}


def download_errored_template(data_import_name: str, file_type: str = None, **_):
    """Frappe's name: a file of just the failed rows (same columns plus an Error column),
    to fix and import again."""
    doc = _load(data_import_name)
    file_type = _file_type(file_type or template.file_type_of(doc.import_file or "x.csv"))
    rows = failed_rows(doc)
    base = (doc.import_file or doc.name).rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return _download(f"{base}-failed.{file_type.lower()}", template.write_rows(rows, file_type), file_type)


def failed_rows(doc):
    header = file_rows(doc)[0]
    logs = local.db.sql(f"SELECT `row_data`, `messages` FROM `tab{LOG}` WHERE `data_import`=%s AND `success`=0 "
                        "ORDER BY `row_index`", (doc.name,))
    rows = [list(header or []) + [ERROR_COLUMN]]
    for data, message in logs:
        raw = json.loads(data or "[]")
        for i, cells in enumerate(raw):
            rows.append(list(cells) + [message if i == 0 else None])
    return rows


def get_import_status(data_import_name: str, **_):
    doc = _load(data_import_name)
    return {"status": doc.status, "payload_count": doc.payload_count or 0, "success": doc.success_count or 0,
            "failed": doc.failed_count or 0}


# -- the job ----------------------------------------------------------------------------------------

def run_import(data_import, rows=None):
    """Import every document of the file (``rows``: the file's, when the caller read it
    already), in groups under a savepoint (``_import_group``): a failed row is logged and
    undone alone. Series numbers are taken in blocks (naming.series_blocks). Commits
    every BATCH rows and publishes Frappe's ``data_import_progress`` to the Data Import's room."""
    doc = get_doc("Data Import", data_import)
    try:
        importer = importer_for(doc, rows, check_cells=False)
        importer.check_permission()
    except Exception as e:
        _finish(doc, 0, 0, error=getattr(e, "message", str(e)))
        raise
    flags = {flag: True for switch, flag in SWITCH_FLAGS.items() if int(doc.get(switch) or 0)}
    saved = (local.flags.get("in_import"), local.flags.get("mute_emails"))
    local.flags.in_import = True
    local.flags.mute_emails = bool(int(doc.mute_emails or 0))
    local.db.sql(f"DELETE FROM `tab{LOG}` WHERE `data_import`=%s", (doc.name,))  # a re-run starts afresh
    total, done, success, failed, logs = doc.payload_count or importer.count(), 0, 0, 0, []
    try:
        with series_blocks(SERIES_BLOCK):
            group = []
            for payload in importer.payloads():
                done += 1
                group.append(payload)
                if len(group) == GROUP or done % BATCH == 0:
                    logs += _import_group(importer, doc, group, flags)
                    group = []
                if done % BATCH == 0:
                    success, failed = _count(logs, success, failed)
                    _write_logs(logs)
                    logs = []
                    _progress(doc, done, total, success, failed)
                    local.db.commit()
                    local.db.begin()  # the next savepoint needs a unit of work to sit in (SQLite)
            logs += _import_group(importer, doc, group, flags)
            success, failed = _count(logs, success, failed)
            give_back_series_blocks()
        _write_logs(logs)
        _finish(doc, success, failed)
        _progress(doc, done, total, success, failed)
    except Exception as e:
        # what ends the transaction (a deadlock, a lost connection): the rows committed so far
        # stay, the import is marked Error (so it can be started again) and the job fails
        local.db.rollback()  # the rows since the last commit are undone: not counted
        _finish(doc, success, failed, error=getattr(e, "message", None) or f"{type(e).__name__}: {e}")
        raise
    finally:
        local.flags.in_import, local.flags.mute_emails = saved
    return {"success": success, "failed": failed}


def _import_group(importer, doc, group, flags):
    """The logs of a group of rows: written under one savepoint, or, when one of them fails,
    again a row per savepoint (``_import_row``)."""
    rows = [p for p in group if not p.errors]
    if len(rows) > 1:
        local.db.savepoint("data_import_group")
        try:
            results = {id(p): importer.import_payload(p, flags) for p in rows}
        except Exception:  # noqa: BLE001 - written again below, where the row's error is told
            local.db.rollback_to_savepoint("data_import_group")
        else:
            local.db.release_savepoint("data_import_group")
            return [_failed_cells(doc, p) if p.errors else
                    _log(doc, p, True, results[id(p)][0], "skipped: already exists" if results[id(p)][1] else None)
                    for p in group]
    return [_failed_cells(doc, p) if p.errors else _import_row(importer, doc, p, flags) for p in group]


def _import_row(importer, doc, payload, flags):
    local.db.savepoint("data_import")
    try:
        name, skipped = importer.import_payload(payload, flags)
        local.db.release_savepoint("data_import")
        return _log(doc, payload, True, name, "skipped: already exists" if skipped else None)
    except Exception as exc:  # noqa: BLE001 - row_error re-raises what ends the transaction
        message = row_error(exc)
        local.db.rollback_to_savepoint("data_import")
        local.db.release_savepoint("data_import")
        return _log(doc, payload, False, None, message, importer.error_column(exc, payload),
                    getattr(exc, "field", None))


def _failed_cells(doc, payload):
    first = payload.errors[0]
    return _log(doc, payload, False, None, "; ".join(f"{e.column}: {e.message}" for e in payload.errors),
                first.column, first.fieldname, first.value)


def _count(logs, success, failed):
    ok = sum(1 for entry in logs if entry["success"])
    return success + ok, failed + len(logs) - ok


def _log(doc, payload, success, docname, message, column=None, fieldname=None, value=None):
    return {"data_import": doc.name, "row_index": payload.rows[0], "success": int(success), "docname": docname, "messages": message,
            "column": column, "fieldname": fieldname, "value": None if value is None else str(value),
            "row_data": None if success else json.dumps(payload.raw, default=str, ensure_ascii=False)}


_LOG_FIELDS = ("row_index", "success", "docname", "messages", "column", "fieldname", "value", "row_data")


def _write_logs(logs):
    """The logs of a batch in one statement: written by the import itself (no one may
    create a log by hand), one row each."""
    if not logs:
        return
    from lowcode.utils import now
    ts, user = now(), local.user
    columns = ("name", "owner", "creation", "modified", "modified_by", "docstatus", "idx", "data_import") + _LOG_FIELDS
    rows = [(uuid.uuid4().hex[:12], user, ts, ts, user, 0, 0, log_["data_import"]) + tuple(log_[f] for f in _LOG_FIELDS)
            for log_ in logs]
    local.db.bulk_insert(LOG, columns, rows)


def _progress(doc, current, total, success, failed):
    from lowcode.realtime import publish_realtime
    publish_realtime("data_import_progress", {"data_import": doc.name, "current": current, "total": total,
                                              "success": success, "failed": failed},
                     doctype="Data Import", docname=doc.name)


def _finish(doc, success, failed, error=None):
    status = "Error" if error or (failed and not success) else ("Partial Success" if failed else "Success")
    values = {"status": status, "success_count": success, "failed_count": failed}
    values["template_warnings"] = json.dumps({"error": error}) if error else None
    db.set_value("Data Import", doc.name, values)
    local.db.commit()


def import_file(doctype, path, import_type=INSERT, mute_emails=True, key_field="name", duplicate_handling="Skip",
                calendar="Auto", mapping=None):
    """Frappe's ``bench data-import``: the file at ``path`` attached to a new Data Import and
    imported now, in this process, as the current user; returns the Data Import."""
    import os
    from lowcode.api.files import save_file
    if mapping and not doctype:
        doctype = get_doc("Data Import Mapping", mapping).reference_doctype
    with open(path, "rb") as f:
        content = f.read()
    template.file_type_of(path)
    url = save_file(os.path.basename(path), content, private=True).file_url
    doc = get_doc({"doctype": "Data Import", "reference_doctype": doctype, "import_file": url,
                   "import_type": import_type, "mute_emails": int(bool(mute_emails)), "key_field": key_field,
                   "duplicate_handling": duplicate_handling, "calendar": calendar,
                   "import_mapping": mapping}).insert()
    rows = file_rows(doc)
    importer = importer_for(doc, rows)
    importer.check_permission()
    doc.status, doc.payload_count = "Running", importer.count()
    doc.save()
    local.db.commit()
    run_import(doc.name, rows)
    return get_doc("Data Import", doc.name)


def failed_logs(name):
    """[(row, message)] of an import's failed rows, in file order."""
    return [tuple(r) for r in local.db.sql(f"SELECT `row_index`, `messages` FROM `tab{LOG}` WHERE `data_import`=%s "
                                           "AND `success`=0 ORDER BY `row_index`", (name,))]
