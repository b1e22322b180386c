"""Browser assets: third-party files come from node_modules (installed from npm by
``make install``, never committed), ours from desk/static, an app's from its
``public/`` folder under the app's name (``service_app/kb_suggest.js`` is
``apps/service_app/public/kb_suggest.js``; only apps listed in the bench's apps.txt).
Each is served under a content-hashed URL with a long cache lifetime; GZipMiddleware
compresses them."""
import functools
import hashlib
import mimetypes
import os

from django.http import FileResponse, Http404

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
NODE_MODULES = os.environ.get("LOWCODE_NODE_MODULES") or os.path.join(ROOT, "node_modules")
STATIC = os.path.join(os.path.dirname(__file__), "static")

# The only files the desk serves; nothing else under node_modules is reachable.
VENDOR = {
    "bootstrap.css": "bootstrap/dist/css/bootstrap.min.css",
    "bootstrap.rtl.css": "bootstrap/dist/css/bootstrap.rtl.min.css",
    "bootstrap.js": "bootstrap/dist/js/bootstrap.bundle.min.js",
    "htmx.js": "htmx.org/dist/htmx.min.js",
    "charts.js": "frappe-charts/dist/frappe-charts.min.umd.js",
    "sortable.js": "sortablejs/Sortable.min.js",
    "jalaali.mjs": "jalaali-js/dist/index.js",  # an ES module: import it from a module script
    "socket.io.js": "socket.io-client/dist/socket.io.min.js",  # the realtime client (desk/static/realtime.js)
}


def _path(name):
    if name in VENDOR:
        return os.path.join(NODE_MODULES, VENDOR[name])
    root = _app_public(name.split("/", 1)[0]) if "/" in name else None
    if root:
        name = name.split("/", 1)[1]
    else:
        root = STATIC
    path = os.path.abspath(os.path.join(root, name))
    if not path.startswith(root + os.sep):
        return None
    return path


def _app_public(app, bench=None):
    """An app's public/ folder, for apps of the bench only (never any importable module)."""
    import importlib.util
    from ..sites import apps_txt
    if app == "lowcode" or app not in apps_txt(bench):
        return None
    spec = importlib.util.find_spec(app)
    if spec is None or not spec.submodule_search_locations:
        return None
    return os.path.abspath(os.path.join(list(spec.submodule_search_locations)[0], "public"))


@functools.lru_cache(maxsize=None)
def _digest(path, mtime):
    with open(path, "rb") as f:
        return hashlib.sha1(f.read()).hexdigest()[:10]


def asset_url(name):
    path = _path(name)
    if not path or not os.path.exists(path):
        raise FileNotFoundError(f"desk asset {name!r} is missing (run make install)")
    return f"/assets/{_digest(path, os.path.getmtime(path))}/{name}"


def serve(request, digest, name):
    path = _path(name)
    if not path or not os.path.isfile(path):
        raise Http404()
    response = FileResponse(open(path, "rb"), content_type=mimetypes.guess_type(name)[0] or "text/plain")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


def favicon(request):
    """/favicon.ico, which browsers ask for on pages without a ``<link rel="icon">`` (a
    JSON error, a PDF): the desk's icon.svg."""
    response = FileResponse(open(os.path.join(STATIC, "icon.svg"), "rb"), content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    return response
