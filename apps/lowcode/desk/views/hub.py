"""/app/build: the Settings hub, the admin tools in one place, grouped, each shown only
to users who may use it; global search (views/home.py) finds the same tools by name.

A tool is a System Manager page (``"role"``) or a DocType's list or single form
(``"doctype"``, shown to whoever may write every record of it). Apps add their own through the
``settings_tools`` hook, a list of the same dicts (crm_app: Telephony Settings).
Also here: the navigation's Modules menu (the home page's module sections)."""
import markupsafe

from ...context import local
from ...exceptions import DoesNotExistError, PermissionError
from ...search_text import normalise
from ...utils import route_for
from ..render import render
from .common import desk_view, readable_doctypes

#: group, label, icon, and either the page url + role, or the DocType
TOOLS = [
    {"group": "Customization", "label": "Customize Form", "icon": "pencil", "url": "/app/customize-form",
     "role": "System Manager"},
    {"group": "Customization", "label": "DocType Builder", "icon": "grid", "url": "/app/doctype-builder",
     "role": "System Manager"},
    {"group": "Customization", "label": "Workflow Builder", "icon": "flow", "url": "/app/workflow-builder",
     "doctype": "Workflow"},
    {"group": "Customization", "label": "Workspace", "icon": "layout", "doctype": "Workspace"},
    {"group": "Customization", "label": "Number Card", "icon": "hash", "doctype": "Number Card"},
    {"group": "Customization", "label": "Translation", "icon": "globe", "doctype": "Translation",
     "keywords": "language Persian Hebrew"},
    {"group": "Users and permissions", "label": "User", "icon": "person", "doctype": "User"},
    {"group": "Users and permissions", "label": "Role", "icon": "people", "doctype": "Role"},
    {"group": "Users and permissions", "label": "Role Permissions", "icon": "lock", "url": "/app/permission-manager",
     "role": "System Manager", "keywords": "permission manager"},
    {"group": "Users and permissions", "label": "User Permissions", "icon": "key", "url": "/app/user-permissions",
     "role": "System Manager"},
    {"group": "Printing and e-mail", "label": "Print Format", "icon": "printer", "doctype": "Print Format"},
    {"group": "Printing and e-mail", "label": "Email Template", "icon": "envelope", "doctype": "Email Template"},
    {"group": "Channels", "label": "Email Account", "icon": "at", "doctype": "Email Account"},
    {"group": "Channels", "label": "SMS Settings", "icon": "chat", "doctype": "SMS Settings"},
    {"group": "Channels", "label": "Notification", "icon": "bell", "doctype": "Notification"},
    {"group": "Channels", "label": "Webhook", "icon": "send", "doctype": "Webhook"},
]

#: the icons (16 px line drawings in the text colour; no icon font to ship), by name
ICONS = {
    "pencil": '<path d="M11 2l3 3-8 8H3v-3z"/>',
    "grid": '<rect x="2" y="2" width="12" height="12" rx="1"/><path d="M2 6h12M6 6v8"/>',
    "flow": '<rect x="1" y="2" width="5" height="4" rx="1"/><rect x="10" y="10" width="5" height="4" rx="1"/>'
            '<path d="M3.5 6v6H10"/>',
    "layout": '<rect x="2" y="2" width="12" height="12" rx="1"/><path d="M2 5h12M7 5v9"/>',
    "hash": '<path d="M6 2L5 14M11 2l-1 12M2 6h12M2 10h12"/>',
    "person": '<circle cx="8" cy="5" r="3"/><path d="M2 15c0-3.3 2.7-5 6-5s6 1.7 6 5"/>',
    "people": '<circle cx="5.5" cy="5.5" r="2.5"/><circle cx="11" cy="5" r="2"/>'
              '<path d="M1 14c0-2.8 2-4.5 4.5-4.5S10 11.2 10 14M10 9c2.5 0 5 1.3 5 4"/>',
    "lock": '<rect x="3" y="7" width="10" height="8" rx="1"/><path d="M5 7V5a3 3 0 0 1 6 0v2"/>',
    "key": '<circle cx="5" cy="8" r="3"/><path d="M8 8h7M12 8v3M14 8v2"/>',
    "printer": '<path d="M4 6V2h8v4M4 12H2V6h12v6h-2"/><rect x="4" y="9" width="8" height="5"/>',
    "envelope": '<rect x="1.5" y="3" width="13" height="10" rx="1"/><path d="M2 4l6 5 6-5"/>',
    "at": '<circle cx="8" cy="8" r="2.5"/><path d="M10.5 8v1.5a2 2 0 0 0 4 0V8A6.5 6.5 0 1 0 12 13"/>',
    "chat": '<path d="M2 3h12v8H7l-3 3v-3H2z"/>',
    "bell": '<path d="M8 2a4 4 0 0 0-4 4v4l-2 2h12l-2-2V6a4 4 0 0 0-4-4z"/><path d="M6.5 14a1.5 1.5 0 0 0 3 0"/>',
    "send": '<path d="M2 8l12-6-4 12-2-5z"/>',
    "globe": '<circle cx="8" cy="8" r="6.5"/><path d="M1.5 8h13M8 1.5c2 2 2.5 4 2.5 6.5S10 12.5 8 14.5'
             'M8 1.5C6 3.5 5.5 5.5 5.5 8S6 12.5 8 14.5"/>',
    "phone": '<path d="M4 1.5l2.5 3-1.5 1.5a8 8 0 0 0 5 5l1.5-1.5 3 2.5-1.5 2.5C7 14 2 9 1.5 3z"/>',
    "help": '<circle cx="8" cy="8" r="6.5"/><path d="M6 6.2a2 2 0 1 1 2.6 1.9c-.4.2-.6.5-.6.9v.8M8 11.6v.4"/>',
    "house": '<path d="M2 8l6-6 6 6M4 6.5V14h8V6.5"/>',
    "folder": '<path d="M1.5 4V13h13V5.5H7.5L6 4z"/>',
    "gear": '<circle cx="8" cy="8" r="2.5"/><path d="M8 1v2M8 13v2M1 8h2M13 8h2M3 3l1.5 1.5M11.5 11.5L13 13'
            'M3 13l1.5-1.5M11.5 4.5L13 3"/>',
    # the desk's main actions (list, form)
    "plus": '<path d="M8 3v10M3 8h10"/>',
    "check": '<path d="M3 8.5l3 3 7-7"/>',
    "funnel": '<path d="M2 3h12l-4.5 5.5V13l-3 1.5v-6z"/>',
    "table": '<rect x="2" y="3" width="12" height="10" rx="1"/><path d="M2 6.5h12M2 10h12M6 3v10"/>',
    "kanban": '<rect x="2" y="2" width="3.5" height="10" rx=".5"/><rect x="6.5" y="2" width="3.5" height="6" rx=".5"/>'
              '<rect x="11" y="2" width="3" height="8" rx=".5"/>',
    "calendar": '<rect x="2" y="3" width="12" height="11" rx="1"/><path d="M2 6.5h12M5 1.5v3M11 1.5v3"/>',
    "trash": '<path d="M2.5 4h11M6 4V2.5h4V4M4 4l.7 10h6.6L12 4"/>',
}


