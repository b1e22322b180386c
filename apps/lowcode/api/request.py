"""Reading a request's arguments the way Frappe clients send them: query string,
form fields, or a JSON body; values that are JSON text (``filters``, ``fields``) are
decoded where the API expects structures."""
from django.http import JsonResponse, QueryDict

from .. import params
from ..exceptions import BadRequest


def form_dict(request):
    data = {}
    data.update(request.GET.dict())
    content_type = request.content_type or ""
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        # A multipart body is never read whole (request.body): its files stream to disk.
        if content_type.startswith("application/json") or (not content_type.startswith("multipart/") and
                                                            request.body[:1] in (b"{", b"[")):
            data.update(json_body(request))
        elif content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            data.update(form_fields(request))
    return data


def form_fields(request):
    """A form body's fields, whatever the method: Django parses them for a POST only, so a
    PUT's urlencoded body (as Frappe clients send ``data=<json>``) is parsed here."""
    if request.method == "POST" or not (request.content_type or "").startswith("application/x-www-form-urlencoded"):
        return request.POST.dict()
    return QueryDict(request.body, encoding=request.encoding).dict()


def document_payload(request):
    """The document a POST or PUT sends: a JSON object, or Frappe's ``data=<json>`` in a
    JSON or form body, or plain form fields."""
    form = (request.content_type or "").startswith(("multipart/", "application/x-www-form-urlencoded"))
    payload = json_body(request) if request.body and not form else {}
    if "data" in payload and isinstance(payload["data"], str) and len(payload) == 1:
        payload = json_arg(payload, "data")  # Frappe clients may send data=<json>
    if form:
        fields = form_fields(request)
        payload = json_arg(fields, "data") if "data" in fields else fields
    if not isinstance(payload, dict):
        raise BadRequest("the document data must be a JSON object", field="data")
    return payload


def json_body(request):
    if not request.body:
        return {}
    body = params.loads(request.body, "request body")
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object")
    return body


def json_arg(data, key, default=None):
    value = data.get(key, default)
    if isinstance(value, str) and value[:1] in ("[", "{"):
        return params.loads(value, key)
    return value


def respond(key, value, status=200, extra=None):
    return JsonResponse({key: value, **(extra or {})}, status=status, safe=False,
                        json_dumps_params={"ensure_ascii": False, "default": str})
