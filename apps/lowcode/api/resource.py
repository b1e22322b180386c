"""/api/resource/<DocType>[/<name>]: list and create, read, update, delete."""

from .. import client, document as documents, params, query
from ..exceptions import AuthenticationError, ValidationError
from ..context import local
from ..meta import get_meta
from ..exceptions import BadRequest
from .request import form_dict, json_arg, json_body, respond


def _require_user():
    if local.user == "Guest":
        raise AuthenticationError("Log in or send an API token to use the API")


def _check_doctype(doctype):
    get_meta(doctype)  # cached; raises DoesNotExistError (404) for an unknown DocType


def collection(request, doctype):
    _require_user()
    _check_doctype(doctype)
    if request.method == "GET":
        data = form_dict(request)
        rows = query.get_list(
            doctype, fields=json_arg(data, "fields"), filters=json_arg(data, "filters"),
            or_filters=json_arg(data, "or_filters"), order_by=data.get("order_by"),
            limit_start=params.row_count(data.get("limit_start"), "limit_start"),
            limit_page_length=params.row_count(data.get("limit"), "limit") if data.get("limit") not in (None, "")
            else params.row_count(data.get("limit_page_length"), "limit_page_length", default=20),
            group_by=data.get("group_by"), as_list=str(data.get("as_dict", "1")).lower() in ("0", "false"))
        return respond("data", rows)
    if request.method == "POST":
        form = (request.content_type or "").startswith(("multipart/", "application/x-www-form-urlencoded"))
        payload = json_body(request) if request.body and not form else {}
        if "data" in payload and isinstance(payload["data"], str) and len(payload) == 1:
            payload = json_arg(payload, "data")  # Frappe clients may post data=<json>
        if not payload and request.POST:
            payload = json_arg(request.POST.dict(), "data") if "data" in request.POST else request.POST.dict()
        if not isinstance(payload, dict):
            raise BadRequest("the document data must be a JSON object", field="data")
        doc = client.insert_doc(dict(payload, doctype=doctype))
        return respond("data", client.doc_for_user(doc))
    return respond("message", f"Method {request.method} not allowed", status=405)


def item(request, doctype, name):
    _require_user()
    _check_doctype(doctype)
    if request.method == "GET":
        return respond("data", client.doc_for_user(client.get_readable_doc(doctype, name)))
    if request.method == "PUT":
        payload = json_body(request)
        if "data" in payload and isinstance(payload["data"], str) and len(payload) == 1:
            payload = json_arg(payload, "data")
        if not isinstance(payload, dict):
            raise ValidationError("the document data must be an object")
        return respond("data", client.doc_for_user(client.update_doc(doctype, name, payload)))
    if request.method == "DELETE":
        documents.delete_doc(doctype, name)
        return respond("message", "ok")
    return respond("message", f"Method {request.method} not allowed", status=405)
