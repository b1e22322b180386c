"""/app/<doctype-route>/view/report: the report view (Frappe's Report Builder).

The user picks columns (any field they may read, child-table fields as
``tablefield.field``), filters, a sort, and optionally a group-by field with a count,
sum, average, minimum or maximum and a chart of the groups, or a pivot table (rows by
one or more fields, columns by another, dates bucketed in the user's calendar, with
totals; every cell links to the records behind it: lowcode/pivot.py computes it). The whole setting lives
in the query string, so a report is a link; saving it stores the same settings as a
Report document (``json``), private to its owner unless ``is_public``.

- GET  ?report=<name>       loads a saved report (settings in the URL override it once
                            the settings form is applied: ``apply=1``)
- GET  ?export=csv|xlsx     downloads every matching row (needs ``export``)
- POST (report_name, is_public, state)   saves the settings as a Report

Every read goes through query.get_list with ``ptype="report"`` (or ``"export"``), so
the figures cover only the rows the user may read, and the report permission is
required before anything runs.
"""
import datetime
import json
from urllib.parse import urlencode

from django.http import HttpResponseRedirect, QueryDict
from django.utils.translation import gettext as _

from ... import pivot as pivots
from ... import query
from ...api.reportview import _require
from ...context import local
from ...database.replicas import reads_from_replica
from ...document import get_doc, new_doc
from ...exceptions import DoesNotExistError, LowcodeError, PermissionError, ValidationError
from ...fields import registry, types_where
from ...meta import get_meta
from ...params import integer
from ...pivot import INTERVALS
from ...permissions import get_permlevels, permitted_fieldnames, role_access
from .. import export
from ..link_titles import is_user_field, prefetch_user_names, user_name
from ..render import render
from .common import desk_view, doctype_for_route
from .listview import OTHER_VIEWS, list_columns, read_filters

AGGREGATES = {"count": "Count", "sum": "Sum", "avg": "Average", "min": "Minimum", "max": "Maximum"}
CHARTS = ("bar", "line", "pie", "percentage", "donut")
PAGE_LENGTHS = (20, 100, 500)
MAX_GROUPS = 500
#: query-string keys of the report itself; anything else is a ?field=value filter
REPORT_KEYS = frozenset(["report", "columns", "filters", "order_by", "group_by", "aggregate", "aggregate_on",
                         "chart", "page", "page_length", "apply", "add_field", "add_op", "add_value", "export",
                         "sort_field", "sort_dir", "pivot_rows", "pivot_column"])
STANDARD_COLUMNS = (("name", "ID", "Data"), ("owner", "Created By", "Data"), ("creation", "Created On", "Datetime"),
                    ("modified", "Last Updated On", "Datetime"), ("modified_by", "Last Updated By", "Data"))


# -- what can be chosen ------------------------------------------------------------------------

def column_choices(meta):
    """{key: field definition} of every column the user may read: the DocType's own
    fields (``status``) and its child tables' fields (``items.qty``), in form order."""
    readable = set(permitted_fieldnames(meta.name))
    out = {}
    for fieldname, label, fieldtype in STANDARD_COLUMNS[:1]:
        out[fieldname] = {"fieldname": fieldname, "label": label, "fieldtype": fieldtype, "key": fieldname}
    for df in meta.data_fields:
        if df.fieldname in readable and registry[df.fieldtype].column:
            out[df.fieldname] = dict(df, key=df.fieldname)
    for fieldname, label, fieldtype in STANDARD_COLUMNS[1:]:
        out[fieldname] = {"fieldname": fieldname, "label": label, "fieldtype": fieldtype, "key": fieldname}
    # A child row is readable at the permission levels of its parent (child tables have
    # no rules of their own); the table field itself must be readable too.
    levels = get_permlevels(meta.name, "read")
    for tf in meta.table_fields:
        if int(tf.permlevel or 0) not in levels:
            continue
        for cdf in get_meta(tf.options).data_fields:
            if int(cdf.permlevel or 0) in levels and registry[cdf.fieldtype].column:
                key = f"{tf.fieldname}.{cdf.fieldname}"
                out[key] = dict(cdf, key=key, table_label=tf.label or tf.fieldname)
    return out


