"""/app: the user's home: modules with their DocTypes and counts, and search."""
from django.http import HttpResponseRedirect

from ... import query
from ..guide import find_sections
from ..render import prefs, render
from .common import desk_view, readable_doctypes
from .dashboard import home_workspaces  # workspaces block
from .hub import find_tools, module_anchor


def root(request):
    """/: the desk. Frappe clients also send ``cmd=<method>`` to the site's root (POST /
    with cmd=login, GET /?cmd=logout, cmd=frappe.client.*): answered as /api/method/<cmd>."""
    cmd = request.GET.get("cmd") or (request.POST.get("cmd") if request.method == "POST" else None)
    if cmd:
        from ...api.method import call
        return call(request, cmd)
    return HttpResponseRedirect("/app")


@desk_view
def home(request):
    modules = {}
    for module, doctype in readable_doctypes():
        modules.setdefault(module, []).append(doctype)
    q = (request.GET.get("q") or "").strip()
    results = global_search(q) if q else []
    tools = find_tools(q) if q else []  # the settings hub's tools by name (views/hub.py)
    guide_hits = find_sections(q, prefs().lang) if q else []  # the user guide's sections (desk/guide.py)
    # -- workspaces (views/dashboard.py): only on the plain home, not on search results --
    workspaces = [] if q else home_workspaces()
    return render("home.html", modules=modules, module_anchor=module_anchor, q=q, results=results, tools=tools,
                  guide_hits=guide_hits, workspaces=workspaces, panels=home_panels(request))


def home_panels(request):
    """Blocks apps put on the home page: the ``home_panels`` hook, ``["pkg.module.fn"]``,
    each ``fn(request)`` giving None (nothing to show) or ``{"template": ..., **context}``;
    the template is included with that dict as ``panel``."""
    from ...apps import get_attr, get_hooks
    panels = (get_attr(path)(request) for path in get_hooks("home_panels", []))
    return [p for p in panels if p]


def global_search(text, limit=5):
    """Documents whose name, title or search fields match, over every readable DocType."""
    out = []
    for module, doctype in readable_doctypes():
        try:
            for hit in query.search_link(doctype, text, page_length=limit):
                out.append(dict(hit, doctype=doctype))
        except Exception:  # noqa: BLE001 - a DocType the user cannot search is skipped
            continue
    return out[:50]
