"""/api/resource/<DocType>[/<name>]: list and create, read, update, delete."""

from .. import client, document as documents, params, query
from ..exceptions import PermissionError
from ..context import local
from ..database.replicas import replica
from ..meta import get_meta
from .request import document_payload, form_dict, json_arg, respond


def require_user():
    """A request without a valid session or token is Guest (an unknown or expired ``sid``
    too), and Guest may not use the resource API: 403 PermissionError, as Frappe answers
    (clients log in again on it); a wrong token or password stays a 401."""
    if local.user == "Guest":
        raise PermissionError("Not permitted: log in or send an API token to use the API")


def _check_doctype(doctype):
    get_meta(doctype)  # cached; raises DoesNotExistError (404) for an unknown DocType


def collection(request, doctype):
    require_user()
    _check_doctype(doctype)
    if request.method == "GET":
        data = form_dict(request)
        with replica():
            rows = query.get_list(
                doctype, fields=json_arg(data, "fields"), filters=json_arg(data, "filters"),
                or_filters=json_arg(data, "or_filters"), order_by=data.get("order_by"),
                limit_start=params.row_count(data.get("limit_start"), "limit_start"),
                limit_page_length=params.row_count(data.get("limit"), "limit") if data.get("limit") not in (None, "")
                else params.row_count(data.get("limit_page_length"), "limit_page_length", default=20),
                group_by=data.get("group_by"), as_list=str(data.get("as_dict", "1")).lower() in ("0", "false"))
        return respond("data", rows)
    if request.method == "POST":
        doc = client.insert_doc(dict(document_payload(request), doctype=doctype))
        return respond("data", client.doc_for_user(doc))
    return respond("message", f"Method {request.method} not allowed", status=405)


def item(request, doctype, name):
    require_user()
    _check_doctype(doctype)
    if request.method == "GET":
        return respond("data", client.doc_for_user(client.get_readable_doc(doctype, name)))
    if request.method == "PUT":
        return respond("data", client.doc_for_user(client.update_doc(doctype, name, document_payload(request))))
    if request.method == "DELETE":
        documents.delete_doc(doctype, name)
        return respond("message", "ok")
    return respond("message", f"Method {request.method} not allowed", status=405)
