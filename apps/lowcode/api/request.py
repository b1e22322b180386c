"""Reading a request's arguments the way Frappe clients send them: query string,
form fields, or a JSON body; values that are JSON text (``filters``, ``fields``) are
decoded where the API expects structures."""
from django.http import JsonResponse

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
            data.update(request.POST.dict())
    return data


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
