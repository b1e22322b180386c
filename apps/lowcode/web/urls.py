"""URL map: the REST API (Frappe's paths), files, and the desk."""
from django.urls import include, path, re_path

from ..api import files, method, openapi, resource, v2
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
    # Frappe's REST API v2 (api/v2.py); a document method before the document, as Frappe routes them.
    re_path(r"^api/v2/document/(?P<doctype>[^/]+)/?$", v2.document_collection),
    re_path(r"^api/v2/document/(?P<doctype>[^/]+)/(?P<name>.+?)/method/(?P<method>[^/]+)/?$", v2.document_method),
    re_path(r"^api/v2/document/(?P<doctype>[^/]+)/(?P<name>.+?)/?$", v2.document),
    re_path(r"^api/v2/doctype/(?P<doctype>[^/]+)/meta/?$", v2.doctype_meta),
    re_path(r"^api/v2/doctype/(?P<doctype>[^/]+)/count/?$", v2.doctype_count),
    re_path(r"^api/v2/method/(?P<dotted>[^/]+)/?$", v2.call),
    re_path(r"^api/v2(?:/(?P<rest>.*))?$", v2.not_found),
    re_path(r"^api(?:/(?P<rest>.*))?$", api_not_found),
    re_path(r"^files/(?P<filename>[^/]+)$", files.public_file),
    re_path(r"^private/files/(?P<filename>[^/]+)$", files.private_file),
    path("", include("lowcode.desk.urls")),
    # Public pages apps add (hooks: web_pages), after every engine route.
    re_path(r"^(?P<prefix>[a-z][a-z0-9-]*)/?$", pages.dispatch),
    re_path(r"^(?P<prefix>[a-z][a-z0-9-]*)/(?P<path>.+)$", pages.dispatch),
]
