"""Every request: find the site by Host, authenticate, run the view in one
transaction, commit on success and roll back on any error.

Connections are kept per thread and site, so a request does not pay for a new
connection; each request still starts with no open transaction."""
import base64
import binascii
import json
import logging
import threading

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import JsonResponse

import lowcode
from .. import auth, rate_limit
from . import website_users
from ..context import local
from ..database import replicas
from ..exceptions import (AuthenticationError, BadRequest, CSRFTokenError, DoesNotExistError, LowcodeError,
                          RequestEntityTooLarge, SiteNotFound)
from ..meta import check_version
from ..sites import bench_path, resolve_site
from ..database import error_kind
from .server_errors import server_error

log = logging.getLogger("lowcode.web")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_pool = threading.local()


def _connection(site):
    conns = _pool.__dict__.setdefault("conns", {})
    db = conns.get(site)
    if db is None or db.conn is None:
        db = lowcode.connect()
        conns[site] = db
    else:
        lowcode.connect(db)
    return db


def _start(site, safe):
    """The thread's connection, in a new transaction, the metadata version checked.

    GET, HEAD and OPTIONS only read, enforced by the database: a link on another site
    travels with the SameSite=Lax cookie, so a GET that wrote would be a CSRF hole
    whatever the view (see Database.set_read_only). A kept connection the server has
    dropped since the last request (a restart, a failover, wait_timeout) fails on its
    first statement; nothing of this request has run yet, so it is opened again once
    instead of answering 503 to a request the database could serve."""
    reused = (_pool.__dict__.get("conns") or {}).get(site) is not None
    while True:
        db = _connection(site)
        try:
            db.set_read_only(safe)
            db.begin(write=not safe)
            check_version()
            return db
        except Exception as e:
            if not reused or error_kind(e) != "connection":
                raise
            log.warning("%s: the kept database connection was lost (%s): reconnecting", site, e)
            _drop_connection(site)
            reused = False


def _drop_connection(site):
    conns = _pool.__dict__.get("conns", {})
    db = conns.pop(site, None)
    if db is not None:
        try:
            db.close()
        except Exception:  # noqa: BLE001 - the connection is broken anyway
            pass


def _rollback_quietly(site):
    db = _pool.__dict__.get("conns", {}).get(site)
    if db is not None:
        try:
            db.rollback()
        except Exception:  # noqa: BLE001 - a broken connection is dropped instead
            _drop_connection(site)


def error_response(exc, status=None):
    status = status or getattr(exc, "http_status", 500)
    body = {"exc_type": getattr(exc, "exc_type", type(exc).__name__),
            "message": getattr(exc, "message", str(exc))}
    if getattr(exc, "field", None):
        body["field"] = exc.field
    body["exception"] = f"lowcode.exceptions.{body['exc_type']}: {body['message']}"
    # Frappe's v1 error body, which its clients parse: ``exc`` (a JSON list; the exception's
    # line only, never a server trace) and ``_server_messages`` (JSON of JSON messages).
    body["exc"] = json.dumps([body["exception"]], ensure_ascii=False)
    body["_server_messages"] = json.dumps([json.dumps({"message": body["message"], "title": body["exc_type"],
                                                       "indicator": "red", "raise_exception": 1},
                                                      ensure_ascii=False)], ensure_ascii=False)
    if getattr(exc, "trace_id", None):  # an unexpected error: its log line has the same id
        body["trace_id"] = exc.trace_id
    response = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    if getattr(exc, "retry_after", None):
        response["Retry-After"] = str(exc.retry_after)
    return response


def error_page(request, exc, status):
    """The desk page for an access denied (403), not found (404) or server error (5xx)
    met while a browser navigates the desk (/app..., Accept: text/html, not an htmx
    fragment), in the user's language; None otherwise, so the API keeps its JSON. A
    server error shows no detail, only the trace id of its log line."""
    accept = request.headers.get("Accept", "")
    if not (status in (403, 404) or status >= 500) or request.headers.get("HX-Request") \
            or not request.path.startswith("/app") or "text/html" not in accept:
        return None
    from ..desk.render import render
    try:
        # The exception's message is English; the page's heading and text are translated.
        return render("error.html", status=status, status_code=status,
                      detail=getattr(exc, "message", None) if status < 500 else None,
                      trace_id=getattr(exc, "trace_id", None))
    except Exception:  # noqa: BLE001 - a broken database cannot render the page: JSON it is
        log.exception("could not render the error page for %s", request.path)
        return None


def error_for(request, exc, status=None):
    """The one answer to an error: a desk page for browser navigation, else JSON."""
    status = status or getattr(exc, "http_status", 500)
    if status >= 500 and not isinstance(exc, LowcodeError):
        exc = None  # no message of an unexpected error leaves the server
    page = error_page(request, exc, status)
    if page is not None:
        return page
    if (request.path + "/").startswith("/api/v2/"):
        from ..api.v2 import error_response as v2_error  # Frappe v2's {"errors": [...]}
        return v2_error(exc, status)
    if exc is None:
        return JsonResponse({"exc_type": "InternalServerError",
                             "message": "Internal server error: the error was logged"}, status=500)
    return error_response(exc, status)


