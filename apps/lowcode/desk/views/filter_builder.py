"""The filter builder: pick a field, an operator that field's type takes and a value
(or a timespan for dates). The list view shows it inside its filter form; a form whose
document keeps filters as JSON for another DocType (Number Card, Dashboard Chart:
``filters_json``) mounts the same builder for its chosen DocType through
``/app/__filter-builder`` and static/filter_builder.js, which only edits the JSON.

Fields are the ones the report builder offers (the DocType's own, custom fields
included, and its child tables'), each with the operators of its field type."""
from django.http import HttpResponse

from ... import query
from ...exceptions import LowcodeError, PermissionError
from ...fields import registry
from ...meta import get_meta
from ...permissions import has_permission
from ...timespan import LABELS
from ..doctype.number_card.number_card import parse_filters_json
from ..render import render
from .common import desk_view
from .report import _filter_text, column_choices


def builder_fields(meta):
    """{key: field definition + ``operators``} the user may filter ``meta`` on."""
    out = {}
    for key, choice in column_choices(meta).items():
        allowed = registry[choice["fieldtype"]].operators if choice["fieldtype"] in registry else None
        out[key] = dict(choice, operators=[op for op in query.OPERATORS if not allowed or op in allowed])
    return out


def added_filter(field, op, value, meta=None):
    """The filter the builder's inputs (add_field, add_op, add_value) describe: "between"
    takes its two ends as "from, to", as the mounted builder sends them; with ``meta``,
    dates typed in the user's calendar and digits become ISO (listview.typed_value)."""
    op = op or "="
    if op == "between" and isinstance(value, str) and "," in value:
        value = [v.strip() for v in value.split(",", 1)]
    if meta is not None:
        from .listview import typed_value
        value = ([typed_value(meta, field, v) for v in value] if isinstance(value, list)
                 else typed_value(meta, field, value))
    return [field, op, value]


def chips(filters, fields):
    """Each filter as text, for the chips under the builder."""
    return [_filter_text(f, fields) for f in filters]


@desk_view
def mounted(request):
    """GET ?doctype=&filters=<JSON>: the builder and the current filters as chips, for a
    form field holding the filters (static/filter_builder.js)."""
    doctype = request.GET.get("doctype") or ""
    try:
        meta = get_meta(doctype)
    except LowcodeError:
        return HttpResponse("", status=404)
    if meta.istable or meta.issingle or not has_permission(doctype, "read"):
        raise PermissionError(f"Not permitted: read {doctype}", doctype=doctype)
    fields = builder_fields(meta)
    error, filters = None, []
    try:
        filters = parse_filters_json(request.GET.get("filters") or "[]", "filters")
        filters = query.normalise_filters(filters, doctype)
    except LowcodeError as e:
        error = e.message
    return render("filter_builder_mounted.html", fields=fields, chips=chips(filters, fields), error=error,
                  operators=query.OPERATORS, timespans=LABELS)
