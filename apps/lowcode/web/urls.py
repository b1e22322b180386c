"""URL map: the REST API (Frappe's paths), files, and the desk."""
from django.urls import include, path, re_path

from ..api import files, method, openapi, resource
from ..exceptions import DoesNotExistError
from . import pages

def api_not_found(request, rest=""):
    """Any other path under /api: a JSON 404, as Frappe answers, never the desk's HTML."""
    raise DoesNotExistError(f"No API endpoint at {request.path}")


# A trailing slash is accepted as Frappe accepts it (/api/resource/Lead/, /api/method/ping/).
urlpatterns = [
    re_path(r"^api/resource/(?P<doctype>[^/]+)/?$", resource.collection),
    re_path(r"^api/resource/(?P<doctype>[^/]+)/(?P<name>.+?)/?$", resource.item),
    re_path(r"^api/method/(?P<dotted>[^/]+)/?$", method.call),
    path("api/openapi.json", openapi.view),
    re_path(r"^api(?:/(?P<rest>.*))?$", api_not_found),
    re_path(r"^files/(?P<filename>[^/]+)$", files.public_file),
    re_path(r"^private/files/(?P<filename>[^/]+)$", files.private_file),
    path("", include("lowcode.desk.urls")),
    # Public pages apps add (hooks: web_pages), after every engine route.
    re_path(r"^(?P<prefix>[a-z][a-z0-9-]*)/?$", pages.dispatch),
    re_path(r"^(?P<prefix>[a-z][a-z0-9-]*)/(?P<path>.+)$", pages.dispatch),
]