def column_label(choice):
    label = _(choice.get("label") or choice["fieldname"])
    return f"{_(choice['table_label'])}: {label}" if choice.get("table_label") else label


def _select(key):
    """The query field for a column: child fields get an alias so ``items.qty`` and a
    parent ``qty`` never share a result key."""
    return f"{key} as {_row_key(key)}" if "." in key else key


def _row_key(key):
    return key.replace(".", "__")


# -- the settings ------------------------------------------------------------------------------

class _Args:
    """read_filters reads request.GET; give it the query string without our own keys,
    so a DocType field named like one (``chart``) is not taken for a filter."""

    def __init__(self, params):
        self.GET = QueryDict(mutable=True)
        for key in params:
            if key not in REPORT_KEYS:
                self.GET.setlist(key, params.getlist(key))
        if params.get("filters"):
            self.GET["filters"] = params["filters"]


def read_spec(params, meta):
    """The report settings from a query string (a QueryDict), or from the saved report
    it names until the settings form is applied. Returns (spec, saved report or None)."""
    saved = load_report(params["report"], meta.name) if params.get("report") else None
    if saved is not None and not params.get("apply"):
        spec = saved_spec(saved["json"], meta)
    else:
        filters = read_filters(_Args(params), meta)
        if params.get("add_field"):
            from .filter_builder import added_filter
            filters.append(added_filter(params["add_field"], params.get("add_op"), params.get("add_value") or "", meta))
        order_by = (params.get("order_by") or "").strip()
        if params.get("sort_field"):  # the settings form sends the sort as field + direction
            order_by = f"{params['sort_field']} {params.get('sort_dir') or 'asc'}"
        spec = {"columns": [c.strip() for v in params.getlist("columns") for c in v.split(",") if c.strip()],
                "filters": filters, "order_by": order_by,
                "group_by": (params.get("group_by") or "").strip(), "aggregate": params.get("aggregate") or "count",
                "aggregate_on": (params.get("aggregate_on") or "").strip(), "chart": params.get("chart") or "",
                "pivot_rows": [r.strip() for v in params.getlist("pivot_rows") for r in v.split(",") if r.strip()],
                "pivot_column": (params.get("pivot_column") or "").strip()}
    return spec, saved


def saved_spec(text, meta):
    """The settings a saved report's ``json`` holds (Report Builder)."""
    try:
        raw = json.loads(text or "{}")
    except ValueError:
        raw = {}
    return {"columns": raw.get("columns") or [], "filters": query.normalise_filters(raw.get("filters") or [],
                                                                                     meta.name),
            "order_by": raw.get("order_by") or "", "group_by": raw.get("group_by") or "",
            "aggregate": raw.get("aggregate") or "count", "aggregate_on": raw.get("aggregate_on") or "",
            "chart": raw.get("chart") or "", "pivot_rows": raw.get("pivot_rows") or [],
            "pivot_column": raw.get("pivot_column") or ""}


def check_spec(spec, meta, choices):
    """Refuse settings that name unknown or unreadable fields, with the field named;
    fill in defaults (the list view's columns, the DocType's sort)."""
    columns = [c for c in spec["columns"] if c != "name"]
    for c in columns + [spec["group_by"]] * bool(spec["group_by"]):
        if c not in choices:
            raise ValidationError(_("%(field)s is not a field you can report on") % {"field": c}, field=c)
    if not columns:
        columns = list_columns(meta, set(choices))
    spec["columns"] = list(dict.fromkeys(columns))
    if spec["aggregate"] not in AGGREGATES:
        raise ValidationError(_("Unknown aggregate %(name)s") % {"name": spec["aggregate"]}, field="aggregate")
    if spec["aggregate"] == "count":
        spec["aggregate_on"] = ""
    elif choices.get(spec["aggregate_on"], {}).get("fieldtype") not in types_where("numeric"):
        raise ValidationError(_("Choose a number field to %(fn)s") % {"fn": _(AGGREGATES[spec["aggregate"]])},
                              field="aggregate_on")
    if spec["pivot_column"] and not spec["pivot_rows"]:
        raise ValidationError(_("Choose the pivot's rows"), field="pivot_rows")
    for param, texts in (("pivot_rows", spec["pivot_rows"]), ("pivot_column", [spec["pivot_column"]])):
        for text in texts:
            if text and text.partition(":")[0] not in choices:  # not readable at the user's permlevels
                raise ValidationError(_("%(field)s is not a field you can report on") % {"field": text}, field=param)
    if spec["pivot_rows"]:
        spec["group_by"] = ""  # a pivot replaces the grouping
    if spec["chart"] and spec["chart"] not in CHARTS:
        raise ValidationError(_("Unknown chart type %(name)s") % {"name": spec["chart"]}, field="chart")
    words = spec["order_by"].split()
    if words:
        if words[0] not in choices or len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise ValidationError(_("Cannot sort by %(field)s") % {"field": spec["order_by"]}, field="order_by")
    else:
        spec["order_by"] = f"{meta.sort_field} {meta.sort_order}".lower() if meta.sort_field in choices \
            else "modified desc"
    return spec


