"""The login page. A desk login opens a session with a CSRF token that the desk's
pages send back on every change."""
import hmac
import secrets

from django.http import HttpResponseRedirect
from django.utils.translation import gettext

from ... import auth
from ...context import local
from ...exceptions import AuthenticationError, TooManyRequestsError
from ..render import render
from ...web import website_users


def _safe_target(target):
    # Only local paths: never redirect a user to another site after login.
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/app"
    return target


def login_page(request):
    target = _safe_target(request.GET.get("redirect-to") or request.POST.get("redirect-to"))
    if request.method == "GET":
        if local.user != "Guest":
            return HttpResponseRedirect(target)
        return _login_form(target)
    # Double-submit token: a login posted from another site lacks the cookie's value.
    form_token = request.POST.get("login_token") or ""
    if not form_token or not hmac.compare_digest(form_token, request.COOKIES.get("login_token", "")):
        return _login_form(target, status=400, error=gettext("The login form expired: please try again"))
    try:
        user = auth.check_login(request.POST.get("usr"), request.POST.get("pwd"), ip=request.META.get("REMOTE_ADDR"))
    except (AuthenticationError, TooManyRequestsError) as e:
        return _login_form(target, status=e.http_status, error=gettext(e.message), usr=request.POST.get("usr", ""))
    session = auth.start_session(user, ip=request.META.get("REMOTE_ADDR"), desk=True)
    if (target == "/app" or target.startswith(website_users.DESK_PREFIXES)) and website_users.is_website_user(user):
        target = website_users.home_page(user) or target  # a portal user never lands on the desk
    response = HttpResponseRedirect(target)
    response.set_cookie("sid", session.sid, max_age=auth.SESSION_DAYS * 86400, httponly=True, samesite="Lax",
                        secure=request.is_secure())
    return response


def _login_form(target, status=200, error=None, usr=""):
    token = secrets.token_urlsafe(16)
    response = render("login.html", status=status, target=target, error=error, usr=usr, login_token=token)
    response.set_cookie("login_token", token, httponly=True, samesite="Strict", max_age=3600)
    return response


def logout(request):
    if request.method != "POST":  # a link or image elsewhere must not log the user out
        return HttpResponseRedirect("/app")
    if local.session:
        auth.end_session(local.session.sid)
    response = HttpResponseRedirect("/login")
    response.delete_cookie("sid", samesite="Lax")
    return response
