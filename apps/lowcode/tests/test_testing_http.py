"""The shared HTTP test helpers (lowcode/testing/http.py) against a real site: a desk
login with its CSRF token, a token-authenticated call, and the answer checks that must
catch tracebacks and wrong statuses."""
import pytest
from django.http import HttpResponse, JsonResponse

from lowcode.testing.http import body, csrf_header, error, login, ok, post_json, refresh, token


def test_login_gives_a_session_and_csrf_token_the_server_accepts(ctx, client):
    csrf = login(ctx, client, "Administrator")
    assert ok(client.get("/api/method/frappe.auth.get_logged_user"))["message"] == "Administrator"
    # A cookie session's POST needs the token: refused without, accepted with it.
    refused = post_json(client, "/api/method/frappe.client.get_count", {"doctype": "Role"})
    assert refused.status_code in (400, 403), refused.content[:300]
    assert ok(post_json(client, "/api/method/frappe.client.get_count", {"doctype": "Role"},
                        **csrf_header(csrf)))["message"] >= 4


def test_token_headers_authenticate_and_error_checks_the_answer(ctx, client):
    headers = token("Administrator")
    refresh(ctx)
    assert ok(client.get("/api/resource/Role/Guest", **headers))["data"]["name"] == "Guest"
    data = error(client.get("/api/resource/Role/No Such Role x", **headers), 404, "DoesNotExistError")
    assert data["message"]
    with pytest.raises(AssertionError):
        error(client.get("/api/resource/Role/Guest", **headers), 404)


def test_body_refuses_tracebacks_and_non_json():
    frame = 'oops File "/srv/app/x.py", line 12, in f'
    for bad in (JsonResponse({"exc": frame}), JsonResponse({"exc": "Traceback (most recent call last)"}),
                HttpResponse("<html>not json</html>")):
        with pytest.raises(AssertionError):
            body(bad)
    # A file name in a message is not a traceback.
    assert body(JsonResponse({"message": 'File "report.pdf" is too large'}))["message"].startswith("File")
    with pytest.raises(AssertionError):
        ok(JsonResponse({"message": "x"}, status=417))
