""""Add to workspace" from a list or a saved report: a dialog (templates/
add_to_workspace.html, loaded into a modal with htmx) choosing a workspace the user may
write (public ones for System Managers, anyone's own private ones, or a new private one)
and a label. The POST appends a Workspace Shortcut through Document.save, which decides
on the stored workspace. A list's shortcut keeps the list's current filters as Frappe's
``stats_filter``, so opening it lands on the same list; a report's is a Report shortcut.

GET  ?doctype=<DocType>[&from=<list URL>] or ?report=<name>   the dialog
POST the same + workspace | new_workspace, label                adds the shortcut
"""
import json
from types import SimpleNamespace
from urllib.parse import urlsplit

from django.http import QueryDict
from django.utils.translation import gettext as _

from ... import query
from ...context import local
from ...document import get_doc, new_doc
from ...exceptions import DoesNotExistError, LowcodeError, PermissionError, ValidationError
from ...meta import get_meta
from ...permissions import has_permission
from ..render import render
from .common import desk_view
from .listview import read_filters


def writable_workspaces():
    rows = query.get_list("Workspace", fields=["name", "label", "is_public"], order_by="label asc",
                          limit_page_length=200)
    return [r for r in rows if has_permission("Workspace", "write", doc=get_doc("Workspace", r["name"]))]


def target(request, data):
    """The shortcut to add: {type, link_to, label, stats_filter, filters}."""
    if data.get("report"):
        rows = query.get_list("Report", fields=["name", "report_name"], filters={"name": data["report"]},
                              limit_page_length=1)
        if not rows:
            raise DoesNotExistError(_("Report %(name)s not found") % {"name": data["report"]}, doctype="Report")
        return {"type": "Report", "link_to": rows[0]["name"], "label": rows[0]["report_name"], "filters": []}
    doctype = data.get("doctype") or ""
    try:
        meta = get_meta(doctype)
    except LowcodeError:
        raise ValidationError(_("Choose a list or a saved report to add"), field="doctype")
    if meta.istable or meta.issingle or not has_permission(doctype, "read"):
        raise PermissionError(_("Not permitted: read %(doctype)s") % {"doctype": doctype}, doctype=doctype)
    # The list's filters as they are on screen: from the dialog's own field, else the
    # page the dialog was opened on (htmx names it).
    source = data.get("from") or request.headers.get("HX-Current-URL") or ""
    filters = read_filters(SimpleNamespace(GET=QueryDict(urlsplit(source).query)), meta)
    return {"type": "DocType", "link_to": doctype, "label": _(doctype), "filters": filters, "source": source}


@desk_view
def add_to_workspace(request):
    data = request.POST if request.method == "POST" else request.GET
    error, status, done, shortcut = None, 200, None, None
    try:
        shortcut = target(request, data)
        if request.method == "POST":
            done = add(shortcut, data)
    except LowcodeError as e:
        if request.method == "POST":
            local.db.rollback()
            local.db.begin()
        error, status = e.message, e.http_status
    return render("add_to_workspace.html", status=status, shortcut=shortcut, error=error, done=done,
                  data=data, workspaces=writable_workspaces() if not done else [])


def add(shortcut, data):
    """Append the shortcut to the chosen (stored) workspace, or to a new private one."""
    label = (data.get("label") or "").strip() or shortcut["label"]
    name = (data.get("workspace") or "").strip()
    if name:
        if not local.db.exists("Workspace", name):
            raise DoesNotExistError(_("Workspace %(name)s not found") % {"name": name}, doctype="Workspace")
        ws = get_doc("Workspace", name)
        if not has_permission("Workspace", "write", doc=ws):
            raise PermissionError(_("You may not change workspace %(name)s") % {"name": ws.label},
                                  doctype="Workspace")
    else:
        title = (data.get("new_workspace") or "").strip()
        if not title:
            raise ValidationError(_("Choose a workspace or name a new one"), field="workspace")
        ws = new_doc("Workspace")
        ws.label, ws.is_public = title, 0
    ws.append("shortcuts", {"type": shortcut["type"], "link_to": shortcut["link_to"], "label": label,
                            "stats_filter": json.dumps(shortcut["filters"], ensure_ascii=False, default=str)
                            if shortcut["filters"] else None})
    ws.save() if not ws.is_new() else ws.insert()
    return ws.label
