"""/app/<doctype-route>: the list of a DocType's documents the user may read, with
standard filters, an ad-hoc filter (any field, child tables included), sort,
paging, search and counts. Every query goes through the permission-checked query
layer."""
import json

from ... import params, query
from ...database.replicas import reads_from_replica
from ...exceptions import InvalidFieldError, LowcodeError
from ...fields import get_fieldtype, registry, types_where
from ...meta import get_meta
from ...permissions import has_permission, permitted_fieldnames
from .. import formatting
from ..badges import link_targets, marked
from ..link_titles import link_titles, prefetch_user_names
from ..record_nav import list_query
from ..render import prefs, render
from .common import app_page, desk_view, doctype_for_route
from .quick_entry import is_quick_entry

PAGE_LENGTHS = (20, 100, 500)


def list_columns(meta, readable):
    title = meta.get_title_field()
    cols = [f for f in meta.get_list_view_fields() if f in readable and f != title][:6]
    return ([title] if title != "name" and title in readable else []) + cols


def read_filters(request, meta):
    """Filters from the query string: ?field=value for standard filters, and
    ?filters=<JSON list> from the filter builder."""
    filters = []
    for df in meta.data_fields:
        value = request.GET.get(df.fieldname)
        if value not in (None, ""):
            ftype = get_fieldtype(df.fieldtype)
            value = ftype.parse_filter_input(value, df, prefs())  # a date in the user's calendar
            op = "like" if "%" in value and "like" in ftype.operators else "="
            filters.append([df.fieldname, op, value])
    if request.GET.get("filters"):
        extra = params.loads(request.GET["filters"], "filters", error=InvalidFieldError)
        filters += query.normalise_filters(extra, meta.name)
    return filters


def search_filters(meta, text):
    return query.search_or_filters(meta, text)  # the same search as link and global search


def typed_value(meta, field, value):
    """A filter builder's value as the query reads it: a Date's or Datetime's typed in the
    user's calendar and digits (1405/09/14) becomes ISO; anything else stays as typed."""
    df = meta.get_field(field) if isinstance(field, str) else None
    if df is not None and df.fieldtype in types_where("dated") and isinstance(value, str) and value.strip():
        return formatting.parse_input(value, df, prefs()) or value
    return value


def _with_added_filter(request, meta):
    """The filter builder posts add_field/add_op/add_value: fold them into the
    ``filters`` JSON and come back to a clean URL (bookmarkable, each filter a chip)."""
    from django.http import HttpResponseRedirect
    from urllib.parse import urlencode
    args = request.GET.copy()
    filters = params.loads(args["filters"], "filters") if args.get("filters") else []
    if not isinstance(filters, list):
        filters = [filters]
    from .filter_builder import added_filter
    filters.append(added_filter(args.pop("add_field")[0], (args.pop("add_op", ["="]) or ["="])[0],
                                (args.pop("add_value", [""]) or [""])[0], meta))
    args["filters"] = json.dumps(filters, ensure_ascii=False)
    args.pop("page", None)
    return HttpResponseRedirect(request.path + "?" + urlencode(args, doseq=True))


def _count_query(request):
    from urllib.parse import urlencode
    args = request.GET.copy()
    args.pop("page", None)
    args["__count"] = "1"
    return urlencode(args, doseq=True)


def filter_chips(request, choices):
    """Each ad-hoc filter as text with a link that removes it."""
    from urllib.parse import urlencode
    from .report import _filter_text
    try:
        filters = params.loads(request.GET.get("filters") or "[]", "filters")
    except LowcodeError:
        return []
    chips = []
    for i, f in enumerate(filters if isinstance(filters, list) else []):
        rest = request.GET.copy()
        remaining = filters[:i] + filters[i + 1:]
        rest["filters"] = json.dumps(remaining, ensure_ascii=False) if remaining else ""
        chips.append({"text": _filter_text(f, choices), "remove": urlencode(rest, doseq=True)})
    return chips


