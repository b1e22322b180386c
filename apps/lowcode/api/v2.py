"""Frappe's REST API v2 (``/api/v2/...``) over the same code as v1: documents through
client.py and document.py (validation, permissions on the stored record, hooks), lists
and counts through query.py (permissions in SQL), methods through method.py (the same
whitelist, guest and HTTP-method rules). Authentication, CSRF and the read-only GET are
the middleware's, as for every request.

v2 answers ``{"data": ...}`` and errors as ``{"errors": [{"type", "message", ...}]}``
(``error_response``, which the middleware uses for every error under /api/v2).
"""
from django.http import JsonResponse

from .. import client, document as documents, params, query
from ..exceptions import DoesNotExistError, MethodNotAllowed, NotWhitelisted
from . import desk_methods, method as methods
from .request import document_payload, form_dict, json_arg, respond
from .resource import require_user


def error_response(exc, status):
    """Frappe v2's error body: one entry naming the exception's type with its message
    (and the field at fault, when known); ``exc`` None is an unexpected error, whose
    detail stays in the log."""
    if exc is None:
        entry = {"type": "InternalServerError", "message": "Internal server error: the error was logged"}
    else:
        entry = {"type": getattr(exc, "exc_type", type(exc).__name__), "message": getattr(exc, "message", str(exc)),
                 "title": getattr(exc, "exc_type", type(exc).__name__), "indicator": "red"}
        if getattr(exc, "field", None):
            entry["field"] = exc.field
    return JsonResponse({"errors": [entry]}, status=status, json_dumps_params={"ensure_ascii": False})


def _not_allowed(request):
    raise MethodNotAllowed(f"{request.method} is not allowed on {request.path}")


def _doctype(doctype):
    require_user()
    from ..meta import get_meta
    return get_meta(doctype)  # an unknown DocType is a 404


# -- /api/v2/document/<doctype>[/<name>] --------------------------------------------------------

def document_collection(request, doctype):
    _doctype(doctype)
    if request.method == "GET":
        return _list(request, doctype)
    if request.method == "POST":
        doc = client.insert_doc(dict(document_payload(request), doctype=doctype))
        return respond("data", client.doc_for_user(doc))
    _not_allowed(request)


def _list(request, doctype):
    """Frappe v2's list: fields, filters, or_filters, order_by, start, limit (20),
    group_by, as_dict; ``has_next_page`` from one row more than asked for;
    ``include=count`` adds the count under the same filters."""
    data = form_dict(request)
    filters, or_filters = json_arg(data, "filters"), json_arg(data, "or_filters")
    limit = params.row_count(data.get("limit"), "limit", default=20)
    start = params.row_count(data.get("start"), "start")
    rows = query.get_list(doctype, fields=json_arg(data, "fields"), filters=filters, or_filters=or_filters,
                          order_by=data.get("order_by"), group_by=data.get("group_by"), limit_start=start,
                          limit_page_length=min(limit + 1, params.MAX_ROWS) if limit else 0,
                          as_list=str(data.get("as_dict", "1")).strip().lower() in ("0", "false"))
    extra = {"has_next_page": bool(limit) and len(rows) > limit}
    if "count" in str(data.get("include") or "").split(","):
        extra["count"] = query.get_count(doctype, filters=filters, or_filters=or_filters)
    return respond("data", rows[:limit] if limit else rows, extra=extra)


def document(request, doctype, name):
    _doctype(doctype)
    if request.method == "GET":
        return respond("data", client.doc_for_user(client.get_readable_doc(doctype, name)))
    if request.method in ("PATCH", "PUT"):
        return respond("data", client.doc_for_user(client.update_doc(doctype, name, document_payload(request))))
    if request.method == "DELETE":
        documents.delete_doc(doctype, name)
        return respond("data", "ok", status=202)  # Frappe v2 answers a delete with 202
    _not_allowed(request)


def document_method(request, doctype, name, method):
    """A whitelisted method of the document's controller (Frappe's run_doc_method): GET
    needs read on the document (and cannot write: the request is read-only), POST write.
    Answers the method's result and the document as the user may see it afterwards."""
    _doctype(doctype)
    if request.method not in ("GET", "POST"):
        _not_allowed(request)
    doc = documents.get_doc(doctype, name)
    func = getattr(type(doc), method, None) if method.isidentifier() and not method.startswith("_") else None
    if not callable(func):
        raise DoesNotExistError(f"{doctype} has no method {method!r}", doctype=doctype)
    if not getattr(func, "whitelisted", False):
        raise NotWhitelisted(f"{doctype}.{method} is not whitelisted")
    methods.check_http_method(func, request, f"{doctype}.{method}")
    doc.check_permission("read" if request.method == "GET" else "write")
    # Bound through the function, ``self`` given here (a client's "self" is overwritten).
    kwargs = methods.bind_args(func, dict(methods.request_args(request), self=doc), f"{doctype}.{method}")
    result = func(**kwargs)
    return respond("data", result, extra={"docs": [client.doc_for_user(doc)]})


# -- /api/v2/doctype/<doctype>/{meta,count} ----------------------------------------------------

def doctype_meta(request, doctype):
    """The DocType's definition, for a user who may read its records (as getdoctype)."""
    if request.method != "GET":
        _not_allowed(request)
    _doctype(doctype)
    return respond("data", desk_methods.getdoctype(doctype)["docs"][0])


def doctype_count(request, doctype):
    """The number of records the user may read under ``filters``/``or_filters``."""
    if request.method != "GET":
        _not_allowed(request)
    _doctype(doctype)
    data = form_dict(request)
    return respond("data", query.get_count(doctype, filters=json_arg(data, "filters"),
                                           or_filters=json_arg(data, "or_filters")))


# -- /api/v2/method/<dotted> -------------------------------------------------------------------

def call(request, dotted):
    """The same methods as /api/method (login, logout, frappe.client.*, whitelisted app
    functions), with the result under "data"."""
    return methods.answer(methods.run(request, dotted), "data")


def not_found(request, rest=""):
    raise DoesNotExistError(f"No API v2 endpoint at {request.path}")

