"""Public web pages an app adds outside the desk (a customer portal, a survey page, a
web form), declared in its hooks.py as ``web_pages = {"portal": "dotted.view"}``.

``/<prefix>`` and ``/<prefix>/<path>`` call the view with ``(request, path)``. Desk and
API routes are matched first, so an app can never shadow them. The pages render with
``render_web``: the desk's autoescaped Jinja environment, in the language the visitor
chose (``?lang=``, remembered in a cookie), else the user's, else the browser's."""
from django.http import Http404

from ..apps import get_attr, get_hooks
from ..context import local
from ..desk import formatting
from ..desk.render import prefs, render

LANGUAGES = ("en", "fa", "he")


def dispatch(request, prefix, path=""):
    paths = get_hooks("web_pages", {}).get(prefix)
    if not paths:
        raise Http404(prefix)
    return get_attr(paths[-1])(request, path or "")


def visitor_language(request, preferred=None):
    """The language a public page speaks: an explicit ``?lang=``, the ``lang`` cookie,
    the page's ``preferred`` one (e.g. the language a customer's case is in), a
    logged-in user's setting, the browser's Accept-Language, the site's default."""
    for value in (request.GET.get("lang"), request.COOKIES.get("lang"), preferred):
        if value in LANGUAGES:
            return value
    if local.user != "Guest":
        return prefs().lang
    for part in request.headers.get("Accept-Language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return local.conf.get("lang") or "en"


def render_web(request, template, status=200, preferred_lang=None, **context):
    """A public page: ``template`` extends ``web/base.html``; ``preferred_lang``: see
    visitor_language."""
    lang = visitor_language(request, preferred_lang)
    p = prefs()
    p = formatting.Prefs(lang, p.calendar if local.user != "Guest" else ("Jalali" if lang == "fa" else "Gregorian"),
                         p.local_digits, p.currency)
    response = render(template, status=status, page_prefs=p, path=request.path, **context)
    if request.GET.get("lang") in LANGUAGES:
        response.set_cookie("lang", lang, max_age=365 * 86400, samesite="Lax", secure=request.is_secure())
    return response
