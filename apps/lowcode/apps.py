"""The app registry: which apps a site has installed, what their hooks.py declare,
and where each DocType's controller class lives.

Hooks from every installed app are merged in install order (lists appended, dicts
merged key by key), as Frappe does, so any app can add handlers for any DocType.
"""
import functools
import importlib
import os
import threading

from .context import local
from .signals import metadata_changed, receiver

_lock = threading.Lock()
_site_hooks = {}       # site -> merged hooks

CORE_APP = "lowcode"


def get_installed_apps():
    try:
        apps = local.db.sql("SELECT `name` FROM `tabInstalled App` ORDER BY `idx`, `creation`", pluck=True)
    except Exception as e:  # noqa: BLE001
        if local.db.is_missing_table(e):
            return [CORE_APP]
        raise
    return [CORE_APP] + [a for a in apps if a != CORE_APP]


def load_app_hooks(app):
    """The public names of an app's hooks.py, as a dict."""
    module = importlib.import_module(f"{app}.hooks")
    return {k: v for k, v in vars(module).items() if not k.startswith("_") and not callable(v)
            and not isinstance(v, type(os))}


def _merge(target, key, value):
    if isinstance(value, dict):
        sub = target.setdefault(key, {})
        for k, v in value.items():
            _merge(sub, k, v)
    else:
        bucket = target.setdefault(key, [])
        bucket.extend(value if isinstance(value, (list, tuple)) else [value])


def get_hooks(hook=None, default=None, app_name=None):
    """Merged hooks of the site's apps (or of one app): ``get_hooks("doc_events")``."""
    if app_name:
        merged = {}
        for k, v in load_app_hooks(app_name).items():
            _merge(merged, k, v)
    else:
        merged = _site_hooks.get(local.site)
        if merged is None:
            merged = {}
            for app in get_installed_apps():
                for k, v in load_app_hooks(app).items():
                    _merge(merged, k, v)
            with _lock:
                _site_hooks[local.site] = merged
    if hook is None:
        return merged
    return merged.get(hook, default if default is not None else [])


def clear_cache(site=None):
    with _lock:
        if site is None:
            _site_hooks.clear()
        else:
            _site_hooks.pop(site, None)
    _doc_event_handlers.cache_clear()


@receiver(metadata_changed)
def _metadata_changed(sender, site, **kwargs):
    clear_cache(site)  # installed apps or their hooks may have changed


@functools.lru_cache(maxsize=4096)
def get_attr(path):
    """'crm_app.api.get_funnel' -> the function. Only importable dotted paths."""
    module, _, attr = path.rpartition(".")
    if not module:
        raise ImportError(f"{path!r} is not a dotted path")
    return getattr(importlib.import_module(module), attr)


@functools.lru_cache(maxsize=4096)
def _doc_event_handlers(site, doctype, method):
    events = get_hooks("doc_events", {})
    paths = list(events.get("*", {}).get(method, [])) + list(events.get(doctype, {}).get(method, []))
    return tuple(get_attr(p) for p in paths)


def doc_event_handlers(doctype, method):
    return _doc_event_handlers(local.site, doctype, method)


# -- DocType files and controllers ------------------------------------------------------

def app_path(app):
    return os.path.dirname(importlib.import_module(app).__file__)


def app_doctype_files(app):
    """[(json path, python module of the DocType folder)] for an app, in a stable order.

    A DocType lives in ``<any package>/doctype/<scrubbed name>/<scrubbed name>.json``."""
    root = app_path(app)
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "__")))
        if os.path.basename(os.path.dirname(dirpath)) != "doctype":
            continue
        folder = os.path.basename(dirpath)
        if folder + ".json" in filenames:
            rel = os.path.relpath(dirpath, os.path.dirname(root)).replace(os.sep, ".")
            found.append((os.path.join(dirpath, folder + ".json"), rel + "." + folder))
    return found
