"""What the list view does to many documents at once, and the user's saved views.

- POST /app/<route>/view/list/bulk     ``action`` = delete | assign | set_value on the
  checked rows (``names``)
- GET  /app/<route>/view/list/export   ``format`` = csv | xlsx: the checked rows
  (``names``), or every row matching the list's filters when none is checked
- GET  /app/<route>/view/list/saved-views   the user's saved views (links); POST saves
  the list's current filters and sort under a name, or deletes one (``delete``)

Bulk actions are all-or-nothing: every document goes through Document (delete_doc,
save, insert) with its own permission check, in the request's one transaction, and the
first failure rolls all of them back with a message naming the document (and the
field, where there is one). Nothing is half applied.
"""
import json

from django.http import HttpResponseRedirect, QueryDict
from django.utils.translation import gettext as _

from ... import query
from ...api.reportview import _require
from ...context import local
from ...document import delete_doc, get_doc, new_doc
from ...exceptions import LowcodeError, PermissionError, ValidationError
from ...assignments import read_assign, write_assign
from ...fields import registry, types_where
from ...meta import get_meta
from ...permissions import get_permlevels, has_permission
from ...workflow import add_comment
from .. import export
from ..doctype.public_share import share_with_user
from ..formatting import parse_input
from ..render import prefs, render
from .common import desk_view, doctype_for_route
from .listview import list_columns, read_filters, search_filters

MAX_ROWS = 500  # the list's largest page: a bulk action covers at most what one page shows
ACTIONS = ("delete", "assign", "set_value")
#: query-string keys of the list itself, never field filters (see listview.read_filters)
LIST_KEYS = frozenset(["q", "page", "page_length", "order_by", "names", "format", "csrf_token"])


class _Args:
    """read_filters reads request.GET: give it the list's query string without the
    list's own keys."""

    def __init__(self, params):
        self.GET = QueryDict(mutable=True)
        for key in params:
            if key not in LIST_KEYS:
                self.GET.setlist(key, params.getlist(key))


def _selected(params):
    names = list(dict.fromkeys(n for n in params.getlist("names") if n))
    if not names:
        raise ValidationError(_("Select at least one row"), field="names")
    if len(names) > MAX_ROWS:
        raise ValidationError(_("Select at most %(n)s rows at once") % {"n": MAX_ROWS}, field="names")
    return names


def _name_failure(e, doctype, name):
    """The same error, its message naming the document it happened on."""
    prefix = f"{_(doctype)} {name}: "
    if not e.message.startswith(prefix):
        e.message = prefix + e.message
        e.args = (e.message,)
    return e


# -- the actions ------------------------------------------------------------------------------

def bulk_delete(doctype, names):
    for name in names:
        try:
            delete_doc(doctype, name)
        except LowcodeError as e:
            raise _name_failure(e, doctype, name)
    return _("Deleted %(n)s documents") % {"n": len(names)}


def settable_fields(meta):
    """Fields the set-value action offers: plain fields at a level the user may write."""
    levels = get_permlevels(meta.name, "write")
    return [df for df in meta.data_fields
            if df.fieldtype not in types_where("bulk_settable", False) | types_where("read_only")
            and not df.read_only and not df.hidden and int(df.permlevel or 0) in levels]


def bulk_set_value(doctype, names, fieldname, value):
    meta = get_meta(doctype)
    df = next((f for f in settable_fields(meta) if f.fieldname == fieldname), None)
    if df is None:
        raise ValidationError(_("%(field)s cannot be set here") % {"field": fieldname or _("(no field)")},
                              field=fieldname or "field")
    # the type reads it (a Check takes 1/0, on, yes/no; nothing is its absent_input)
    value = parse_input(value, df, prefs()) or registry[df.fieldtype].absent_input
    for name in names:
        try:
            doc = get_doc(doctype, name)
            doc.set(fieldname, value)
            doc.save()
        except LowcodeError as e:
            raise _name_failure(e, doctype, name)
    return _("Set %(field)s on %(n)s documents") % {"field": _(df.label or df.fieldname), "n": len(names)}


def assign_to(doctype, name, user, description=None, date=None, priority=None):
    """Assign one document to ``user``: a ToDo for them, the user on the document's
    ``_assign`` list, and an "Assigned" comment in its timeline. Needs write access to
    the document; an assignee who could not read it gets it shared (as Frappe does).
    Returns False when the user was already assigned."""
    doc = get_doc(doctype, name)
    doc.check_permission("write")
    assigned = read_assign(doctype, name)
    if user in assigned:
        return False
    get_doc({"doctype": "ToDo", "allocated_to": user, "reference_type": doctype, "reference_name": name,
             "description": description or f"{_(doctype)} {doc.get_title()}", "date": date or None,
             "priority": priority or "Medium", "assigned_by": local.user}).insert()
    write_assign(doctype, name, assigned + [user])
    if not has_permission(doctype, "read", doc=doc, user=user):
        share_with_user(doctype, name, user)
    add_comment(doctype, name, "Assigned", _("%(by)s assigned this to %(user)s") % {"by": local.user, "user": user})
    return True


def bulk_assign(doctype, names, user, description=None, date=None, priority=None):
    user = (user or "").strip()
    enabled = local.db.sql("SELECT `enabled` FROM `tabUser` WHERE `name`=%s", (user,), pluck=True) if user else []
    if not enabled or not int(enabled[0] or 0):
        raise ValidationError(_("Assign to: no active user %(user)s") % {"user": user or "—"}, field="assign_to")
    if date:
        date = parse_input(date, {"fieldtype": "Date", "fieldname": "date"}, prefs())
    done = 0
    for name in names:
        try:
            done += assign_to(doctype, name, user, description, date, priority)
        except LowcodeError as e:
            raise _name_failure(e, doctype, name)
    return _("Assigned %(n)s documents to %(user)s (%(skipped)s already assigned)") % {
        "n": done, "user": user, "skipped": len(names) - done}


