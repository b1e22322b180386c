"""Frappe's report runner: ``frappe.desk.query_report.run`` and ``get_script`` over
Report records, answering in Frappe's shape ({result, columns, message, chart,
report_summary, ...}) so its clients read our reports unchanged.

- Script Report: a standard report runs ``execute(filters)`` of
  ``<app>/report/<scrub(name)>/<scrub(name)>.py``, the app being its module's (Frappe's
  layout without the module folder, as our DocTypes). The app's code reads through
  ``get_list``, so the rows are those the user's row rules let through (SQL).
- Query Report: the record's SELECT, run for the Administrator only (raw SQL knows no
  row rules); anyone else is refused.
- Report Builder: the saved settings run through the report view (desk/views/report.py),
  with the user's permissions.

Who may run one (Frappe's get_report_doc): a user with one of the report's roles (any
user when it lists none) who may report on its Ref DocType; a Report Builder report
must also be readable by the user (its owner's, or public)."""
import datetime
import hashlib
import importlib
import json
import os
import re
import time

from django.utils import translation

from .. import query
from ..caches import cache
from ..apps import app_path, get_installed_apps
from ..context import local
from ..database.replicas import reads_from_replica
from ..desk.render import prefs
from ..document import get_doc
from ..exceptions import DoesNotExistError, PermissionError, ValidationError
from ..i18n import translate
from ..meta import get_meta, version as meta_version
from ..permissions import get_roles, has_permission
from ..utils import scrub
from .request import json_arg

#: columns Frappe adds up in a total row
_SUMMED = ("Int", "Float", "Currency", "Duration")

#: A report that took longer than this many seconds (site config ``slow_report_seconds``)
#: is answered from its last result for REPORT_CACHE_SECONDS (``report_cache_seconds``, 0:
#: never), per user, filters, language and calendar, while metadata and permissions stay
#: unchanged: at a million leads a manager's funnel is counted once a minute, not on every
#: dashboard load (Frappe turns such reports into prepared reports for the same reason).
#: A fast report is never kept, so small sites and the figures' tests always see fresh rows.
SLOW_REPORT_SECONDS = 1.0
REPORT_CACHE_SECONDS = 60


def get_report_doc(report_name):
    """The Report, when the user may run it (module docstring); else a 403 naming it."""
    if not report_name or not local.db.exists("Report", report_name):
        raise DoesNotExistError(f"Report {report_name!r} not found", doctype="Report")
    doc = get_doc("Report", report_name)
    if local.user == "Administrator":
        return doc
    if int(doc.disabled or 0):
        raise PermissionError(f"Report {report_name} is disabled", doctype="Report")
    allowed = {row.role for row in doc.get("roles") or []}
    if allowed and not allowed & set(get_roles()):
        raise PermissionError(f"You don't have access to Report: {report_name}", doctype="Report")
    if not has_permission(doc.ref_doctype, "report"):
        raise PermissionError(f"You don't have permission to get a report on: {doc.ref_doctype}",
                              doctype=doc.ref_doctype)
    if doc.report_type == "Report Builder" and not query.get_list("Report", filters={"name": doc.name},
                                                                  pluck="name", limit_page_length=1):
        raise PermissionError(f"You don't have access to Report: {report_name}", doctype="Report")
    if doc.report_type == "Query Report":
        raise PermissionError(f"Report {report_name} is a Query Report (SQL): only Administrator may run it",
                              doctype="Report")
    return doc


