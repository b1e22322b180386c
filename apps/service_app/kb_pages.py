"""The public knowledge base under /kb (hooks: web_pages), for guests and logged-in
visitors alike; only Published articles, in the visitor's language unless they pick
another (``?language=en|fa|he|all``).

    /kb                            categories, popular articles, a search box
    /kb/search?q=                  search (service_app.knowledge_base.search)
    /kb/category/<name>            a category's sub-categories and articles
    /kb/article/<slug>             an article (its route is kb/article/<slug>)
    POST /kb/article/<slug>/view   counts a view
    POST /kb/article/<slug>/vote   "was this helpful?" (helpful=1|0), once per visitor

Views are counted by a POST the page's script sends after it loads, not by the GET:
a GET runs in a read-only transaction here (a link from another site must never
write), a job per page view would cost a queue round-trip for a counter, and only
browsers that run the page count (crawlers and link previews do not). The count is
kept once per visitor an hour (knowledge_base.count_view).

A visitor is the logged-in user, else the ``kb_visitor`` cookie (a random token set
with the first vote); votes are also limited per address."""
import re
import secrets

from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.utils.translation import gettext as _

from lowcode.context import local
from lowcode.exceptions import BadRequest, DuplicateEntryError, TooManyRequestsError
from lowcode.web.pages import render_web, visitor_language

from . import knowledge_base as kb

PAGE_SIZE = 20
CATEGORY_COLUMNS = "c.`name`, c.`parent_category`, c.`description`, c.`label_fa`, c.`label_he`"
VISITOR_COOKIE = "kb_visitor"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def page(request, path):
    parts = [p for p in path.split("/") if p]
    if not parts:
        return _get(request, index)
    if parts == ["search"]:
        return _get(request, search_page)
    if len(parts) == 2 and parts[0] == "category":
        return _get(request, category_page, parts[1])
    if len(parts) == 2 and parts[0] == "article":
        return _get(request, article_page, kb.ROUTE_PREFIX + parts[1])
    if len(parts) == 3 and parts[0] == "article" and parts[2] in ("view", "vote"):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        handler = count_view if parts[2] == "view" else vote
        return handler(request, kb.ROUTE_PREFIX + parts[1])
    return not_found(request)


def _get(request, view, *args):
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return view(request, *args)


def not_found(request):
    return render_web(request, "service_app/kb/not_found.html", status=404)


def article_language(request):
    """The articles' language filter: ``?language=`` (all for every language), else the
    language the page speaks."""
    value = request.GET.get("language")
    if value is None:
        return visitor_language(request)
    return "" if value == "all" else kb.check_language(value, "language")


def _render(request, template, language, **context):
    return render_web(request, template, language=language, **context)


# -- pages -------------------------------------------------------------------------------------

def index(request):
    language = article_language(request)
    join = "AND a.`language`=%s " if language else ""
    categories = local.db.sql(
        f"SELECT {CATEGORY_COLUMNS}, COUNT(a.`name`) AS `articles` "
        "FROM `tabHelp Category` c LEFT JOIN `tabHelp Article` a ON a.`category`=c.`name` "
        f"AND a.`status`='Published' {join}"
        f"GROUP BY {CATEGORY_COLUMNS} ORDER BY c.`name`",
        (language,) if language else (), as_dict=True)
    popular = local.db.sql(
        "SELECT `title`, `route`, `language` FROM `tabHelp Article` WHERE `status`='Published' "
        + ("AND `language`=%s " if language else "") + "ORDER BY `views` DESC, `published_on` DESC LIMIT 5",
        (language,) if language else (), as_dict=True)
    labelled = _labelled(request, [c for c in categories if c["articles"]])
    parents = {c["name"]: c["label"] for c in _labelled(request, _categories(
        {c["parent_category"] for c in labelled if c["parent_category"]}))}
    for c in labelled:
        c["parent_label"] = parents.get(c["parent_category"], c["parent_category"])
    return _render(request, "service_app/kb/index.html", language, categories=labelled, popular=popular)