@desk_view
def bulk_action(request, route):
    doctype = doctype_for_route(route)
    action = request.POST.get("action")
    try:
        if action not in ACTIONS:
            raise ValidationError(_("Choose an action"), field="action")
        names = _selected(request.POST)
        if action == "delete":
            message = bulk_delete(doctype, names)
        elif action == "set_value":
            message = bulk_set_value(doctype, names, request.POST.get("field"), request.POST.get("value"))
        else:
            message = bulk_assign(doctype, names, request.POST.get("assign_to"), request.POST.get("description"),
                                  request.POST.get("date"), request.POST.get("priority"))
    except LowcodeError as e:
        # All or nothing: undo what the earlier rows did before answering.
        local.db.rollback()
        local.db.begin()
        return _result(request, route, doctype, e.message, e.field, status=e.http_status)
    return _result(request, route, doctype, message)


def _result(request, route, doctype, message, field=None, status=200):
    template = "bulk_result.html" if request.headers.get("HX-Request") else "bulk_page.html"
    return render(template, status=status, ok=status < 400, message=message, field=field, route=route,
                  doctype=doctype)


# -- export -----------------------------------------------------------------------------------

@desk_view
def export_list(request, route):
    """The list's columns for the checked rows, or for every row its filters match."""
    doctype = doctype_for_route(route)
    meta = get_meta(doctype)
    fmt = export.check_format(request.GET.get("format"))
    _require(doctype, "export")
    from ...permissions import permitted_fieldnames
    readable = set(permitted_fieldnames(doctype))
    columns = ["name"] + list_columns(meta, readable)
    filters = read_filters(_Args(request.GET), meta)
    names = list(dict.fromkeys(n for n in request.GET.getlist("names") if n))
    if names:
        filters.append(["name", "in", names])
    rows = query.get_list(doctype, fields=columns, filters=filters,
                          or_filters=search_filters(meta, (request.GET.get("q") or "").strip()),
                          order_by=request.GET.get("order_by") or None, limit_page_length=export.EXPORT_LIMIT + 1,
                          ptype="export")
    export.check_size(rows)
    from ...audit import log_export
    log_export(doctype, fmt, method="list view", filters=filters)
    labels = [_("ID")] + [_(meta.get_field(c).label or c) for c in columns[1:]]
    return export.download(doctype.replace(" ", "_"), fmt, labels, [[r[c] for c in columns] for r in rows])


# -- saved views ------------------------------------------------------------------------------

def saved_views(doctype):
    """The user's own saved views of a DocType (permission-checked; a System Manager
    may read everyone's, but the list shows each user their own)."""
    return query.get_list("List View Settings", fields=["name", "view_name", "filters", "order_by"],
                          filters={"ref_doctype": doctype, "user": local.user}, order_by="view_name asc",
                          limit_page_length=100)


def view_link(route, view):
    params = QueryDict(mutable=True)
    if view.get("filters") and view["filters"] != "[]":
        params["filters"] = view["filters"]
    if view.get("order_by"):
        params["order_by"] = view["order_by"]
    return f"/app/{route}" + ("?" + params.urlencode() if params else "")


def save_view(doctype, view_name, list_query):
    """Save the list's filters (standard filters and the filter builder's, as one
    filter list) and sort under ``view_name``; the same name again replaces it."""
    meta = get_meta(doctype)
    view_name = (view_name or "").strip()
    if not view_name:
        raise ValidationError(_("Give the view a name"), field="view_name")
    params = QueryDict(list_query or "")
    filters = read_filters(_Args(params), meta)
    order_by = (params.get("order_by") or "").strip()
    query.get_list(doctype, fields=["name"], filters=filters, order_by=order_by or None, limit_page_length=1)
    existing = query.get_list("List View Settings", filters={"ref_doctype": doctype, "user": local.user,
                                                             "view_name": view_name}, pluck="name")
    doc = get_doc("List View Settings", existing[0]) if existing else new_doc("List View Settings")
    doc.update({"ref_doctype": doctype, "view_name": view_name, "user": local.user, "order_by": order_by,
                "filters": json.dumps(filters, ensure_ascii=False, default=str)})
    return doc.save()


@desk_view
def saved_views_view(request, route):
    doctype = doctype_for_route(route)
    if not has_permission(doctype, "read"):
        raise PermissionError(f"Not permitted: read {doctype}", doctype=doctype)
    error = None
    if request.method == "POST":
        try:
            if request.POST.get("delete"):
                delete_doc("List View Settings", request.POST["delete"])
            else:
                save_view(doctype, request.POST.get("view_name"), request.POST.get("list_query"))
        except LowcodeError as e:
            local.db.rollback()
            local.db.begin()
            error = e.message
        if not request.headers.get("HX-Request") and error is None:
            return HttpResponseRedirect(f"/app/{route}")
    views = [dict(v, link=view_link(route, v)) for v in saved_views(doctype)]
    template = "bulk_views.html" if request.headers.get("HX-Request") else "bulk_views_page.html"
    # htmx swaps only 2xx answers: the fragment carries its error as text instead.
    status = 417 if error and template == "bulk_views_page.html" else 200
    return render(template, status=status, views=views, route=route, doctype=doctype, error=error,
                  list_query=request.GET.urlencode())
