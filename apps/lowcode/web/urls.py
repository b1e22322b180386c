"""URL map: the REST API (Frappe's paths), files, and the desk."""
from django.urls import include, path, re_path

from ..api import files, method, openapi, resource
from . import pages

urlpatterns = [
    path("api/resource/<str:doctype>", resource.collection),
    path("api/resource/<str:doctype>/<path:name>", resource.item),
    path("api/method/<str:dotted>", method.call),
    path("api/openapi.json", openapi.view),
    re_path(r"^files/(?P<filename>[^/]+)$", files.public_file),
    re_path(r"^private/files/(?P<filename>[^/]+)$", files.private_file),
    path("", include("lowcode.desk.urls")),
    # Public pages apps add (hooks: web_pages), after every engine route.
    re_path(r"^(?P<prefix>[a-z][a-z0-9-]*)/?$", pages.dispatch),
    re_path(r"^(?P<prefix>[a-z][a-z0-9-]*)/(?P<path>.+)$", pages.dispatch),
]
