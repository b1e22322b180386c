"""The login page. A desk login opens a session with a CSRF token that the desk's
pages send back on every change."""
import hmac
import secrets

from django.http import HttpResponseRedirect
from django.utils import translation
from django.utils.translation import gettext

from ... import audit, auth, twofactor
from ...context import local
from ...exceptions import AuthenticationError, TooManyRequestsError
from ..render import prefs_of, render
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
    ip = request.META.get("REMOTE_ADDR")
    tmp_id = request.POST.get("tmp_id")
    pending = twofactor.pending_login(tmp_id) if tmp_id else None  # whose code step this is
    try:
        user, challenge = twofactor.authenticate(request.POST.get("usr"), request.POST.get("pwd"),
                                                 request.POST.get("otp"), tmp_id, ip=ip, desk=True)
        if challenge:  # the password was right: now the code from the authenticator app
            return _login_form(target, otp=challenge, user=twofactor.pending_login(challenge["tmp_id"])[0])
    except (AuthenticationError, TooManyRequestsError) as e:
        if pending:  # a wrong code: ask again within the same login
            with translation.override(prefs_of(pending[0])[0].lang):
                message = gettext(e.message)
            return _login_form(target, status=e.http_status, error=message,
                               otp={"tmp_id": tmp_id, "verification": {}}, user=pending[0])
        return _login_form(target, status=e.http_status, error=gettext(e.message), usr=request.POST.get("usr", ""))
    session = auth.start_session(user, ip=ip, desk=True, user_agent=request.headers.get("User-Agent"))
    if (target == "/app" or target.startswith(website_users.DESK_PREFIXES)) and website_users.is_website_user(user):
        target = website_users.home_page(user) or target  # a portal user never lands on the desk
    response = HttpResponseRedirect(target)
    response.set_cookie("sid", session.sid, max_age=auth.SESSION_DAYS * 86400, httponly=True, samesite="Lax",
                        secure=request.is_secure())
    return response


def _login_form(target, status=200, error=None, usr="", otp=None, user=None):
    """The login form; with ``otp`` (twofactor.start's answer) its second step, asking
    for the code (and, at enrolment, showing the new secret's QR code once), in the
    language of ``user``, whose password was right."""
    token = secrets.token_urlsafe(16)
    response = render("login.html", status=status, target=target, error=error, usr=usr, login_token=token, otp=otp,
                      page_prefs=prefs_of(user)[0] if user else None)
    response.set_cookie("login_token", token, httponly=True, samesite="Strict", max_age=3600)
    return response


def logout(request):
    if request.method != "POST":  # a link or image elsewhere must not log the user out
        return HttpResponseRedirect("/app")
    if local.session:
        audit.log_logout(local.session.user, ip=request.META.get("REMOTE_ADDR"))
        auth.end_session(local.session.sid)
    response = HttpResponseRedirect("/login")
    response.delete_cookie("sid", samesite="Lax")
    return response