def spec_query(spec, **extra):
    """The query string that reproduces a report's settings (links, paging, export)."""
    items = [("columns", c) for c in spec["columns"]] + [("pivot_rows", r) for r in spec.get("pivot_rows") or []]
    items += [("filters", json.dumps(spec["filters"], ensure_ascii=False, default=str))] if spec["filters"] else []
    for key in ("order_by", "group_by", "aggregate", "aggregate_on", "chart", "pivot_column"):
        if spec.get(key):
            items.append((key, spec[key]))
    items.append(("apply", "1"))
    items += [(k, v) for k, v in extra.items() if v not in (None, "")]
    return urlencode(items)


# -- running it --------------------------------------------------------------------------------

@reads_from_replica
def run_report(doctype, spec, choices, page=1, page_length=20, ptype="report", limit=None):
    """(columns, rows, has_next): columns are field definitions with a ``key``, rows
    lists of values. Grouped reports have the group, the count and the aggregate."""
    start = (page - 1) * page_length
    if spec["group_by"]:
        group = choices[spec["group_by"]]
        columns = [dict(group, key="group_value"), {"key": "count", "label": "Count", "fieldtype": "Int"}]
        fields = [f"{spec['group_by']} as group_value", "count(*) as count"]
        if spec["aggregate"] != "count":
            on = choices[spec["aggregate_on"]]
            label = f"{AGGREGATES[spec['aggregate']]} of {on.get('label') or on['fieldname']}"
            average = registry[on["fieldtype"]].average_type if spec["aggregate"] == "avg" else None
            columns.append(dict(on, key="value", label=label, fieldtype=average or on["fieldtype"]))
            fields.append(f"{spec['aggregate']}({spec['aggregate_on']}) as value")
        order = "value desc" if spec["aggregate"] != "count" else "count desc"
        rows = query.get_list(doctype, fields=fields, filters=spec["filters"], group_by=spec["group_by"],
                              order_by=order, limit_page_length=limit or MAX_GROUPS, ptype=ptype)
        return columns, [[r[c["key"]] for c in columns] for r in rows], False
    keys = ["name"] + spec["columns"]
    columns = [dict(choices[k], key=_row_key(k)) for k in keys]
    rows = query.get_list(doctype, fields=[_select(k) for k in keys], filters=spec["filters"],
                          order_by=spec["order_by"], limit_start=0 if limit else start,
                          limit_page_length=limit or page_length + 1, ptype=ptype)
    has_next = not limit and len(rows) > page_length
    rows = rows if limit else rows[:page_length]
    return columns, [[r[c["key"]] for c in columns] for r in rows], has_next


def chart_data(columns, rows, kind):
    """Labels and values of a grouped report, for frappe-charts."""
    if not kind or not rows:
        return None
    value_index = 2 if len(columns) > 2 else 1
    label = user_name if is_user_field(columns[0]) else str  # grouped by owner: the users' names
    return {"type": kind, "labels": ["" if r[0] is None else label(r[0]) for r in rows],
            "values": [float(r[value_index] or 0) for r in rows],
            "name": _(columns[value_index].get("label") or "")}


