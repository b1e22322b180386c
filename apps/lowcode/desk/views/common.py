"""What every desk view needs: a logged-in user, the DocType behind a route, and
the navigation."""
from django.http import HttpResponseRedirect
from urllib.parse import quote

from ...context import local
from ...exceptions import AuthenticationError, DoesNotExistError
from ...permissions import role_access
from ...utils import route_for


class LoginRequired(Exception):
    pass


def require_login(request):
    if local.user == "Guest":
        raise LoginRequired()


def login_redirect(request):
    return HttpResponseRedirect("/login?redirect-to=" + quote(request.get_full_path()))


def doctype_for_route(route):
    """'sales-order' -> 'Sales Order' (any DocType whose route matches)."""
    cache = local.cache.setdefault("_routes", {})
    if not cache:
        for name in local.db.sql("SELECT `name` FROM `tabDocType` WHERE `istable`=0", pluck=True):
            cache[route_for(name)] = name
    doctype = cache.get(route)
    if doctype is None:
        raise DoesNotExistError(f"No DocType at /app/{route}")
    return doctype


def app_page(route):
    """A page an app adds through its hooks.py (``desk_pages = {"route": "dotted.view"}``);
    the view gets (request, name) and is served at /app/<route>[/<name>]."""
    from ...apps import get_attr, get_hooks
    paths = get_hooks("desk_pages", {}).get(route)
    return get_attr(paths[-1]) if paths else None


def open_doc(doctype, name):
    """The document a page edits: a new one (``name`` None) if the user may create,
    else the stored one if they may read it."""
    from ... import document as documents
    from ...exceptions import PermissionError
    from ...permissions import has_permission
    from django.utils.translation import gettext
    if name is None:
        if not has_permission(doctype, "create"):
            raise PermissionError(gettext("Not permitted: create %(doctype)s") % {"doctype": doctype},
                                  doctype=doctype)
        return documents.new_doc(doctype)
    doc = documents.get_doc(doctype, name)
    doc.check_permission("read")
    return doc


def readable_doctypes():
    """[(module, doctype)] the user may read, for navigation and search."""
    rows = local.db.sql("SELECT `name`, `module` FROM `tabDocType` WHERE `istable`=0 AND `issingle`=0 "
                        "ORDER BY `module`, `name`")
    return [(m, n) for n, m in rows if role_access(n, "read") is not None]


def desk_view(fn):
    """Login required; errors become a readable page instead of JSON."""
    import functools

    @functools.wraps(fn)
    def wrapper(request, *args, **kwargs):
        try:
            require_login(request)
            return fn(request, *args, **kwargs)
        except (LoginRequired, AuthenticationError):
            return login_redirect(request)
    return wrapper


__all__ = ["desk_view", "doctype_for_route", "readable_doctypes", "route_for"]


def date_param(request, name, default=""):
    """A date from the query string (a page's From/To), typed or picked in the user's
    calendar and digits -> ISO; ``default`` when absent."""
    from ..formatting import parse_date_input
    from ..render import prefs
    return parse_date_input(request.GET.get(name), prefs()) or default
