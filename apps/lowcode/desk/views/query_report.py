"""/app/query-report/<Report Name>: Frappe's page of a Script Report (and, for the
Administrator, a Query Report), for every app's reports without code of their own.

- Filters: the Report's ``filters`` rows (Frappe's Report Filter: fieldname, label,
  fieldtype, options, mandatory, default), shown with the desk's standard-filter
  controls (filter_bar.html: a Link with search, a Date with the user's calendar and
  picker, a Select). Their values live in the query string, so a report is a link; a
  filter absent from the URL takes its default, one sent empty is unset. A mandatory
  filter without a value stops the run and the page names it.
- Result: api/query_report.run (the same access rule, the report's own code reading
  through get_list so row rules apply, labels translated, Frappe's total row), shown
  with the desk's formatting (``fmt``: currency, percent, dates in the user's calendar),
  Link cells as links to their records, the summary as cards, the chart with the
  Dashboard Charts' frappe-charts (static/report.js), the message as text.
- ``?export=csv|xlsx``: the same rows as a download (desk/export.py, formula-safe),
  with the export permission on the report's Ref DocType.
- Actions: an app's ``report_actions`` hook ({Report: [{"label", "method", "column",
  "arg", "filters"}]}) puts a button on the page that POSTs (CSRF-checked) to the page;
  the report runs again with the page's filters and the whitelisted ``method`` gets the
  ``column`` values of its rows as JSON under ``arg`` (and the named filters), with the
  caller's permissions: the method decides, as when called over REST. Frappe's reports
  add such buttons in their .js (page.add_inner_button); the desk runs no report code.

GET only reads; who may open the page is decided by query_report.get_report_doc."""
import json
from urllib.parse import quote, urlencode

from django.http import HttpResponseRedirect
from django.utils import translation
from django.utils.translation import gettext as _

from ...api import method as api_method, query_report
from ...apps import get_hooks
from ...api.reportview import _require
from ...context import local
from ...exceptions import DoesNotExistError, LowcodeError, PermissionError, ValidationError
from ...fields import get_fieldtype, types_where
from ...i18n import translate
from ...utils import Obj
from .. import export, formatting
from ..link_titles import prefetch_user_names
from ..render import prefs, render
from .common import desk_view
from .report import saved_report_url


#: the report types that run on this page (a Report Builder report opens in the report view)
RUNNABLE = ("Script Report", "Query Report")


def page_url(name):
    return f"/app/query-report/{quote(name, safe='')}"


def may_run(name):
    """Whether ``name`` is a Script or Query Report the user may run (get_report_doc)."""
    if local.db.get_value("Report", name, "report_type") not in RUNNABLE:
        return False
    try:
        query_report.get_report_doc(name)
    except (PermissionError, DoesNotExistError):
        return False
    return True


def runnable_reports():
    """[(module, [report names])] of the Script and Query Reports the user may run, by module."""
    rows = local.db.sql("SELECT `name`, `module` FROM `tabReport` WHERE `report_type` IN (%s, %s) "
                        "AND COALESCE(`disabled`, 0)=0 ORDER BY `module`, `name`", RUNNABLE)
    out = {}
    for name, module in rows:
        if may_run(name):
            out.setdefault(module or "", []).append(name)
    return list(out.items())


@desk_view
def reports_page(request):
    """/app/query-report: the reports the user may run, per module (their workspace's links)."""
    return render("query_report_list.html", modules=runnable_reports())


def filter_fields(doc):
    """The report's filter rows as field definitions (dicts), in their order."""
    return [{"fieldname": row.fieldname, "label": row.label or row.fieldname, "fieldtype": row.fieldtype,
             "options": row.options or "", "mandatory": int(row.mandatory or 0), "default": row.default}
            for row in doc.get("filters") or []]


def read_filters(params, fields, user_prefs):
    """(filters for execute(), the inputs' texts, labels of mandatory filters left empty).
    A value is read by its field type (a date typed in the user's calendar becomes ISO)."""
    filters, texts, missing = {}, {}, []
    dated = set(types_where("dated"))
    for df in fields:
        if df["fieldname"] in params:
            text = (params.get(df["fieldname"]) or "").strip()
        elif df["fieldtype"] in dated and df["default"]:
            # a date's default is written as Frappe writes it (ISO, or "Today"): shown in the user's calendar
            value = get_fieldtype(df["fieldtype"]).default(dict(df, default=df["default"].strip()))
            text = formatting.format_value(value, df, user_prefs)
        else:
            text = (df["default"] or "").strip()
        texts[df["fieldname"]] = text or ""
        if not text:
            if df["mandatory"]:
                missing.append(df["label"])
            continue
        ftype = get_fieldtype(df["fieldtype"])
        filters[df["fieldname"]] = ftype.parse_filter_input(text, df, user_prefs) if ftype else text
    return filters, texts, missing


def result_rows(result, columns):
    """Rows as lists in column order; Frappe's total row (a list) as it is."""
    names = [c["fieldname"] for c in columns]
    return [list(r) if isinstance(r, (list, tuple)) else [r.get(n) for n in names] for r in result]


def chart_spec(chart):
    """Frappe's chart ({type, data: {labels, datasets}}) as static/report.js draws it."""
    if not isinstance(chart, dict) or not isinstance(chart.get("data"), dict):
        return None
    data = chart["data"]
    datasets = [d for d in data.get("datasets") or [] if isinstance(d, dict)]
    labels = ["" if label is None else str(label) for label in data.get("labels") or []]
    if not labels or not datasets:
        return None
    sets = [{"name": translate(str(d.get("name") or "")), "values": [_number(v) for v in d.get("values") or []]}
            for d in datasets]
    return {"type": chart.get("type") or "bar", "labels": labels, "values": sets[0]["values"],
            "name": sets[0]["name"], "datasets": sets}


