"""Report view, link search and export: the read paths besides lists, each through the
permission-checked query layer (report and export need their own permission)."""
import csv
import io

from django.http import HttpResponse

from .. import params, query
from ..exceptions import BadRequest, PermissionError
from ..permissions import role_access
from ..context import local
from ..database.replicas import reads_from_replica
from .request import json_arg


def _require(doctype, ptype):
    if local.user != "Administrator" and role_access(doctype, ptype) is None:
        raise PermissionError(f"Not permitted: {ptype} {doctype}", doctype=doctype)


@reads_from_replica
def search_link(doctype: str, txt: str = "", filters: str | dict | list = None, page_length: int = 10, **_):
    """frappe.desk.search.search_link: [{value, label, description}] of readable documents."""
    return query.search_link(doctype, txt, filters=json_arg({"f": filters}, "f"), page_length=page_length)


@reads_from_replica
def report_get(doctype: str, fields: str | list = None, filters: str | dict | list = None,
               or_filters: str | dict | list = None, order_by: str = None, start: int = 0, page_length: int = 20,
               group_by: str = None, **_):
    """frappe.desk.reportview.get: {keys, values} for the report view (needs report)."""
    _require(doctype, "report")
    data = {"fields": fields, "filters": filters, "or_filters": or_filters}
    rows = query.get_list(doctype, fields=json_arg(data, "fields"), filters=json_arg(data, "filters"),
                          or_filters=json_arg(data, "or_filters"), order_by=order_by,
                          limit_start=params.row_count(start, "start"),
                          limit_page_length=params.row_count(page_length, "page_length", default=20), group_by=group_by, ptype="report")
    keys = list(rows[0].keys()) if rows else []
    return {"keys": keys, "values": [list(r.values()) for r in rows]}


@reads_from_replica
def report_count(doctype: str, filters: str | dict | list = None, **_):
    _require(doctype, "report")
    return query.get_count(doctype, filters=json_arg({"f": filters}, "f"))


def export_rows(doctype, fields=None, filters=None, order_by=None, limit=None):
    """Rows for export (needs export), capped only by the caller's limit."""
    _require(doctype, "export")
    data = {"fields": fields, "filters": filters}
    return query.get_list(doctype, fields=json_arg(data, "fields") or ["name"], filters=json_arg(data, "filters"),
                          order_by=order_by, limit_page_length=params.row_count(limit, "limit"), ptype="export")


def export_query(doctype: str, fields: str | list = None, filters: str | dict | list = None, order_by: str = None,
                 file_format_type: str = "CSV", limit: int = None, **_):
    """frappe.desk.reportview.export_query: the permitted rows as a CSV download."""
    if (file_format_type or "CSV").upper() != "CSV":
        raise BadRequest(f"unsupported export format {file_format_type!r} (CSV)")
    rows = export_rows(doctype, fields, filters, order_by, limit)
    from ..audit import log_export
    log_export(doctype, "CSV", method="frappe.desk.reportview.export_query", filters=filters)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if rows:
        writer.writerow(rows[0].keys())
        for r in rows:
            writer.writerow([_cell(v) for v in r.values()])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{doctype.replace(" ", "_")}.csv"'
    return response


def _cell(value):
    # Spreadsheet formula injection: a cell starting with = + - @ is read as text.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _is_number(text) else text


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False
