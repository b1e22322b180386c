"""lowcode: a DocType engine on Django, following Frappe's formats.

App code uses this module the way Frappe apps use ``frappe``::

    import lowcode
    doc = lowcode.get_doc({"doctype": "Lead", "lead_name": "Sara"}).insert()
    rows = lowcode.get_list("Lead", fields=["name", "status"], filters={"status": "Open"})
"""
import contextlib

__version__ = "0.1.0"

from .context import local, get_state, set_state, reset_state, State  # noqa: E402
from . import exceptions  # noqa: E402
from .exceptions import (ValidationError, PermissionError, DoesNotExistError,  # noqa: E402,F401
                         DuplicateEntryError, TimestampMismatchError, MandatoryError)


def _lazy(module, name):
    def call(*args, **kwargs):
        import importlib
        return getattr(importlib.import_module(f"lowcode.{module}"), name)(*args, **kwargs)
    call.__name__ = name
    call.__doc__ = f"lowcode.{module}.{name}"
    return call


# -- context ----------------------------------------------------------------------------------

def init(site, bench=None):
    """Enter a site's context (no database connection yet). Returns a token for destroy."""
    from .sites import get_site_config, site_path
    conf = get_site_config(site, bench)
    state = State(site, bench, conf)
    state.site_path = site_path(site, bench)
    return set_state(state)


def connect(db=None):
    from . import database
    local.db = db or database.connect(local.conf, local.site_path)
    return local.db


def destroy(token=None, close=True):
    state = get_state()
    if state is not None and state.db is not None and close:
        state.db.close()
    if token is not None:
        reset_state(token)
    else:
        set_state(None)


def set_user(user):
    local.user = user
    from .permissions import clear_role_cache
    clear_role_cache()


@contextlib.contextmanager
def site_context(site, bench=None, user="Administrator"):
    """Run code against a site: connected, in one transaction that the caller commits;
    anything left uncommitted is rolled back on exit."""
    token = init(site, bench)
    try:
        connect()
        local.user = user
        # No BEGIN here: on SQLite the first write opens the transaction (so a context
        # that only reads never holds the write lock), on MariaDB it is implicit.
        from .meta import check_version
        check_version()
        yield local
        local.db.rollback()
    except BaseException:
        if local.db is not None:
            local.db.rollback()
        raise
    finally:
        destroy(token)


# Frappe's frappe.db: get_value, set_value, exists, count, delete, sql... without permission
# checks; the raw connection's methods (local.db) are reachable through it too.
from .db_api import Database as _DatabaseAPI  # noqa: E402

db = _DatabaseAPI()

# -- documents and queries ----------------------------------------------------------------------
get_doc = _lazy("document", "get_doc")
new_doc = _lazy("document", "new_doc")
delete_doc = _lazy("document", "delete_doc")
rename_doc = _lazy("rename", "rename_doc")
get_meta = _lazy("meta", "get_meta")
get_list = _lazy("query", "get_list")
get_all = _lazy("query", "get_all")
get_count = _lazy("query", "get_count")
get_value = _lazy("query", "get_value")
has_permission = _lazy("permissions", "has_permission")
get_roles = _lazy("permissions", "get_roles")
get_hooks = _lazy("apps", "get_hooks")
get_installed_apps = _lazy("apps", "get_installed_apps")
enqueue = _lazy("jobs", "enqueue")
sendmail = _lazy("channels.email", "sendmail")  # Frappe's frappe.sendmail: queued, sent after commit
cache = _lazy("caches", "cache")
lock = _lazy("locks", "lock")  # Frappe's frappe.cache.lock: a site lock across processes and hosts (locks.py)


def set_value(doctype, name, fieldname, value=None):
    """Change fields of a document through save(), so validation, permissions, hooks and
    versions apply. ``fieldname`` may be a dict of several fields."""
    doc = get_doc(doctype, name)
    doc.update(fieldname if isinstance(fieldname, dict) else {fieldname: value})
    return doc.save()


def throw(message, exc=ValidationError, field=None):
    raise exc(message, field=field)


def read_only():
    """Frappe's ``@frappe.read_only()``: the decorated function's lists, counts and reports
    may be read from a replica (database/replicas.py); its writes still go to the primary."""
    from .database.replicas import reads_from_replica
    return reads_from_replica


def only_for(roles):
    roles = [roles] if isinstance(roles, str) else roles
    if local.user != "Administrator" and not set(roles) & get_roles():
        raise PermissionError(f"Only {', '.join(roles)} may do this")


def whitelist(fn=None, allow_guest=False, methods=None):
    """Mark a function callable at /api/method/<dotted.path>. ``methods``: the HTTP
    methods it answers, any by default as in Frappe. A function that writes should
    say ``methods=["POST"]``: GET requests run read-only, so its writes in a GET would
    be refused anyway (405), only with a less helpful message."""
    def mark(f):
        f.whitelisted = True
        f.allow_guest = allow_guest
        f.http_methods = tuple(m.upper() for m in (methods or ("GET", "POST", "PUT", "DELETE")))
        return f
    return mark(fn) if fn is not None else mark


def _(text, *args):
    """Translate a string in the user's language: the site's Translation records, then
    the shipped catalog (i18n.translate)."""
    from .i18n import translate
    message = translate(text)
    return message.format(*args) if args else message



def setup_django():
    """Configure Django once per process (CLI, workers, tests, the server)."""
    import os
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lowcode.web.settings")
    import django
    from django.apps import apps as django_apps
    if not django_apps.ready:
        from .i18n import compile_catalogs
        compile_catalogs()
        django.setup()