class ContentSecurityPolicyMiddleware:
    """settings.CONTENT_SECURITY_POLICY on every response that sets none of its own.
    (Django 6 has this built in; on 5.2 a static policy needs no more than this.)"""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        return response


def check_body_size(request):
    """Refuse a body larger than the site's ``max_request_size`` before anything reads
    it. A file upload may be as large as the site's ``max_file_size`` allows, plus the
    form around it (the upload view checks the file itself)."""
    limit = int(local.conf.get("max_request_size") or settings.MAX_REQUEST_SIZE)
    if request.content_type == "multipart/form-data":
        from ..api.files import max_file_size
        limit = max(limit, max_file_size() + 1024 * 1024)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise BadRequest("Content-Length must be a number of bytes")
    if length > limit:
        raise RequestEntityTooLarge(f"The request body is {length} bytes; this site accepts at most {limit}")


def client_error(exc):
    """The 4xx a client's input deserves for an error raised deeper down, or None:
    a malformed or oversized body Django refused, or a value the database refused
    (too long, out of range, not a valid date) that no check caught before."""
    from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
    from django.http.multipartparser import MultiPartParserError
    from django.http.request import UnreadablePostError
    if isinstance(exc, LowcodeError):
        return None
    if isinstance(exc, RequestDataTooBig):
        return RequestEntityTooLarge(f"The request body is too large: {exc}")
    if isinstance(exc, (SuspiciousOperation, MultiPartParserError, UnreadablePostError)):
        return BadRequest(f"The request could not be read: {exc}")
    db = getattr(local, "db", None) if local else None
    refused = db.client_value_error(exc) if db is not None else None
    if refused is not None:
        log.warning("%s refused a value: %s", db.db_type, exc)
    return refused


class SiteMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        bench = bench_path()
        try:
            site = resolve_site(request.get_host(), bench)
        except SiteNotFound as e:
            return error_response(e)
        except DisallowedHost:
            return JsonResponse({"exc_type": "BadRequest", "message": "Invalid Host header"}, status=400)
        token = None
        try:
            token = lowcode.init(site, bench)
            check_body_size(request)
            local.request = request
            safe = request.method in SAFE_METHODS
            db = _start(site, safe)
            self.authenticate(request)
            rate_limit.check_api(request)
            response = website_users.gate(request) or self.get_response(request)
            if response.status_code < 400:
                replicas.remember_write()  # read-your-writes: the session reads the primary a while
                db.commit()
            else:
                _rollback_quietly(site)  # after a lost connection, the error already answered stays
            return response
        except LowcodeError as e:
            _rollback_quietly(site)
            return error_for(request, e)
        except Exception as e:
            refused = client_error(e)
            if refused is not None:
                _rollback_quietly(site)
                return error_for(request, refused)
            response = error_for(request, server_error(e, request))  # the page may read the user's language first
            _drop_connection(site)
            return response
        finally:
            if token is not None:
                lowcode.destroy(token, close=False)

    def process_exception(self, request, exception):
        """Errors raised in views: JSON with exc_type and a readable message; never a
        stack trace to the client. The transaction is rolled back by __call__."""
        from django.http import Http404
        exception = client_error(exception) or exception
        if isinstance(exception, Http404):
            exception = DoesNotExistError("Not found")
        if not isinstance(exception, LowcodeError):
            exception = server_error(exception, request)
        return error_for(request, exception)

    def authenticate(self, request):
        """Token header, else the ``sid`` session cookie, else Guest."""
        header = request.headers.get("Authorization", "")
        local.session = None
        if header:
            scheme, _, value = header.partition(" ")
            if scheme.lower() == "basic":  # Frappe takes both: base64("<api_key>:<api_secret>")
                try:
                    value = base64.b64decode(value.strip(), validate=True).decode("utf-8")
                except (binascii.Error, UnicodeDecodeError):
                    value = ""
            elif scheme.lower() != "token":
                value = ""
            if ":" not in value:
                raise AuthenticationError("Authorization must be 'token <api_key>:<api_secret>' or "
                                          "'Basic <base64 of api_key:api_secret>'")
            key, _, secret = value.strip().partition(":")
            lowcode.set_user(auth.user_for_token(key, secret))
            return
        session = auth.get_session(request.COOKIES.get("sid"))
        if session is None:
            lowcode.set_user("Guest")
            return
        local.session = session
        lowcode.set_user(session.user)
        auth.touch_session(session)  # its last activity, for the user's list of sessions
        token = request.headers.get("X-Frappe-CSRF-Token") or request.headers.get("X-CSRF-Token")
        if not token and request.method == "POST" and session.csrf_token:
            token = request.POST.get("csrf_token")  # plain desk forms send it as a field
        if request.method not in SAFE_METHODS and not auth.check_csrf(session, token):
            raise CSRFTokenError("Invalid or missing CSRF token: reload the page")
