"""/api/method/<dotted.path>: login and logout, the standard methods Frappe clients
call, and app functions marked with ``@lowcode.whitelist``.

Only functions of installed apps can be reached, and only when whitelisted; a
function without ``allow_guest`` needs a logged-in user."""
import functools
import importlib
import inspect
import types
import typing
from urllib.parse import quote

from django.conf import settings
from django.http import HttpResponse

from .. import auth, client, jobs, params, twofactor
from ..apps import get_installed_apps
from ..context import local
from ..exceptions import DoesNotExistError, NotWhitelisted, PermissionError
from ..exceptions import BadRequest
from .request import form_dict, respond
from . import desk_methods, files, query_report, reportview, security
from ..desk.views import printview
from ..core.doctype.data_import import data_import
from ..core.doctype.data_import_mapping import data_import_mapping


def login(usr: str = None, pwd: str = None, otp: str = None, tmp_id: str = None, **_):
    request = local.request
    desk = request.headers.get("X-Lowcode-Desk") == "1"
    user, challenge = twofactor.authenticate(usr, pwd, otp, tmp_id, ip=_client_ip(request), desk=desk)
    if challenge:  # a code is asked for: no session yet (Frappe's two-step login)
        local.flags.response_extra = challenge
        return None
    session = auth.start_session(user, ip=_client_ip(request), desk=desk, user_agent=request.headers.get("User-Agent"))
    local.session = session
    full_name = local.db.get_value("User", user, "full_name")
    from ..web import website_users
    home = (website_users.home_page(user) or "/") if website_users.is_website_user(user) else "/app"
    # Cookie values must be ASCII: quote names in Persian or Hebrew, as Frappe does.
    local.flags.set_cookies = {"sid": session.sid, "user_id": quote(user), "full_name": quote(full_name or user),
                               "system_user": "no" if home != "/app" else "yes"}
    # Frappe answers login with these keys beside "message"; clients read them there.
    local.flags.response_extra = {"home_page": home, "full_name": full_name}
    return "Logged In"


def logout(**_):
    if local.session:
        if local.db.read_only:
            # Frappe clients log out by GET too, so logout stays reachable by GET: ending
            # the caller's own session is the one write a GET may make. A foreign page that
            # triggers it can only log the user out; it changes no data. The request's
            # read-only unit of work (which wrote nothing) ends first, and this write gets
            # one of its own.
            local.db.commit()
            local.db.set_read_only(False)
            local.db.begin()
        from .. import audit
        audit.log_logout(local.session.user, ip=_client_ip(local.request))
        auth.end_session(local.session.sid)
    local.flags.clear_cookies = True
    return None


def get_logged_user(**_):
    if local.user == "Guest":
        raise PermissionError("Not permitted: not logged in")  # Frappe: a Guest may not call it (403)
    return local.user


def generate_keys(user: str = None, **_):
    from .. import only_for
    user = user or local.user
    if user != local.user:
        only_for("System Manager")
    if not local.db.exists("User", user):
        raise DoesNotExistError(f"User {user!r} not found")
    api_key, api_secret = auth.generate_keys(user)
    return {"api_key": api_key, "api_secret": api_secret}


def retry_failed_job(name: str, **_):
    from .. import only_for
    only_for("System Manager")
    return jobs.retry(name)


def apply_workflow(doc: str | dict, action: str, **_):
    from ..client import doc_arg
    from ..document import get_doc
    from ..workflow import apply_workflow as apply
    data = doc_arg(doc)
    target = get_doc(data.get("doctype"), data.get("name"))
    if data.get("modified") and str(data["modified"]) != str(target.modified):
        from ..exceptions import TimestampMismatchError
        raise TimestampMismatchError(f"{target.doctype} {target.name} changed since you opened it; reload it")
    from ..client import doc_for_user
    return doc_for_user(apply(target, action))


def get_transitions(doc: str | dict, **_):
    from ..client import doc_arg
    from ..document import get_doc
    from ..workflow import get_transitions as transitions
    data = doc_arg(doc)
    target = get_doc(data.get("doctype"), data.get("name"))
    target.check_permission("read")
    return [{"action": t.action, "next_state": t.next_state, "allowed": t.allowed} for t in transitions(target)]


def ping():
    """Frappe's ping: "pong", for clients and load balancers checking the server is up."""
    return "pong"


READ = ("GET", "POST")
WRITE = ("POST", "PUT", "DELETE")


def _public(fn, allow_guest=False, methods=None):
    """Whitelist a standard method. Methods that write take WRITE only: a GET can be
    sent by a link on another site with the user's cookie (and would be refused by
    the read-only database anyway, with a less helpful message)."""
    fn.whitelisted = True
    fn.allow_guest = allow_guest
    fn.http_methods = methods
    return fn


