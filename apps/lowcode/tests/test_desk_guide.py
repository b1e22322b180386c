"""The user guide (desk/guide.py, /app/help): every page of every app in English, Persian
and Hebrew with the same sections; every route of the ``user_guide`` hooks and every link
inside the guide leads to a section or page that exists; each desk page's Help link opens
its own section; raw HTML in a page is never rendered; over HTTP on both engines."""
import importlib
import os
import re

import pytest

import lowcode
from lowcode.apps import load_app_hooks
from lowcode.desk import guide

from .desk_helpers import commit, login, make_user
from .test_desk_customize import text, write

APPS = ("lowcode", "crm_app", "service_app", "selling")
LANGS = ("en", "fa", "he")


def guide_file(app, lang, slug):
    return os.path.join(os.path.dirname(importlib.import_module(app).__file__), "guide", lang, slug + ".md")


def anchors(path):
    return guide._load(path)[2]


def all_pages():
    return {slug: (app, routes) for app in APPS for slug, routes in load_app_hooks(app)["user_guide"].items()}


def test_every_page_is_written_in_three_languages_with_the_same_sections():
    pages = all_pages()
    assert set(pages) == {"basics", "admin", "sales", "service", "selling"}
    for slug, (app, _routes) in pages.items():
        english = [a for a, _title in anchors(guide_file(app, "en", slug))]
        assert len(english) >= 5, slug
        for lang in LANGS:
            path = guide_file(app, lang, slug)
            assert os.path.isfile(path), path
            title, _html, sections = guide._load(path)
            assert title, path
            assert [a for a, _t in sections] == english, path
            if lang != "en":  # translated, not a copy of the English
                assert not re.search(r"[A-Za-z]{4}", title), (path, title)


def test_every_route_and_every_link_in_the_guide_leads_to_a_section():
    pages = all_pages()
    sections = {slug: {a for a, _t in anchors(guide_file(app, "en", slug))} for slug, (app, _r) in pages.items()}
    # sub-headings (###) have anchors too
    for slug, (app, _r) in pages.items():
        html = guide._load(guide_file(app, "en", slug))[1]
        sections[slug] |= set(re.findall(r'<h3 id="([a-z0-9-]+)"', html))
    for slug, (app, routes) in pages.items():
        for route, anchor in routes.items():
            assert anchor in sections[slug], (app, route, anchor)
        for lang in LANGS:
            html = guide._load(guide_file(app, lang, slug))[1]
            for target in re.findall(r'<a href="([^"/][^"]*)"', html):  # relative: another guide page
                page, _, anchor = target.partition("#")
                assert page in sections, (slug, lang, target)
                assert not anchor or anchor in sections[page], (slug, lang, target)


def test_raw_html_in_a_page_is_shown_as_text_and_anchors_come_from_headings():
    html = guide._markdown().render("## Leads {#leads}\n\n<script>alert(1)</script> [x](javascript:alert(1))\n")
    assert '<h2 id="leads">Leads</h2>' in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html


@pytest.fixture
def users(ctx, unique):
    write(ctx)
    out = {"sales": make_user(unique, "guidesales", ["Sales User", "Support Agent"])}
    for lang in ("fa", "he"):
        out[lang] = make_user(unique, "guide" + lang, ["Sales User"])
        lowcode.db.sql("UPDATE `tabUser` SET `language`=%s WHERE `name`=%s", (lang, out[lang]))
    commit(ctx)
    return out


def help_link(html):
    found = re.search(r'href="([^"]*)" id="nav-help"', html)
    assert found, "no Help link"
    return found.group(1)


@pytest.mark.parametrize("path, expected", [
    ("/app", "/app/help/basics#home"),
    ("/app/lead", "/app/help/sales#leads"),
    ("/app/opportunity/view/kanban", "/app/help/sales#pipeline"),
    ("/app/case", "/app/help/service#cases"),
    ("/app/sales-order", "/app/help/selling#orders"),
    ("/app/my-settings", "/app/help/basics#settings"),
    ("/app/industry", "/app/help/basics#lists"),  # a list the hooks do not name
])
def test_every_desk_page_links_to_its_own_section(ctx, client, users, path, expected):
    login(ctx, client, users["sales"])
    page = client.get(path)
    assert page.status_code == 200, path
    assert help_link(text(page)) == expected
    slug, _, anchor = expected.rpartition("/")[2].partition("#")
    target = text(client.get("/app/help/" + slug))
    assert f'id="{anchor}"' in target


def test_help_link_of_a_form_and_of_admin_tools(ctx, client, users):
    assert guide.help_url("/app/lead/CRM-LEAD-2026-00001") == "/app/help/sales#leads"
    assert guide.help_url("/app/customize-form?doctype=Lead") == "/app/help/admin#customize-form"
    assert guide.help_url("/app/industry/view/report") == "/app/help/admin#dashboards"


def test_the_guide_speaks_the_users_language(ctx, client, users):
    login(ctx, client, users["fa"])
    page = text(client.get("/app/help/sales"))
    assert 'dir="rtl"' in page and 'lang="fa"' in page
    assert re.search(r'<h1[^>]*>[^<]*فروش', page)
    assert 'id="leads"' in page and 'id="converting"' in page
    contents = text(client.get("/app/help"))
    for slug in ("basics", "admin", "sales", "service"):
        assert f'href="/app/help/{slug}"' in contents

    login(ctx, client, users["he"])
    page = text(client.get("/app/help/service"))
    assert 'dir="rtl"' in page and 'lang="he"' in page
    assert re.search(r"<h1[^>]*>[^<]*שירות", page)


def test_unknown_page_is_a_desk_404_and_guests_sign_in_first(ctx, client, users):
    login(ctx, client, users["sales"])
    missing = client.get("/app/help/nothing-here", HTTP_ACCEPT="text/html")
    assert missing.status_code == 404 and "<html" in text(missing)
    client.cookies.clear()
    assert client.get("/app/help/sales").status_code == 302


def test_global_search_finds_guide_sections_in_the_users_language(ctx, client, users):
    login(ctx, client, users["sales"])
    page = text(client.get("/app?q=pipeline"))
    assert 'class="search-help" href="/app/help/sales#opportunities"' in page
    login(ctx, client, users["fa"])
    page = text(client.get("/app?q=" + "تبدیل"))
    assert 'class="search-help" href="/app/help/sales#converting"' in page
    assert "Nothing found" not in page and "چیزی پیدا نشد" not in page
