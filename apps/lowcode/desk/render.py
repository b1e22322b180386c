"""The desk's Jinja2 environment: autoescaped templates, gettext in the user's
language, and the helpers every page uses (assets, formatting, routes)."""
import functools
import os

import jinja2
import markupsafe
from django.http import HttpResponse
from django.utils import translation

from .. import i18n
from ..context import local
from ..fields import link_target, links_to
from ..realtime import desk_client as realtime_client
from ..urls import safe_url, sms_url, tel_url
from ..utils import route_for
from . import assets, avatars, formatting, indicators
from .link_titles import is_user_field, user_name

TEMPLATES = os.path.join(os.path.dirname(__file__), "templates")


MULTISELECT_LIMIT = 100  # more values than this: the grid (with link search) suits better


def multiselect_choices(tf):
    """The values a Table MultiSelect offers as checkboxes: the names of its Link field's
    DocType the user may read (permission-checked query), or None when there are too
    many (the form shows the grid)."""
    from ..meta import get_meta
    from ..query import get_list
    link = next((f for f in get_meta(tf.options).data_fields if links_to(f)), None)
    if link is None:
        return None
    names = get_list(link.options, fields=["name"], order_by="name asc", limit_page_length=MULTISELECT_LIMIT + 1,
                     as_list=True)
    return None if len(names) > MULTISELECT_LIMIT else [n[0] for n in names]


@functools.lru_cache(maxsize=1)
def environment():
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader([TEMPLATES] + app_template_dirs()),
                                    jinja2.FunctionLoader(_app_package_template)]),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True, lstrip_blocks=True,
    )
    env.install_gettext_callables(translation.gettext, translation.ngettext, newstyle=True)
    env.globals.update(_=translate, asset=assets.asset_url, doc_route=route_for,
                       multiselect_choices=multiselect_choices)
    env.globals["settings_tools"] = _settings_tools  # the navigation's Settings link (views/hub.py)
    env.globals["desk_icon"] = _icon  # desk_icon("gear"): views/hub.py ICONS
    env.globals["help_url"] = _help_url  # the user guide's section about this page (desk/guide.py)
    env.globals["create_link"] = _create_link  # a Link field's "+ Create a new ..." (views/quick_entry.py)
    env.globals["status_field"] = indicators.status_field  # status badges coloured by workflow state style
    env.globals["status_badge"] = lambda doctype, value: indicators.status_badge(doctype, value, translate)
    env.globals["status_style"] = indicators.style_for
    env.globals["fieldtype"] = _fieldtype  # a field's type: its traits and control_template
    env.globals["link_target"] = link_target  # the DocType a link field's value names
    env.globals["avatar"] = avatars.avatar  # a user's picture or initials
    env.globals["assigned_avatars"] = avatars.assigned  # list rows' assignees
    # The page's own preferences (a public page speaks the visitor's language and calendar,
    # see web/pages.py: render_web), else the user's.
    # fmt: HTML, numbers/amounts/dates isolated left to right (RTL pages keep "-4.7%");
    # fmt_text: the same text without markup, for attributes (an input's value).
    env.filters["fmt"] = jinja2.pass_context(
        lambda ctx, value, df: formatting.display_value(value, df, ctx.get("prefs") or prefs()))
    env.filters["fmt_text"] = jinja2.pass_context(
        lambda ctx, value, df: formatting.format_value(value, df, ctx.get("prefs") or prefs()))
    env.globals["date_placeholder"] = jinja2.pass_context(  # a date input's hint, in the user's calendar
        lambda ctx, fieldtype="Date": formatting.date_placeholder(fieldtype, ctx.get("prefs") or prefs()))
    env.filters["input_value"] = lambda value, df: formatting.input_value(  # an input's value: 2, not 2.0
        None if isinstance(value, jinja2.Undefined) else value, df)  # (a new row's template has no values)
    env.filters["ltr"] = formatting.ltr_html  # an already formatted number or phone in text
    env.filters["bdi"] = lambda value: markupsafe.Markup("<bdi>%s</bdi>") % value  # a stored value in a sentence
    env.filters["digits"] = jinja2.pass_context(
        lambda ctx, value: formatting.digits(value, ctx.get("prefs") or prefs()))
    env.filters["user_name"] = user_name  # a user as people know them: link_titles.user_names
    env.globals["is_user_field"] = is_user_field
    env.filters["safe_url"] = safe_url  # every href/src printed from a stored value goes through it
    env.filters["tel"] = tel_url  # Phone fields link to the phone (click-to-call on phones and softphones)
    env.filters["sms"] = sms_url  # and to its messages (tap-to-text)
    return env


