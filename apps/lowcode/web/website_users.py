"""Website Users (``user_type`` "Website User": a customer's contact on a portal) live
outside the desk, as in Frappe. They keep Frappe's automatic roles, so the DocPerms
given to "All" would reach them through any generic path; instead of auditing every
such rule they are kept away from the generic paths altogether:

- the desk (``/app``, ``/printview``) redirects them to their home page: the first
  ``role_home_page`` an app declares for one of their roles (Frappe's hook); without
  one it answers 403 (``/`` would lead back to the desk);
- the generic API (``/api/resource``, ``/api/method``, reports, OpenAPI) answers 403,
  except methods any Guest may call (login, logout, a public search...).

What they may see is what the pages made for them (an app's ``web_pages``) show, and
those pages read through the permission hooks like everything else."""
from django.http import HttpResponseRedirect

from ..apps import get_hooks
from ..context import local
from ..exceptions import PermissionError
from ..permissions import ADMIN, _memo, get_roles

DESK_PREFIXES = ("/app/", "/printview")


def is_website_user(user=None):
    user = user or local.user
    if user in ("Guest", ADMIN):
        return False
    # Remembered like roles: saving a User bumps the permissions version.
    return _memo("website_user", user, lambda: bool(local.db.sql(
        "SELECT 1 FROM `tabUser` WHERE `name`=%s AND `user_type`='Website User'", (user,))))


def home_page(user=None):
    """Where a Website User lands after login and instead of the desk, or None."""
    roles = get_roles(user)
    for role, page in get_hooks("role_home_page", {}).items():
        if role in roles:
            page = page[-1] if isinstance(page, list) else page
            return "/" + page.strip("/")
    return None


def gate(request):
    """A redirect for a Website User who asks for the desk, PermissionError for the
    generic API, None for everything else (and for everyone else)."""
    if local.user == "Guest" or not is_website_user():
        return None
    path = request.path
    if path == "/app" or path.startswith(DESK_PREFIXES):
        home = home_page()
        if home is None:
            raise PermissionError("The desk is for system users")
        return HttpResponseRedirect(home)
    if path.startswith("/api/"):
        prefix = next((p for p in ("/api/method/", "/api/v2/method/") if path.startswith(p)), None)
        if prefix:
            from ..api.method import resolve
            try:
                if getattr(resolve(path[len(prefix):].rstrip("/")), "allow_guest", False):
                    return None
            except Exception:  # noqa: BLE001 - an unknown method is refused like the others
                pass
        raise PermissionError("Portal users cannot use this API: use the portal's pages")
    return None