# Frappe's method names -> ours; what existing clients call keeps working unchanged.
STANDARD_METHODS = {
    "ping": _public(ping, allow_guest=True, methods=READ),
    "frappe.ping": ping,
    "login": _public(login, allow_guest=True, methods=("POST",)),
    "logout": _public(logout, allow_guest=True),  # any method, as in Frappe (see logout)
    "frappe.auth.get_logged_user": _public(get_logged_user, allow_guest=True, methods=READ),
    "frappe.client.get_list": _public(client.get_list, methods=READ),
    "frappe.client.get_count": _public(client.get_count, methods=READ),
    "frappe.client.get": _public(client.get, methods=READ),
    "frappe.client.get_value": _public(client.get_value, methods=READ),
    "frappe.client.get_single_value": _public(client.get_single_value, methods=READ),
    "frappe.client.set_value": _public(client.set_value, methods=WRITE),
    "frappe.client.insert": _public(client.insert, methods=WRITE),
    "frappe.client.insert_many": _public(client.insert_many, methods=WRITE),
    "frappe.client.save": _public(client.save, methods=WRITE),
    "frappe.client.delete": _public(client.delete, methods=WRITE),
    "frappe.client.submit": _public(client.submit, methods=WRITE),
    "frappe.client.cancel": _public(client.cancel, methods=WRITE),
    "frappe.client.rename_doc": _public(client.rename_doc, methods=WRITE),
    "frappe.client.bulk_update": _public(client.bulk_update, methods=WRITE),
    "frappe.client.attach_file": _public(client.attach_file, methods=WRITE),
    "upload_file": _public(files.upload_file, methods=WRITE),
    "frappe.handler.upload_file": _public(files.upload_file, methods=WRITE),
    "frappe.core.doctype.user.user.generate_keys": _public(generate_keys, methods=WRITE),
    "lowcode.jobs.retry": _public(retry_failed_job, methods=WRITE),
    "frappe.desk.search.search_link": _public(reportview.search_link, methods=READ),
    "frappe.model.workflow.apply_workflow": _public(apply_workflow, methods=WRITE),
    "frappe.model.workflow.get_transitions": _public(get_transitions, methods=READ),
    "frappe.desk.reportview.get": _public(reportview.report_get, methods=READ),
    "frappe.desk.reportview.get_count": _public(reportview.report_count, methods=READ),
    "frappe.desk.reportview.export_query": _public(reportview.export_query, methods=READ),
    "frappe.utils.print_format.download_pdf": _public(printview.download_pdf, methods=READ),
    "frappe.desk.form.utils.add_comment": _public(desk_methods.add_comment, methods=WRITE),
    "frappe.desk.form.assign_to.add": _public(desk_methods.assign_add, methods=WRITE),
    "frappe.desk.form.assign_to.remove": _public(desk_methods.assign_remove, methods=WRITE),
    "frappe.client.validate_link": _public(desk_methods.validate_link, methods=READ),
    "frappe.desk.form.load.getdoc": _public(desk_methods.getdoc, methods=READ),
    "frappe.desk.form.load.getdoctype": _public(desk_methods.getdoctype, methods=READ),
    "frappe.desk.query_report.run": _public(query_report.run, methods=READ),
    "frappe.desk.query_report.get_script": _public(query_report.get_script, methods=READ),
    # Data Import (core/doctype/data_import): template, preview, start, failed rows, status.
    **{f"frappe.core.doctype.data_import.data_import.{name}": _public(getattr(data_import, name), methods=methods)
       for name, methods in (("download_template", READ), ("get_preview_from_template", READ),
                             ("form_start_import", WRITE), ("download_errored_template", READ),
                             ("get_import_status", READ))},
    # An outside ERP's layout (core/doctype/data_import_mapping): records written in it.
    "lowcode.core.doctype.data_import_mapping.data_import_mapping.export_data":
        _public(data_import_mapping.export_data, methods=READ),
    # A user's sessions and two-factor secret (api/security.py).
    "lowcode.sessions.get_sessions": _public(security.get_sessions, methods=READ),
    "lowcode.sessions.revoke_session": _public(security.revoke_session, methods=("POST",)),
    "lowcode.sessions.revoke_other_sessions": _public(security.revoke_other_sessions, methods=("POST",)),
    "frappe.twofactor.reset_otp_secret": _public(security.reset_otp_secret, methods=("POST",)),
}


