"""The user guide: Markdown pages each app ships in ``<app>/guide/<language>/<page>.md``
(English always; Persian and Hebrew beside it), named in the app's ``user_guide`` hook with
the desk routes each section explains, so that every page's Help link opens the section
about that page (views/help.py).

    user_guide = {"sales": {"lead": "leads", "lead/view/kanban": "pipeline"}}

A heading ends with its anchor, ``## Leads {#leads}``: the anchor stays the same in every
language, so one route table serves them all. Raw HTML in the Markdown is not rendered."""
import functools
import importlib
import os
import re
from typing import NamedTuple

from markdown_it import MarkdownIt

from ..context import local

ANCHOR = re.compile(r"\s*\{#([a-z0-9-]+)\}\s*$")
FALLBACK = "en"


class Page(NamedTuple):
    slug: str
    title: str
    html: str
    sections: tuple  # ((anchor, title), ...) of its second-level headings


def _heading_anchors(state):
    """``## Title {#anchor}`` -> ``<h2 id="anchor">Title</h2>`` (before inline parsing)."""
    tokens = state.tokens
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            inline = tokens[i + 1]
            found = ANCHOR.search(inline.content)
            if found:
                token.attrSet("id", found.group(1))
                inline.content = inline.content[:found.start()]


@functools.lru_cache(maxsize=1)
def _markdown():
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    md.core.ruler.before("inline", "heading_anchors", _heading_anchors)
    return md


@functools.lru_cache(maxsize=256)
def _load(path):
    """A page file, parsed once per process (the files ship with the app)."""
    with open(path, encoding="utf-8") as f:
        tokens = _markdown().parse(f.read())
    title, sections = "", []
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag in ("h1", "h2"):
            text = tokens[i + 1].content.strip()
            if token.tag == "h1" and not title:
                title = text
            elif token.tag == "h2" and token.attrGet("id"):
                sections.append((token.attrGet("id"), text))
    return title, _markdown().renderer.render(tokens, _markdown().options, {}), tuple(sections)


def _page_files(lang):
    """{slug: path} of the site's guide pages in the apps' order, in ``lang`` or English."""
    from ..apps import get_installed_apps, load_app_hooks
    found = {}
    for app in get_installed_apps():
        slugs = load_app_hooks(app).get("user_guide") or {}
        folder = os.path.join(os.path.dirname(importlib.import_module(app).__file__), "guide")
        for slug in slugs:
            for language in (lang, FALLBACK):
                path = os.path.join(folder, language, slug + ".md")
                if os.path.isfile(path):
                    found[slug] = path
                    break
    return found


def pages(lang):
    return [Page(slug, *_load(path)) for slug, path in _page_files(lang).items()]


def page(slug, lang):
    path = _page_files(lang).get(slug)
    return Page(slug, *_load(path)) if path else None


def find_sections(text, lang, limit=5):
    """Guide sections whose heading (in ``lang``) contains ``text``, for global search:
    [(url, section title, page title)]."""
    from ..search_text import normalise
    wanted = normalise(text)
    if not wanted:
        return []
    found = []
    for p in pages(lang):
        for anchor, title in p.sections:
            if wanted in normalise(title):
                found.append((f"/app/help/{p.slug}#{anchor}", title, p.title))
    return found[:limit]


def help_url(path):
    """The guide section about a desk page: ``/app/lead/CRM-LEAD-1`` -> ``/app/help/sales#leads``
    (the longest route of the ``user_guide`` hooks that starts the path), else the guide's
    contents."""
    from ..apps import get_hooks
    parts = [p for p in (path or "").split("?")[0].strip("/").split("/")[1:] if p]  # after "app"
    routes = local.cache.get("_help_routes")
    if routes is None:
        routes = {route: (slug, anchors[-1] if isinstance(anchors, list) else anchors)
                  for slug, table in get_hooks("user_guide", {}).items() for route, anchors in table.items()}
        local.cache["_help_routes"] = routes
    for end in range(len(parts), 0, -1):  # the most specific first: lead/view/kanban, */view/kanban, lead…
        for route in ("/".join(parts[:end]), "/".join(["*"] + parts[1:end])):
            if route in routes:
                return "/app/help/%s#%s" % routes[route]
    found = routes.get("*" if parts else "")
    return "/app/help/%s#%s" % found if found else "/app/help"