# -- pivot tables ------------------------------------------------------------------------------

INTERVAL_LABELS = {"day": "Day", "week": "Week", "month": "Month", "quarter": "Quarter", "year": "Year"}


def pivot_options(choices):
    """[(value, label)] of the fields a pivot may group by: groupable fields, and each
    date field once per interval (``creation:month``)."""
    with _user_language():
        return _pivot_options(choices)


def _user_language():
    """Labels made before the page renders are translated in the user's language (the
    template's own translation is not active yet)."""
    from django.utils import translation
    from ..render import prefs
    return translation.override(prefs().lang)


def _pivot_options(choices):
    out = []
    for key, c in choices.items():
        ftype = registry.get(c.get("fieldtype"))
        if ftype is None or key == "name":
            continue
        if ftype.dated:
            out += [(f"{key}:{iv}", f"{column_label(c)} ({_(label)})") for iv, label in INTERVAL_LABELS.items()]
        elif ftype.groupable or key in ("owner", "modified_by"):
            out.append((key, column_label(c)))
    return out


@reads_from_replica
def run_pivot(doctype, spec, ptype="report"):
    from ..render import prefs
    return pivots.pivot(doctype, spec["pivot_rows"], spec["pivot_column"] or None, spec["aggregate"],
                        spec["aggregate_on"] or None, spec["filters"], prefs().calendar, ptype=ptype)


def dimension_label(dim, choices):
    label = column_label(choices[dim.key])
    return f"{label} ({_(INTERVAL_LABELS[dim.interval])})" if dim.interval else label