def _number(value):
    return float(value) if formatting.is_number(value) else 0.0


#: Frappe's summary indicator colours as Bootstrap's border colours
INDICATORS = {"green": "success", "red": "danger", "blue": "primary", "orange": "warning", "grey": "secondary",
              "gray": "secondary"}


def summary_cards(summary):
    """report_summary entries ({value, label, datatype, indicator}) as cards."""
    out = []
    for item in summary or []:
        if isinstance(item, dict) and item.get("label") is not None:
            out.append({"label": str(item["label"]), "value": item.get("value"),
                        "df": {"fieldname": "value", "fieldtype": item.get("datatype"),  # none: as text
                               "options": item.get("currency") or ""},
                        "indicator": INDICATORS.get(str(item.get("indicator") or "").lower())})
    return out


@desk_view
def query_report_page(request, name):
    try:
        doc = query_report.get_report_doc(name)
    except DoesNotExistError as e:
        return render("query_report.html", status=404, forbidden=e.message, report_name=name)
    except PermissionError as e:
        return render("query_report.html", status=403, forbidden=e.message, report_name=name)
    if doc.report_type not in RUNNABLE:  # a saved Report Builder report opens in its report view
        return HttpResponseRedirect(saved_report_url(doc.name, doc.ref_doctype))
    user_prefs = prefs()
    fields = filter_fields(doc)
    filters, texts, missing = read_filters(request.GET, fields, user_prefs)
    context = {"doc": doc, "report_name": doc.name, "filter_fields": fields, "args": texts,
               "filtered": any(texts.values()), "request_query": _query_without_export(request),
               "can_export": _may_export(doc.ref_doctype), "actions": report_actions(doc.name)}
    if missing:
        with translation.override(user_prefs.lang):  # made before the page renders in the user's language
            error = _("Set the mandatory filters: %(filters)s") % {
                "filters": ", ".join(translate(label) for label in missing)}
        return render("query_report.html", status=200, error=error, **context)
    done = None
    try:
        if request.method == "POST":
            done = _run_action(request, doc, filters)
        elif request.GET.get("export"):
            return _export(request, doc, filters)
        # after an action, the rows it changed: never a slow report's kept result
        res = query_report.run(doc.name, filters=filters, ignore_prepared_report=done is not None)
    except LowcodeError as e:
        local.db.rollback()
        local.db.begin()
        return render("query_report.html", status=e.http_status, error=e.message, **context)
    columns = [Obj(c) for c in res["columns"]]  # read as field definitions (link_target, fmt)
    rows = result_rows(res["result"], columns)
    total = rows.pop() if res["add_total_row"] and rows and isinstance(res["result"][-1], list) else None
    prefetch_user_names(columns, rows)
    with translation.override(user_prefs.lang):  # the chart's dataset names
        chart = chart_spec(res["chart"])
    return render("query_report.html", columns=columns, rows=rows, total=total,
                  numeric_types=types_where("numeric"), cards=summary_cards(res["report_summary"]),
                  chart=chart, message=res["message"], done=done, computed_at=res.get("computed_at"), **context)


def report_actions(report_name):
    """The ``report_actions`` of the installed apps for a report, numbered as the page posts them."""
    return list(enumerate(get_hooks("report_actions", {}).get(report_name) or []))


def _run_action(request, doc, filters):
    """A POSTed action: the method called with the report's rows' values (module
    docstring); its answer's ``summary`` (or a plain "Done") for the page to show."""
    actions = dict(report_actions(doc.name))
    try:
        action = actions[int(request.POST.get("action", ""))]
    except (KeyError, ValueError):
        raise ValidationError(f"action: no action {request.POST.get('action')!r} on report {doc.name}",
                              field="action") from None
    fn = api_method.resolve(action["method"])  # whitelisted, or refused
    api_method.check_http_method(fn, request, action["method"])
    res = query_report.run(doc.name, filters=filters, ignore_prepared_report=True)  # the rows as they are now
    rows = res["result"][:-1] if res["add_total_row"] and res["result"] else res["result"]  # not the total row
    column = action["column"]
    index = next((i for i, c in enumerate(res["columns"]) if c.get("fieldname") == column), None)
    values = [row.get(column) if isinstance(row, dict) else row[index] for row in rows
              if isinstance(row, dict) or (isinstance(row, (list, tuple)) and index is not None)]
    kwargs = {action["arg"]: json.dumps([v for v in values if v not in (None, "")])}
    kwargs.update({f: filters[f] for f in action.get("filters") or () if filters.get(f) not in (None, "")})
    result = fn(**api_method.bind_args(fn, kwargs, action["method"]))
    local.db.commit()
    with translation.override(prefs().lang):
        return (result or {}).get("summary") if isinstance(result, dict) and result.get("summary") else _("Done")


def _query_without_export(request):
    """The page's query string for its export links (ends with "&" when not empty)."""
    items = [(k, v) for k in request.GET for v in request.GET.getlist(k) if k != "export"]
    return urlencode(items) + "&" if items else ""


def _may_export(doctype):
    try:
        _require(doctype, "export")
    except PermissionError:
        return False
    return True


def _export(request, doc, filters):
    """The report's rows (and total row) as CSV or XLSX under its translated labels."""
    fmt = export.check_format(request.GET.get("export"))
    _require(doc.ref_doctype, "export")
    res = query_report.run(doc.name, filters=filters)
    rows = result_rows(res["result"], res["columns"])
    export.check_size(rows)
    if not res["columns"]:
        raise ValidationError(_("The report has no columns to export"), field="export")
    return export.download(doc.name.replace(" ", "_"), fmt, [c.get("label") or c["fieldname"] for c in res["columns"]],
                           rows)