def search_page(request):
    language = article_language(request)
    q = kb.check_query(request.GET.get("q"), "q")
    start = _page_start(request)
    results = kb.search(q, language=language, limit=PAGE_SIZE + 1, start=start)
    for r in results:
        r["excerpt"] = kb.excerpt(r["content"])
    return _render(request, "service_app/kb/search.html", language, q=q, results=results[:PAGE_SIZE],
                   start=start, more=len(results) > PAGE_SIZE, page_size=PAGE_SIZE)


def _page_start(request):
    from lowcode import params
    return params.integer(request.GET.get("start"), "start", default=0, minimum=0, maximum=10000)


def category_page(request, name):
    language = article_language(request)
    rows = _labelled(request, _categories([name]))
    if not rows:
        return not_found(request)
    category = rows[0]
    children = _labelled(request, local.db.sql(
        f"SELECT {CATEGORY_COLUMNS} FROM `tabHelp Category` c WHERE c.`parent_category`=%s ORDER BY c.`name`",
        (name,), as_dict=True))
    parent = _labelled(request, _categories([category["parent_category"]] if category["parent_category"] else []))
    articles = local.db.sql(
        "SELECT `title`, `route`, `language`, `content` FROM `tabHelp Article` "
        "WHERE `category`=%s AND `status`='Published' " + ("AND `language`=%s " if language else "")
        + "ORDER BY `title` LIMIT 200", (name, language) if language else (name,), as_dict=True)
    for a in articles:
        a["excerpt"] = kb.excerpt(a.pop("content"))
    return _render(request, "service_app/kb/category.html", language, category=category, children=children,
                   parent=parent[0] if parent else None, articles=articles)


def _categories(names):
    names = sorted(names)
    if not names:
        return []
    return local.db.sql(f"SELECT {CATEGORY_COLUMNS} FROM `tabHelp Category` c "
                        f"WHERE c.`name` IN ({', '.join(['%s'] * len(names))})", names, as_dict=True)


def _labelled(request, categories):
    """Categories are shared by every language: each gets the ``label`` of the page's
    language (its Persian or Hebrew name when it has one)."""
    field = "label_" + visitor_language(request)
    for c in categories:
        c["label"] = c.get(field) or c["name"]
    return categories


def article_page(request, route, notice=None, status=200):
    article = kb.published_article(route)
    if article is None:
        return not_found(request)
    visitor = _visitor(request)
    category = (_labelled(request, _categories([article["category"]])) or [{"label": article["category"]}])[0]
    return _render(request, "service_app/kb/article.html", article["language"], article=article,
                   category_label=category["label"],
                   url=kb.article_url(route), voted=bool(visitor) and kb.has_voted(article["name"], visitor),
                   notice=notice, status=status)


# -- the two writes ------------------------------------------------------------------------------

def count_view(request, route):
    from django.http import HttpResponse
    article = kb.published_article(route)
    if article is None:
        return not_found(request)
    kb.count_view(article["name"], _visitor(request) or request.META.get("REMOTE_ADDR") or "?")
    return HttpResponse(status=204)


def vote(request, route):
    article = kb.published_article(route)
    if article is None:
        return not_found(request)
    helpful = request.POST.get("helpful")
    if helpful not in ("0", "1"):
        raise BadRequest(_("helpful must be 1 or 0"), field="helpful")
    visitor, new_token = _visitor(request), None
    if not visitor:
        new_token = secrets.token_urlsafe(24)
        visitor = "cookie:" + new_token
    try:
        kb.vote(article["name"], visitor, helpful == "1", address=request.META.get("REMOTE_ADDR"))
    except (DuplicateEntryError, TooManyRequestsError) as e:
        # Shown on the article itself (the form posted here has no script to read JSON).
        return article_page(request, route, notice=e.message, status=e.http_status)
    response = HttpResponseRedirect(kb.article_url(route) + "#feedback")
    response.status_code = 303  # see other: the browser GETs the article again
    if new_token:
        response.set_cookie(VISITOR_COOKIE, new_token, max_age=365 * 86400, httponly=True, samesite="Lax",
                            secure=request.is_secure())
    return response


def _visitor(request):
    """Who is voting or viewing: "user:<name>", "cookie:<token>", or None."""
    if local.user != "Guest":
        return "user:" + local.user
    token = request.COOKIES.get(VISITOR_COOKIE) or ""
    return "cookie:" + token if _TOKEN.match(token) else None