@desk_view
@reads_from_replica
def list_view(request, route):
    page = app_page(route)
    if page is not None:
        return page(request, None)
    doctype = doctype_for_route(route)
    if request.GET.get("add_field"):
        return _with_added_filter(request, get_meta(doctype))
    meta = get_meta(doctype)
    if meta.issingle:
        from django.http import HttpResponseRedirect
        return HttpResponseRedirect(f"/app/{route}/{doctype}")
    readable = set(permitted_fieldnames(doctype)) | {"name", "modified", "owner", "creation"}
    columns = list_columns(meta, readable)
    page_length = params.integer(request.GET.get("page_length"), "page_length", default=20)
    page_length = page_length if page_length in PAGE_LENGTHS else 20
    page = max(params.integer(request.GET.get("page"), "page", default=1, maximum=params.MAX_ROWS // 1000), 1)
    order_by = request.GET.get("order_by") or f"{meta.sort_field} {meta.sort_order}".lower()
    text = (request.GET.get("q") or "").strip()
    error, status = None, 200
    rows, has_next, link_badges, titles = [], False, {}, {}
    # Records named by a hash (Contact, Event) are listed by their title: the id means nothing to people.
    name_title = meta.get_title_field() if meta.autoname == "hash" else None
    name_title = name_title if name_title not in (None, "name") and name_title in readable else None
    try:
        filters = read_filters(request, meta)
        if request.GET.get("__count"):
            # The count comes in its own request after the rows (as in Frappe): counting
            # every match of a large table can cost more than the page itself.
            from django.http import HttpResponse
            total = query.get_count(doctype, filters=filters, or_filters=search_filters(meta, text))
            return HttpResponse(formatting.digits(f"{total:,}", prefs()))
        dynamic = [df.options for df in meta.fields if registry[df.fieldtype].options_field and df.fieldname in columns
                   and df.options not in columns and df.options in readable]
        rows = query.get_list(doctype, fields=["name"] + columns + dynamic + ([name_title] if name_title else [])
                              + ["modified", "_assign"], filters=filters,
                              or_filters=search_filters(meta, text), order_by=order_by,
                              limit_start=(page - 1) * page_length, limit_page_length=page_length + 1)
        has_next = len(rows) > page_length
        rows = rows[:page_length]
        targets = link_targets(meta, rows)
        link_badges, titles = marked(targets), link_titles(targets)
        prefetch_user_names([meta.get_field(c) or {"fieldname": c} for c in columns], rows)
    except LowcodeError as e:
        error, status = e.message, e.http_status  # a refused read is a 403 page, a bad filter a 417
        filters = []
    template = "list_rows.html" if request.headers.get("HX-Target") == "list-results" else "list.html"
    from .filter_builder import builder_fields
    from ...timespan import LABELS
    choices = builder_fields(meta)
    return render(template, status=status, meta=meta, doctype=doctype, route=route, columns=[meta.get_field(c) or
                  {"fieldname": c, "label": c, "fieldtype": "Data"} for c in columns],
                  rows=rows, page=page, page_length=page_length, has_next=has_next, link_badges=link_badges,
                  link_titles=titles, nav_query=list_query(request), name_title=name_title,
                  count_url=request.path + "?" + _count_query(request),
                  order_by=order_by, q=text, error=error, filters=filters,
                  standard_filters=[df for df in meta.data_fields if df.in_standard_filter and df.fieldname in readable],
                  args=request.GET, can_create=has_permission(doctype, "create"),
                  quick_entry=is_quick_entry(meta),  # "New" opens the dialog (views/quick_entry.py)
                  filter_fields=choices, chips=filter_chips(request, choices), operators=query.OPERATORS,
                  timespans=LABELS)


@desk_view
def other_view(request, route, view):
    from django.http import Http404
    handler = OTHER_VIEWS.get(view)
    if handler is None:
        raise Http404()
    return handler(request, route)


# kanban, calendar and report register themselves here (views/kanban.py, ...)
OTHER_VIEWS = {}
