"""/app/my-settings: a user's own display preferences and password. Users may not
write their User record (only System Managers may), so this page changes just these
fields of their own record."""
from django.http import HttpResponseRedirect, JsonResponse

from ... import auth
from ...context import local
from ...exceptions import ValidationError
from ..render import render
from .common import desk_view

LANGUAGES = (("en", "English"), ("fa", "فارسی"), ("he", "עברית"))
CALENDARS = ("Gregorian", "Jalali")
THEMES = ("Automatic", "Light", "Dark")  # User desk_theme


@desk_view
def my_settings(request):
    row = local.db.sql("SELECT `language`, `calendar`, `use_local_digits`, `full_name`, `desk_theme` FROM `tabUser` "
                       "WHERE `name`=%s", (local.user,), as_dict=True)[0]
    if request.method == "GET":
        return render("settings.html", me=row, languages=LANGUAGES, calendars=CALENDARS, themes=THEMES, error=None,
                      args_saved=request.GET.get("saved") == "1")
    lang = request.POST.get("language")
    calendar = request.POST.get("calendar")
    try:
        if lang not in dict(LANGUAGES):
            raise ValidationError(f"language: {lang!r} is not available", field="language")
        if calendar not in CALENDARS:
            raise ValidationError(f"calendar: {calendar!r} is not available", field="calendar")
        theme = request.POST.get("desk_theme") or "Automatic"
        if theme not in THEMES:
            raise ValidationError(f"desk_theme: {theme!r} is not available", field="desk_theme")
        password = request.POST.get("new_password") or ""
        if password:
            auth.check_login(local.user, request.POST.get("old_password"))
            # The policy applies; the user's other sessions end, this one stays.
            auth.set_password(local.user, password, keep_sid=local.session.sid if local.session else None,
                              field="new_password")
    except Exception as e:  # noqa: BLE001 - any refusal is shown on the page
        return render("settings.html", status=getattr(e, "http_status", 417), me=row, languages=LANGUAGES,
                      calendars=CALENDARS, themes=THEMES, error=getattr(e, "message", str(e)))
    digits = 1 if request.POST.get("use_local_digits") else 0
    if (lang == "fa") != (row["language"] == "fa"):
        # Choosing Persian brings its calendar and digits (leaving it, the Gregorian calendar
        # and Latin digits), unless this same form changed them.
        if calendar == (row["calendar"] or "Gregorian"):
            calendar = "Jalali" if lang == "fa" else "Gregorian"
        if digits == int(row["use_local_digits"] or 0):
            digits = 1 if lang == "fa" else 0
    local.db.sql("UPDATE `tabUser` SET `language`=%s, `calendar`=%s, `use_local_digits`=%s, `desk_theme`=%s "
                 "WHERE `name`=%s", (lang, calendar, digits, theme, local.user))
    local.cache.pop("_desk_prefs", None)
    return HttpResponseRedirect("/app/my-settings?saved=1")


def manifest(request):
    """The web app manifest: the desk can be installed on a phone's home screen."""
    from ..assets import asset_url
    return JsonResponse({
        "name": "Lowcode CRM", "short_name": "CRM", "start_url": "/app", "display": "standalone",
        "background_color": "#ffffff", "theme_color": "#0d6efd",
        "icons": [{"src": asset_url("icon.svg"), "sizes": "any", "type": "image/svg+xml", "purpose": "any"}],
    }, content_type="application/manifest+json")
