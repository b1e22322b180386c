"""Previous/next record on the form, within the list the user came from.

The list links each row to its form with ``?list=<the list's query string>`` (filters,
search, sort; no paging), and the form asks for the records just before and after this
one in that order, through the permission-checked query layer: only records the user
may read are ever named. Without ``?list=`` (a form opened directly) there is no
navigation, so a plain form load costs no extra query."""
import datetime
import re
from types import SimpleNamespace
from urllib.parse import urlencode

from django.http import QueryDict

from .. import query
from ..exceptions import LowcodeError
from ..fields import registry, types_where
from ..permissions import permitted_fieldnames

#: list parameters that are no part of the list's query (its paging, the count request)
PAGING = ("page", "page_length", "__count")
STANDARD_SORT = ("modified", "creation")


def list_query(request):
    """The list's query string as the forms it links to carry it: ``list=...``."""
    args = request.GET.copy()
    for key in PAGING:
        args.pop(key, None)
    return urlencode({"list": args.urlencode()})


def _sort(meta, order_by):
    """(field, descending) of the list's sort, when it is one readable field with an
    order the query layer compares (a number, a date); else the DocType's default sort
    (the list sorted by a text field steps through the default order)."""
    match = re.fullmatch(r"\s*(\w+)(?:\s+(asc|desc))?\s*", order_by or "", re.I)
    readable = set(permitted_fieldnames(meta.name))
    # the field types the query layer compares with < and > (text is matched, never ranged)
    ordered = types_where("comparable")
    comparable = {f for f in readable if meta.get_field(f).fieldtype in ordered} | set(STANDARD_SORT)
    if match and match.group(1) in comparable:
        return match.group(1), (match.group(2) or "asc").lower() == "desc"
    if meta.sort_field in comparable:
        return meta.sort_field, (meta.sort_order or "desc").lower() == "desc"
    return "modified", True


#: records sharing the sort value that are ranked by name here (more: the rest are skipped)
TIES_MAX = 1000


def _around(meta, field, value):
    """(filters for the records sharing this sort value, (op, value) for the records
    before it, (op, value) for those after). Datetimes are taken by the second: filters
    compare whole seconds while modified/creation keep microseconds, so the group is
    the second, put in its exact order by SQL."""
    if field in STANDARD_SORT or registry[meta.get_field(field).fieldtype].timed:
        second = datetime.datetime.fromisoformat(str(value)).replace(microsecond=0)
        low, high = (t.strftime("%Y-%m-%d %H:%M:%S") for t in (second, second + datetime.timedelta(seconds=1)))
        return [[field, ">=", low], [field, "<", high]], ("<", low), (">=", high)
    return [[field, "=", value]], ("<", value), (">", value)


def _neighbour(meta, filters, or_filters, field, value, name, descending, forward):
    """The record right after (forward) or before this one in the list's order: within
    those sharing its sort value (ordered by value, then name), else the nearest beyond."""
    later = (descending == forward)  # in a descending list the next one has a smaller value
    direction = "desc" if later else "asc"
    order = f"{field} {direction}, name {direction}"
    same, below, above = _around(meta, field, value)
    group = query.get_list(meta.name, pluck="name", filters=filters + same, or_filters=or_filters,
                           order_by=order, limit_page_length=TIES_MAX)
    if name in group and group.index(name) + 1 < len(group):
        return group[group.index(name) + 1]
    op, bound = below if later else above
    rows = query.get_list(meta.name, pluck="name", filters=filters + [[field, op, bound]], or_filters=or_filters,
                          order_by=order, limit_page_length=1)
    return rows[0] if rows else None


def neighbours(request, meta, doc):
    """{prev, next, query} for the form's navigation, or None without a list query."""
    from .views.listview import read_filters, search_filters  # here: listview imports this module
    raw = request.GET.get("list")
    if raw is None or doc.is_new():
        return None
    args = QueryDict(raw)
    try:
        filters = read_filters(SimpleNamespace(GET=args), meta)
        or_filters = search_filters(meta, (args.get("q") or "").strip())
        field, descending = _sort(meta, args.get("order_by") or f"{meta.sort_field} {meta.sort_order}")
        value = doc.get(field)
        if value is None:
            return None
        return {"prev": _neighbour(meta, filters, or_filters, field, value, doc.name, descending, False),
                "next": _neighbour(meta, filters, or_filters, field, value, doc.name, descending, True),
                "query": urlencode({"list": raw})}
    except (LowcodeError, ValueError):
        return None  # a filter the list would refuse too: no navigation, the form still opens