def icon(name):
    """An inline SVG of one of ICONS (constants, never user text), hidden from screen readers;
    templates call it as ``desk_icon(name)``."""
    return markupsafe.Markup(
        '<svg class="hub-icon" width="16" height="16" viewBox="0 0 16 16" fill="none" stroke="currentColor" '
        'stroke-width="1.4" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">'
        + ICONS.get(name, ICONS["gear"]) + "</svg>")


def _allowed(tool):
    from ... import only_for
    from ...meta import get_meta
    from ...permissions import role_access
    if tool.get("role"):
        try:
            only_for(tool["role"])
            return True
        except PermissionError:
            return False
    # Everyone may read Users, Roles or Workflows; the tool is for whoever may change any
    # of them. An app's DocType is listed only on sites that have it (metadata is memoised:
    # the navigation asks on every page without a query).
    try:
        get_meta(tool["doctype"])
    except DoesNotExistError:
        return False
    return role_access(tool["doctype"], "write") == "all"


def tools():
    """The tools the user may use, in order, each with its ``url``; memoised per request
    (the navigation asks on every page)."""
    key = "_desk_tools:" + local.user
    cached = local.cache.get(key)
    if cached is None:
        from ...apps import get_hooks
        cached = []
        for tool in TOOLS + list(get_hooks("settings_tools", [])):
            if _allowed(tool):
                cached.append(dict(tool, url=tool.get("url") or "/app/" + route_for(tool["doctype"]),
                                   svg=icon(tool.get("icon"))))
        local.cache[key] = cached
    return cached


def find_tools(text):
    """Tools whose name (English or the user's language) or keywords contain ``text``."""
    from django.utils import translation
    from ..render import prefs
    wanted = normalise(text)
    if not wanted:
        return []
    with translation.override(prefs().lang):  # pages switch to the user's language only to render
        return [t for t in tools() if wanted in normalise(
            " ".join((t["label"], translation.gettext(t["label"]), t.get("keywords", ""))))]


@desk_view
def hub(request):
    groups = {}
    for tool in tools():
        groups.setdefault(tool["group"], []).append(tool)
    if not groups:
        return render("hub.html", status=403, groups={})
    return render("hub.html", groups=groups)


def module_anchor(module):
    """The id of a module's section on the home page: ``CRM`` -> ``module-crm``."""
    return "module-" + route_for(module)


@desk_view
def modules(request):
    """The navigation's Modules menu, fetched when it first opens (reading every
    DocType's permissions costs a few ms, too much for every page)."""
    names = list(dict.fromkeys(module for module, _doctype in readable_doctypes()))
    return render("hub_modules.html", modules=[(m, module_anchor(m)) for m in names], has_tools=bool(tools()))