@reads_from_replica
def run(report_name: str, filters: str | dict | list = None, user: str = None, ignore_prepared_report: bool = False,
        custom_columns: str | list = None, is_tree: bool = False, parent_field: str = None,
        are_default_filters: bool = True):
    """frappe.desk.query_report.run: the report's rows (dicts keyed by column fieldname),
    columns, message, chart and summary, as Frappe answers. The report always runs as the
    caller: ``user`` and the tree options are accepted and ignored; ``ignore_prepared_report``
    computes a slow report afresh instead of answering its kept result (SLOW_REPORT_SECONDS)."""
    doc = get_report_doc(report_name)
    filters = json_arg({"filters": filters}, "filters") or {}
    if not isinstance(filters, (dict, list)):
        raise ValidationError("filters must be a JSON object", field="filters")
    keep = int(local.conf.get("report_cache_seconds", REPORT_CACHE_SECONDS) or 0)
    key = _result_key(doc, filters) if keep and not ignore_prepared_report else None
    if key:
        kept = cache().get(key)
        if kept is not None:
            return kept
    started = time.perf_counter()
    out = _run(doc, filters)
    elapsed = time.perf_counter() - started
    out["execution_time"] = round(elapsed, 3)
    if key and elapsed > float(local.conf.get("slow_report_seconds", SLOW_REPORT_SECONDS)):
        kept = dict(out, computed_at=datetime.datetime.now().isoformat(timespec="seconds"))
        cache().set(key, kept, ttl=keep)
    return out


def _result_key(doc, filters):
    """Whose result, of what: the user (their row rules), their language and calendar, the
    filters, and the versions of the report, the metadata and the permissions."""
    p = prefs()
    what = json.dumps([local.user, p.lang, p.calendar, p.local_digits, filters, str(doc.modified),
                       meta_version(), local.cache.get("perm_version")], sort_keys=True, default=str)
    return f"report-result|{doc.name}|{hashlib.sha256(what.encode()).hexdigest()}"


def _run(doc, filters):
    if doc.report_type == "Script Report":
        res = _script_module(doc).execute(filters)
    elif doc.report_type == "Query Report":
        res = _run_query(doc, filters if isinstance(filters, dict) else {})
    else:
        res = _run_builder(doc)
    res = list(res or []) + [None] * 6
    columns, result, message, chart, report_summary, skip_total_row = res[:6]
    columns = [column_as_dict(c) for c in columns or []]
    result = normalize_result(result or [], columns)
    with translation.override(prefs().lang):
        if int(doc.add_total_row or 0) and result and not skip_total_row:
            result.append(total_row(result, columns))
        columns, report_summary = _translated(columns), _translated(report_summary)
    return {"result": result, "columns": columns, "message": message, "chart": chart,
            "report_summary": report_summary, "skip_total_row": skip_total_row or 0, "status": None,
            "execution_time": 0, "add_total_row": int(doc.add_total_row or 0) and not skip_total_row}


def _translated(items):
    """Column or report-summary dicts with their labels in the active language (as Frappe's
    reports give them through ``_()``); the apps' English labels are the msgids
    (scripts/extract_messages.py collects them from the report/ folders)."""
    if not isinstance(items, list):
        return items
    return [dict(i, label=translate(i["label"])) if isinstance(i, dict) and isinstance(i.get("label"), str) else i
            for i in items]


def get_script(report_name: str):
    """frappe.desk.query_report.get_script: the report's ``.js`` beside its ``.py`` (its
    filters and formatting) and ``.html`` print format; an empty report object otherwise.
    ``filters`` are the Report's filter rows (what the desk's report page draws)."""
    doc = get_report_doc(report_name)
    folder = _report_folder(doc) if doc.report_type == "Script Report" else None
    script = html = None
    if folder:
        script = _read(os.path.join(folder, scrub(doc.name) + ".js"))
        html = _read(os.path.join(folder, scrub(doc.name) + ".html"))
    if not script:
        script = f"frappe.query_reports[{json.dumps(doc.name)}] = {{}};"
    filters = [{k: row.get(k) for k in ("fieldname", "label", "fieldtype", "options", "mandatory", "default")}
               for row in doc.get("filters") or []]
    return {"script": script, "html_format": html, "execution_time": 0, "filters": filters or None,
            "custom_report_name": None}


def _read(path):
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            return f.read()
    return None


def _report_app(doc):
    if not int(doc.is_standard or 0):
        raise ValidationError(f"Report {doc.name}: only standard Script Reports (an app's file) can run",
                              field="is_standard")
    app = local.db.get_value("Module Def", doc.module, "app_name") if doc.module else None
    if not app or app not in get_installed_apps():
        raise DoesNotExistError(f"Report {doc.name}: module {doc.module!r} belongs to no installed app",
                                doctype="Report")
    return app