def key_label(dim, key):
    """A group's value as the user reads it: a date bucket in their calendar, a user's
    name, a translated option; "(not set)" for no value."""
    from ..formatting import digits, format_date, period_label
    from ..render import prefs
    p = prefs()
    if key is None:
        return _("(not set)")
    if dim.interval in ("day", "week"):
        return format_date(key, p)
    if dim.interval == "quarter":
        import jdatetime
        d = datetime.date.fromisoformat(key)
        d = jdatetime.date.fromgregorian(date=d) if p.jalali else d
        year, month = d.year, d.month
        return digits(_("Q%(n)s %(year)s") % {"n": (month - 1) // 3 + 1, "year": year}, p)
    if dim.interval:
        return period_label(key, INTERVALS[dim.interval], p)
    if is_user_field(dim.df):
        return user_name(key)
    if registry[dim.df["fieldtype"]].option_list:
        return _(str(key))
    return registry[dim.df["fieldtype"]].group_label(key, dim.df, p)


def value_df(result, choices):
    """How the pivot's figures are formatted: counts as whole numbers, the others as
    the field they aggregate (an average as its type's average_type)."""
    if result["aggregate"] == "count":
        return {"fieldname": "count", "fieldtype": "Int"}
    on = choices.get(result["aggregate_on"]) or pivots.field_of(get_meta(result["doctype"]), result["aggregate_on"])
    average = registry[on["fieldtype"]].average_type if result["aggregate"] == "avg" else None
    return dict(on, fieldtype=average or on["fieldtype"])


def view_pivot(result, spec, choices, route):
    """The pivot as the template shows it: labels, formatted figures and each cell's
    drill-down link (the report view over the records behind it)."""
    with _user_language():
        return _view_pivot(result, spec, choices, route)


def _view_pivot(result, spec, choices, route):
    from ..formatting import format_value
    from ..render import prefs
    p = prefs()
    dims = result["dimensions"]
    row_dims, col_dim = (dims[:-1], dims[-1]) if result["column"] else (dims, None)
    prefetch_user_names([d.df for d in dims], [list(k) + ([c] if col_dim else []) for k in result["row_keys"]
                                              for c in (result["column_keys"] or [None])])
    df = value_df(result, choices)

    def cell(value, row_key=pivots.TOTAL, column_key=pivots.TOTAL):
        link = urlencode([("filters", json.dumps(pivots.cell_filters(result, spec["filters"], row_key, column_key),
                                                 ensure_ascii=False, default=str)), ("apply", "1")])
        return {"text": "" if value is None else format_value(value, df, p), "value": value,
                "url": f"/app/{route}/view/report?{link}"}

    return {"row_headers": [dimension_label(d, choices) for d in row_dims],
            "column_header": dimension_label(col_dim, choices) if col_dim else None,
            "value_label": _(AGGREGATES[result["aggregate"]]) if result["aggregate"] == "count" else
            _("%(fn)s of %(field)s") % {"fn": _(AGGREGATES[result["aggregate"]]),
                                         "field": column_label(choices[result["aggregate_on"]])},
            "columns": [{"label": key_label(col_dim, c), "key": c} for c in result["column_keys"]],
            "rows": [{"labels": [key_label(d, k) for d, k in zip(row_dims, r)],
                      "cells": [cell(v, r, c) for v, c in zip(values, result["column_keys"])],
                      "total": cell(total, r)}
                     for r, values, total in zip(result["row_keys"], result["values"], result["row_totals"])],
            "totals": [cell(v, column_key=c) for v, c in zip(result["column_totals"], result["column_keys"])],
            "grand_total": cell(result["grand_total"])}


def pivot_table(result, spec, choices, route=""):
    """(header, rows) of a pivot for a download: the labels the user reads, raw figures."""
    view = view_pivot(result, spec, choices, route)
    with _user_language():
        total = _("Total")
    header = view["row_headers"] + [c["label"] for c in view["columns"]] + [total]
    rows = [r["labels"] + [c["value"] for c in r["cells"]] + [r["total"]["value"]] for r in view["rows"]]
    rows.append([total] + [""] * (len(view["row_headers"]) - 1) + [c["value"] for c in view["totals"]]
                + [view["grand_total"]["value"]])
    return header, rows


#: the most columns of a pivot drawn as a chart's datasets
CHART_DATASETS = 8


def pivot_chart(view, kind):
    """A pivot for frappe-charts: a label per row; a dataset per column (the first
    CHART_DATASETS) on bar and line charts, else the rows' totals."""
    if not kind or not view["rows"]:
        return None
    labels = [" · ".join(r["labels"]) for r in view["rows"]]
    if view["columns"] and kind in ("bar", "line"):
        datasets = [{"name": c["label"], "values": [float(r["cells"][i]["value"] or 0) for r in view["rows"]]}
                    for i, c in enumerate(view["columns"][:CHART_DATASETS])]
    else:
        datasets = [{"name": view["value_label"], "values": [float(r["total"]["value"] or 0) for r in view["rows"]]}]
    return {"type": kind, "labels": labels, "datasets": datasets, "values": datasets[0]["values"],
            "name": datasets[0]["name"]}


# -- saved reports -----------------------------------------------------------------------------

def saved_reports(doctype):
    """Reports on ``doctype`` the user owns or that are public (permission-checked:
    public ones reach others through their share, see desk/doctype/public_share.py)."""
    return query.get_list("Report", fields=["name", "report_name", "is_public", "owner"],
                          filters={"ref_doctype": doctype, "report_type": "Report Builder"},
                          or_filters=[["owner", "=", local.user], ["is_public", "=", 1]],
                          order_by="report_name asc", limit_page_length=200)


def load_report(name, doctype):
    rows = query.get_list("Report", fields=["name", "report_name", "ref_doctype", "json", "is_public", "owner"],
                          filters={"name": name, "report_type": "Report Builder"}, limit_page_length=1)
    if not rows:
        # The same answer whether it does not exist or is someone else's private report.
        raise DoesNotExistError(_("Report %(name)s not found") % {"name": name}, doctype="Report")
    if rows[0]["ref_doctype"] != doctype:
        raise ValidationError(_("Report %(name)s is a report on %(doctype)s") % {
            "name": name, "doctype": _(rows[0]["ref_doctype"])}, field="report")
    return rows[0]


def saved_report_url(name, ref_doctype):
    """Where a saved Report opens: the report view with its columns, filters, sort and
    group-by (Frappe's /app/<doctype>/view/report/<name>)."""
    from urllib.parse import quote
    from ...utils import route_for
    return f"/app/{route_for(ref_doctype)}/view/report?report={quote(name, safe='')}"


@desk_view
def open_saved(request, route, name):
    """/app/<doctype-route>/view/report/<name>, Frappe's path of a saved report."""
    return HttpResponseRedirect(saved_report_url(name, doctype_for_route(route)))


def save_report(request, doctype, meta):
    """Create the Report, or update it when the user may write it (its owner)."""
    name = (request.POST.get("report_name") or "").strip()
    if not name:
        raise ValidationError(_("Give the report a name"), field="report_name")
    spec, _saved = read_spec(QueryDict(request.POST.get("state") or ""), meta)
    spec = check_spec(spec, meta, column_choices(meta))
    settings = {k: spec[k] for k in ("columns", "filters", "order_by", "group_by", "aggregate", "aggregate_on",
                                     "chart", "pivot_rows", "pivot_column")}
    if local.db.exists("Report", name):
        doc = get_doc("Report", name)
        if doc.report_type != "Report Builder":  # a Script or Query Report keeps its type
            raise ValidationError(_("%(name)s is a %(type)s: choose another name") % {
                "name": name, "type": _(doc.report_type)}, field="report_name")
        if doc.ref_doctype != doctype:
            raise ValidationError(_("Report %(name)s is a report on %(doctype)s") % {
                "name": name, "doctype": _(doc.ref_doctype)}, field="report_name")
    else:
        doc = new_doc("Report")
        doc.report_name = name
        doc.ref_doctype = doctype
    doc.report_type = "Report Builder"
    doc.is_public = 1 if request.POST.get("is_public") in ("1", "on") else 0
    doc.json = json.dumps(settings, ensure_ascii=False, default=str)
    doc.save()
    return doc


# -- the view ----------------------------------------------------------------------------------

@desk_view
def report_view(request, route):
    doctype = doctype_for_route(route)
    meta = get_meta(doctype)
    try:
        _require(doctype, "report")
    except PermissionError as e:
        return render("report.html", status=403, forbidden=e.message, doctype=doctype, route=route)
    if request.method == "POST":
        try:
            doc = save_report(request, doctype, meta)
        except LowcodeError as e:
            local.db.rollback()
            local.db.begin()
            return _page(request, doctype, meta, route, QueryDict(request.POST.get("state") or "", mutable=True),
                         save_error=e.message, status=e.http_status)
        return HttpResponseRedirect(f"/app/{route}/view/report?" + urlencode({"report": doc.name}))
    if request.GET.get("export"):
        return export_report(request, doctype, meta)
    return _page(request, doctype, meta, route, request.GET)


def export_report(request, doctype, meta):
    """Every matching row (or every group) as CSV or XLSX; needs the export permission."""
    fmt = export.check_format(request.GET.get("export"))
    _require(doctype, "export")
    choices = column_choices(meta)
    spec = check_spec(read_spec(request.GET, meta)[0], meta, choices)
    from ...audit import log_export
    log_export(doctype, fmt, method="report view", report_name=request.GET.get("report"), filters=spec["filters"])
    if spec["pivot_rows"]:
        header, rows = pivot_table(run_pivot(doctype, spec, ptype="export"), spec, choices)
        return export.download(doctype.replace(" ", "_"), fmt, header, rows)
    columns, rows, _more = run_report(doctype, spec, choices, ptype="export", limit=export.EXPORT_LIMIT + 1)
    export.check_size(rows)
    return export.download(doctype.replace(" ", "_"), fmt, [column_label(c) for c in columns], rows)


def _page(request, doctype, meta, route, params, save_error=None, status=200):
    choices = column_choices(meta)
    error, spec, saved, pivot_view = None, None, None, None
    columns, rows, has_next, total = [], [], False, 0
    # integer(), not int(): a number of more than 4300 digits is refused by name, not a 500
    page_length = integer(params["page_length"], "page_length") if str(params.get("page_length") or "").isdecimal() \
        else 20
    page_length = page_length if page_length in PAGE_LENGTHS else 20
    page = max(integer(params["page"], "page") if str(params.get("page") or "").isdecimal() else 1, 1)
    try:
        spec, saved = read_spec(params, meta)
        spec = check_spec(spec, meta, choices)
        if spec["pivot_rows"]:
            pivot_view = view_pivot(run_pivot(doctype, spec), spec, choices, route)
        else:
            columns, rows, has_next = run_report(doctype, spec, choices, page, page_length)
        total = query.get_count(doctype, filters=spec["filters"])
    except DoesNotExistError as e:
        return render("report.html", status=404, forbidden=e.message, doctype=doctype, route=route)
    except LowcodeError as e:
        error = e.message
        if spec and spec.get("pivot_rows") and status == 200:
            status = e.http_status  # a pivot refused (a field above the user's permlevel): the form shows why
        spec = spec or {"columns": [], "filters": [], "order_by": "", "group_by": "", "aggregate": "count",
                        "aggregate_on": "", "chart": "", "pivot_rows": [], "pivot_column": ""}
        if "filters" in (e.field or "") or isinstance(e, PermissionError):
            spec["filters"] = []
    prefetch_user_names(columns, rows)
    chart = chart_data(columns, rows, spec["chart"]) if spec["group_by"] else \
        pivot_chart(pivot_view, spec["chart"]) if pivot_view else None
    from ...timespan import LABELS
    from .filter_builder import builder_fields  # the list's filter builder, on the report's settings
    state = spec_query(spec, report=saved["name"] if saved else None)
    filter_chips = []
    for i, f in enumerate(spec["filters"]):
        rest = dict(spec, filters=spec["filters"][:i] + spec["filters"][i + 1:])
        filter_chips.append({"text": _filter_text(f, choices), "remove": spec_query(rest)})
    return render("report.html", status=status, meta=meta, doctype=doctype, route=route, spec=spec,
                  choices=choices, columns=columns, rows=rows, has_next=has_next, page=page,
                  page_length=page_length, total=total, error=error, save_error=save_error, chart=chart,
                  saved=saved, saved_reports=saved_reports(doctype), state=state, filter_chips=filter_chips,
                  pivot=pivot_view, pivot_options=pivot_options(choices),
                  aggregates=AGGREGATES, charts=CHARTS, numeric_types=types_where("numeric"), column_label=column_label,
                  operators=query.OPERATORS, can_export=role_access(doctype, "export") is not None,
                  filter_fields=builder_fields(meta), timespans=LABELS,
                  can_save=role_access("Report", "create") is not None, can_edit=_may_edit(saved),
                  # publishing shares with everyone: offered to those with the share right
                  can_publish=role_access("Report", "share") is not None or bool(saved and saved.get("is_public")))


def _may_edit(saved):
    """Whether the saved report's "Edit" link (its Report document) is for this user."""
    from ...permissions import has_permission
    return bool(saved) and has_permission("Report", "write", doc=get_doc("Report", saved["name"]))


def _filter_text(f, choices):
    """A filter as the user reads it, in their language (it is made before the page
    renders, outside the template's translation)."""
    from django.utils import translation
    from ...timespan import LABELS
    from ..render import prefs
    f = list(f)
    field, op, value = (f[1], f[2], f[3]) if len(f) == 4 else (f[0], f[1], f[2]) if len(f) == 3 else (f[0], "=", f[1])
    with translation.override(prefs().lang):
        label = column_label(choices[field]) if field in choices else field
        if str(op).lower() == "timespan":
            op, value = _("Timespan"), _(LABELS.get(str(value).lower(), str(value)))
        elif field in choices and registry[choices[field]["fieldtype"]].dated:
            value = _dates_text(value, choices[field], prefs())  # a drill-down's range in the user's calendar
    if isinstance(value, (list, tuple)):
        value = ", ".join(str(v) for v in value)
    return f"{label} {op} {'' if value is None else value}"


def _dates_text(value, df, p):
    from ..formatting import format_value
    if isinstance(value, (list, tuple)):
        return [_dates_text(v, df, p) for v in value]
    return format_value(value, df, p) if isinstance(value, str) and value[:4].isdigit() else value


OTHER_VIEWS["report"] = report_view
