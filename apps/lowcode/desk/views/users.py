"""Passwords in the browser: /app/user-password/<user> where whoever may (a System
Manager, core/doctype/user: may_set_password) sets a user's password or e-mails them
an invitation, and /update-password?key= where the invited user chooses one with the
one-time key (auth.make_password_key)."""
import hmac
import secrets

from django.http import HttpResponseRedirect
from django.utils import translation
from django.utils.translation import gettext

from ... import auth
from ...context import local
from ...core.doctype.user.user import may_set_password, send_invitation, set_new_password
from ...exceptions import DoesNotExistError, LowcodeError, PermissionError, ValidationError
from ..render import prefs, render
from .common import desk_view


@desk_view
def password_page(request, name):
    row = local.db.sql("SELECT `name`, `full_name` FROM `tabUser` WHERE `name`=%s", (name,), as_dict=True)
    if not row:
        raise DoesNotExistError(f"User {name} not found")
    if not may_set_password(name):
        raise PermissionError(f"Not permitted: set the password of {name}", doctype="User")
    page = dict(user_name=name, full_name=row[0]["full_name"], can_invite=name != local.user, error=None,
                error_field=None, done=request.GET.get("done"))
    if request.method == "GET":
        return render("user_password.html", **page)
    action = request.POST.get("action")
    try:
        # The password policy's messages (Django's validators) in the admin's language.
        with translation.override(prefs().lang):
            if action == "password":
                set_new_password(name, request.POST.get("new_password") or "")
            elif action == "invite":
                send_invitation(name)
            else:
                raise ValidationError(f"action: {action!r} is not one of password, invite", field="action")
    except LowcodeError as e:
        with translation.override(prefs().lang):
            page.update(error=gettext(e.message), error_field=getattr(e, "field", None))
        return render("user_password.html", status=e.http_status, **page)
    return HttpResponseRedirect(f"/app/user-password/{name}?done={action}")


def update_password(request):
    """A guest page: the key in the link names the user. Posting needs the form's
    double-submit token (as the login form), the key (single use: setting the
    password ends it) and a password passing the policy."""
    key = request.GET.get("key") if request.method == "GET" else request.POST.get("key")
    user = auth.user_for_password_key(key)
    if user is None:
        return _form(request, None, key, status=410, error=gettext("This link is invalid, was used already or has expired. "
                                                          "Ask your administrator for a new one."))
    if request.method == "GET":
        return _form(request, user, key)
    token = request.POST.get("form_token") or ""
    if not token or not hmac.compare_digest(token, request.COOKIES.get("password_form_token", "")):
        return _form(request, user, key, status=400, error=gettext("The form expired: please try again"))
    password = request.POST.get("new_password") or ""
    if password != (request.POST.get("confirm_password") or ""):
        return _form(request, user, key, status=417, error=gettext("The two passwords differ"))
    try:
        auth.set_password(user, password, field="new_password")
    except ValidationError as e:
        return _form(request, user, key, status=e.http_status, error=gettext(e.message))
    return HttpResponseRedirect("/login")


def _form(request, user, key, status=200, error=None):
    # One token per browser while the page is retried (an error re-renders the form).
    token = request.COOKIES.get("password_form_token") or secrets.token_urlsafe(16)
    response = render("update_password.html", status=status, user_name=user, key=key if user else "",
                      form_token=token, error=error)
    response.set_cookie("password_form_token", token, httponly=True, samesite="Strict", max_age=3600,
                        path="/update-password")
    response["Referrer-Policy"] = "no-referrer"  # the key is in the URL
    return response


@desk_view
def sessions_page(request, name):
    """/app/user-sessions/<user>: the user's sessions (device, address, started, last
    active), each to log out, or all but this one; a System Manager's for anyone, who
    may also reset the user's two-factor secret. The same rules as api/security.py,
    whose functions it calls."""
    from ...api import security
    from ..formatting import format_datetime
    row = local.db.sql("SELECT `name`, `full_name` FROM `tabUser` WHERE `name`=%s", (name,), as_dict=True)
    if not row:
        raise DoesNotExistError(f"User {name} not found")
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "revoke":
            security.revoke_session(request.POST.get("session_id"), user=name)
        elif action == "revoke_others":
            security.revoke_other_sessions(user=name)
        elif action == "reset_otp":
            security.reset_otp_secret(user=name)
        else:
            raise ValidationError(f"action: {action!r} is not one of revoke, revoke_others, reset_otp", field="action")
        return HttpResponseRedirect(f"/app/user-sessions/{name}?done={action}")
    sessions = security.get_sessions(user=name)
    p = prefs()
    for s in sessions:
        s["created_display"] = format_datetime(s["created"], p) if s["created"] else ""
        s["last_active_display"] = format_datetime(s["last_active"], p) if s["last_active"] else ""
    from ... import get_roles
    return render("user_sessions.html", user_name=name, full_name=row[0]["full_name"], sessions=sessions,
                  is_admin=local.user == "Administrator" or "System Manager" in get_roles(),
                  done=request.GET.get("done"))