def resolve(dotted):
    fn = STANDARD_METHODS.get(dotted)
    if fn is not None:
        return fn
    module_path, _, attr = dotted.rpartition(".")
    app = dotted.split(".", 1)[0]
    if not module_path or app not in get_installed_apps() or not all(p.isidentifier() for p in dotted.split(".")):
        raise DoesNotExistError(f"No method {dotted!r}")
    try:
        module = importlib.import_module(module_path)
    except ModuleNotFoundError:
        raise DoesNotExistError(f"No method {dotted!r}")
    fn = getattr(module, attr, None)
    if fn is None:
        raise DoesNotExistError(f"No method {dotted!r}")
    if not getattr(fn, "whitelisted", False):
        raise NotWhitelisted(f"{dotted} is not whitelisted")
    return fn


def call(request, dotted):
    """/api/method/<dotted>: the result under "message" (v1); API v2 answers it under "data"."""
    return answer(run(request, dotted), "message")


def run(request, dotted):
    """Resolve, check and call a method with the request's arguments; its result."""
    fn = resolve(dotted)
    request.lowcode_method = dotted  # a method that exists: its name is a bounded metrics label
    if local.user == "Guest" and not getattr(fn, "allow_guest", False):
        # Guest (no session, or an unknown or expired sid): 403 as in Frappe, not 401.
        raise PermissionError(f"Not permitted: log in or send an API token to call {dotted}")
    check_http_method(fn, request, dotted)
    return fn(**bind_args(fn, request_args(request), dotted))


def check_http_method(fn, request, what):
    allowed = getattr(fn, "http_methods", None)
    if allowed and request.method not in allowed:
        raise PermissionError(f"{what} does not accept {request.method}: send it as {' or '.join(allowed)}")


def request_args(request):
    """The request's arguments for a method, without Frappe's transport keys."""
    data = form_dict(request)
    for key in ("cmd", "_", "csrf_token"):
        data.pop(key, None)
    return data


def answer(result, key, extra=None):
    """A method's result as the JSON answer (with login's cookies), or its own response
    (a download)."""
    if isinstance(result, HttpResponse):
        return result
    response = respond(key, result, extra={**(local.flags.response_extra or {}), **(extra or {})})
    _apply_cookies(response)
    return response


def bind_args(fn, data, dotted):
    """Keep the arguments the function takes; refuse missing required ones by name, and
    values that do not fit a parameter's type hint (as Frappe does for whitelisted
    methods): ``def delete(doctype: str, name: str)`` never sees a list."""
    sig = _signature(fn)
    if any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values()):
        kwargs = dict(data)
    else:
        kwargs = {k: v for k, v in data.items() if k in sig.parameters}
    for name, p in sig.parameters.items():
        if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and name not in kwargs:
            raise BadRequest(f"{dotted}: missing argument {name!r}")
        if name in kwargs and p.annotation is not p.empty:
            kwargs[name] = _typed(kwargs[name], p.annotation, name)
    return kwargs


@functools.lru_cache(maxsize=None)
def _signature(fn):
    return inspect.signature(fn, eval_str=True)


def _typed(value, hint, name):
    """A client's value for a parameter hinted str, int, bool, dict or list (or a union
    of them): form and query values arrive as text, so numbers, flags and JSON text are
    read from it; anything else is a 400 naming the parameter."""
    kinds = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
    kinds = tuple(typing.get_origin(k) or k for k in kinds)
    if typing.Any in kinds:
        return value
    if value is None or any(isinstance(value, k) and not (k is int and isinstance(value, bool)) for k in kinds):
        return value
    for kind in kinds:
        if kind is str and isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        if kind is int and isinstance(value, (str, float)):
            return params.integer(value, name)
        if kind is bool and (isinstance(value, int) or isinstance(value, str) and value.strip().lower() in _FLAGS):
            return _FLAGS.get(str(value).strip().lower(), bool(value))
        if kind in (dict, list) and isinstance(value, str) and value.strip()[:1] in ("{", "["):
            decoded = params.loads(value, name)
            if isinstance(decoded, kind):
                return decoded
    expected = " or ".join(_KIND_NAMES.get(k, getattr(k, "__name__", str(k))) for k in kinds if k is not type(None))
    raise BadRequest(f"{name} must be {expected}, got {type(value).__name__}", field=name)


_FLAGS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False, "": False}
_KIND_NAMES = {str: "text", int: "a whole number", float: "a number", bool: "0 or 1", dict: "an object",
               list: "a list"}


def _apply_cookies(response):
    secure = not settings.DEBUG and local.request.is_secure()
    if local.flags.set_cookies:
        for key, value in local.flags.set_cookies.items():
            response.set_cookie(key, value, max_age=auth.SESSION_DAYS * 86400, httponly=(key == "sid"),
                                samesite="Lax", secure=secure)
    if local.flags.clear_cookies:
        for key in ("sid", "user_id", "full_name", "system_user"):
            response.delete_cookie(key, samesite="Lax")


def _client_ip(request):
    return request.META.get("REMOTE_ADDR")