def _report_folder(doc):
    return os.path.join(app_path(_report_app(doc)), "report", scrub(doc.name))


def _script_module(doc):
    app = _report_app(doc)
    path = f"{app}.report.{scrub(doc.name)}.{scrub(doc.name)}"
    try:
        return importlib.import_module(path)
    except ModuleNotFoundError:
        raise DoesNotExistError(f"Report {doc.name}: no module {path}", doctype="Report") from None


_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _run_query(doc, filters):
    """The Administrator's SQL: one SELECT (or WITH), ``%(name)s`` bound from the
    filters; columns from the result's labels (Frappe's "Label:Fieldtype:Width")."""
    sql = (doc.query or "").strip().rstrip(";").strip()
    if not re.match(r"(?is)^(select|with)\b", sql) or ";" in sql:
        raise ValidationError(f"Report {doc.name}: the query must be one SELECT", field="query")
    values = []

    def bind(m):
        values.append(filters.get(m.group(1)))
        return "%s"
    cursor = local.db.sql_cursor(_PLACEHOLDER.sub(bind, sql), tuple(values))
    columns = [d[0] for d in cursor.description or ()]
    return columns, [list(r) for r in cursor.fetchall()]


def _run_builder(doc):
    from ..desk.export import EXPORT_LIMIT
    from ..desk.views.report import check_spec, column_choices, run_report, saved_spec
    meta = get_meta(doc.ref_doctype)
    choices = column_choices(meta)
    spec = check_spec(saved_spec(doc.json, meta), meta, choices)
    if spec["pivot_rows"]:  # a saved pivot: its table, with its own total row
        from ..desk.views.report import pivot_table, run_pivot
        header, rows = pivot_table(run_pivot(doc.ref_doctype, spec), spec, choices)
        columns = [{"fieldname": f"column_{i}", "label": label,
                    "fieldtype": "Data" if i < len(spec["pivot_rows"]) else "Float"} for i, label in enumerate(header)]
        return columns, rows, None, None, None, 1
    columns, rows, _more = run_report(doc.ref_doctype, spec, choices, limit=EXPORT_LIMIT)
    return [dict(c, fieldname=c["key"]) for c in columns], rows


def column_as_dict(col):
    """Frappe's get_column_as_dict: "Label:Fieldtype/Options:Width" or a dict, with a
    fieldname (the label scrubbed when none is given)."""
    if isinstance(col, str):
        parts = col.split(":")
        out = {"label": parts[0], "fieldname": scrub(parts[0])}
        if len(parts) > 1:
            kind, _, options = parts[1].partition("/")
            out["fieldtype"] = kind or "Data"
            if options:
                out["options"] = options
        if len(parts) > 2:
            out["width"] = parts[2]
        return out
    out = dict(col)
    out.setdefault("fieldname", scrub(out.get("label") or ""))
    return out


def normalize_result(result, columns):
    """Rows as dicts keyed by the columns' fieldnames (Frappe's normalize_result)."""
    names = [c["fieldname"] for c in columns]
    return [dict(zip(names, row)) if isinstance(row, (list, tuple)) else dict(row) for row in result]


def total_row(result, columns):
    """Frappe's total row: a list in column order, numbers added up (percentages
    averaged), other cells empty, "Total" in the first column unless it is a number."""
    row = [""] * len(columns)
    for i, col in enumerate(columns):
        values = [float(r.get(col["fieldname"]) or 0) for r in result] if col.get("fieldtype") in \
            _SUMMED + ("Percent",) else []
        if any(values):  # a column with no figure (say, revenue the user may not see) stays empty
            row[i] = sum(values) / len(result) if col["fieldtype"] == "Percent" else sum(values)
    if columns and columns[0].get("fieldtype") not in _SUMMED + ("Percent", "Date"):
        row[0] = translate("Total")
    return row
