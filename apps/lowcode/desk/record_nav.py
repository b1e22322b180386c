"""Previous/next record on the form, within the list the user came from.

The list links each row to its form with ``?list=<the list's query string>`` (filters,
search, sort; no paging), and the form asks for the records just before and after this
one in that order, through the permission-checked query layer: only records the user
may read are ever named. Without ``?list=`` (a form opened directly) there is no
navigation, so a plain form load costs no extra query."""
import re
from types import SimpleNamespace
from urllib.parse import urlencode

from django.http import QueryDict

from .. import query
from ..exceptions import LowcodeError
from ..permissions import permitted_fieldnames

#: list parameters that are no part of the list's query (its paging, the count request)
PAGING = ("page", "page_length", "__count")
STANDARD_SORT = ("modified", "creation")
#: field types the query layer compares with < and > (text is matched, never ranged)
COMPARABLE = ("Int", "Float", "Currency", "Percent", "Rating", "Duration", "Date", "Datetime", "Time")


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
    comparable = {f for f in readable if meta.get_field(f).fieldtype in COMPARABLE} | set(STANDARD_SORT)
    if match and match.group(1) in comparable:
        return match.group(1), (match.group(2) or "asc").lower() == "desc"
    if meta.sort_field in comparable:
        return meta.sort_field, (meta.sort_order or "desc").lower() == "desc"
    return "modified", True


#: records sharing the sort value that are ranked by name here (more: the rest are skipped)
TIES_MAX = 1000


def _neighbour(doctype, filters, or_filters, field, value, name, descending, forward):
    """The record right after (forward) or before this one in the list's order: among
    those sharing its sort value, the next by name; else the nearest value."""
    later = (descending == forward)  # in a descending list the next one has a smaller value
    direction = "desc" if later else "asc"
    ties = query.get_list(doctype, pluck="name", filters=filters + [[field, "=", value]], or_filters=or_filters,
                          order_by=f"name {direction}", limit_page_length=TIES_MAX)
    if name in ties and ties.index(name) + 1 < len(ties):
        return ties[ties.index(name) + 1]
    rows = query.get_list(doctype, pluck="name", filters=filters + [[field, "<" if later else ">", value]],
                          or_filters=or_filters, order_by=f"{field} {direction}, name {direction}",
                          limit_page_length=1)
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
        return {"prev": _neighbour(meta.name, filters, or_filters, field, value, doc.name, descending, False),
                "next": _neighbour(meta.name, filters, or_filters, field, value, doc.name, descending, True),
                "query": urlencode({"list": raw})}
    except LowcodeError:
        return None  # a filter the list would refuse too: no navigation, the form still opens