def _fieldtype(name):
    from ..fields import get_fieldtype
    return get_fieldtype(name) or get_fieldtype("Data")


def _settings_tools():
    from .views.hub import tools
    return tools() if local.user != "Guest" else []


def _help_url():
    from .guide import help_url
    return help_url(local.request.path if local.request is not None else "")


def _create_link(doctype):
    from .views.quick_entry import create_link
    return create_link(doctype)


def _icon(name):
    from .views.hub import icon
    return icon(name)


def translate(text, **values):
    """``_()`` in templates: translated text (the site's Translation records first, see
    i18n.translate), with ``%(name)s`` filled only when values
    are given (so labels like "Discount %" pass untouched); values are escaped."""
    message = i18n.translate(text) if text else ""
    if not values:
        return message
    return markupsafe.Markup(markupsafe.escape(message)) % values


def _app_package_template(name):
    """A template "<app>/..." from the app package's ``templates/`` folder, for an app a
    site installs that the bench's apps.txt does not list (e.g. the control template of
    a field type the app registers)."""
    import importlib.util
    app = name.split("/", 1)[0]
    if not app.isidentifier() or "/" not in name:
        return None
    try:
        spec = importlib.util.find_spec(app)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    path = os.path.join(os.path.dirname(spec.origin), "templates", *name.split("/"))
    if ".." in name.split("/") or not os.path.isfile(path):
        return None
    mtime = os.path.getmtime(path)
    with open(path, encoding="utf-8") as f:
        return f.read(), path, lambda: os.path.isfile(path) and os.path.getmtime(path) == mtime


def app_template_dirs():
    """Each bench app's ``templates/`` folder, so an app's pages extend base.html.
    App templates live under a folder named after the app (crm_app/x.html)."""
    import importlib
    from ..sites import apps_txt
    dirs = []
    for app in apps_txt():
        try:
            path = os.path.join(os.path.dirname(importlib.import_module(app).__file__), "templates")
        except ImportError:
            continue
        if os.path.isdir(path) and path != TEMPLATES:
            dirs.append(path)
    return dirs


#: User ``desk_theme`` (Frappe's field) -> the page's Bootstrap theme; Automatic (None)
#: leaves it to static/theme.js, which follows the system's colour scheme
THEMES = {"Light": "light", "Dark": "dark"}


def prefs():
    cached = local.cache.get("_desk_prefs")
    if cached is None:
        # the theme is read with the preferences: no query of its own
        cached, local.cache["_desk_theme"] = prefs_of(local.user)
        local.cache["_desk_prefs"] = cached
    return cached


def prefs_of(user):
    """(Prefs, theme) of ``user``; the site's defaults for Guest. Also for a page shown to
    a user not logged in yet (the login's two-factor step, in the user's language)."""
    row = local.db.sql("SELECT `language`, `calendar`, `use_local_digits`, `desk_theme` FROM `tabUser` "
                       "WHERE `name`=%s", (user,), as_dict=True) if user != "Guest" else []
    r = row[0] if row else {}
    return (formatting.Prefs(r.get("language") or local.conf.get("lang") or "en", r.get("calendar") or "Gregorian",
                             r.get("use_local_digits"), local.conf.get("currency")), THEMES.get(r.get("desk_theme")))


def render(template, status=200, page_prefs=None, **context):
    """A page in the user's language and formats, or in ``page_prefs`` (a public page's
    visitor, see lowcode/web/pages.py)."""
    p = page_prefs or prefs()
    with translation.override(p.lang):
        context.setdefault("user", local.user)
        live = realtime_client() if local.session and not page_prefs else None
        context.update(prefs=p, lang=p.lang, rtl=p.rtl, site=local.site, realtime=live,
                       number_format=formatting.number_format(p),
                       theme=None if page_prefs else local.cache.get("_desk_theme"),
                       csrf_token=local.session.csrf_token if local.session else "")
        html = environment().get_template(template).render(**context)
    response = HttpResponse(html, status=status)
    if live:
        response["Content-Security-Policy"] = live["csp"]
    return response
