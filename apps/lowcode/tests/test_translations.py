"""The Persian and Hebrew catalogs are complete and used.

Complete: every msgid scripts/extract_messages.py finds (templates, Python, DocType
and workflow JSON, the dynamic list) has a non-empty, non-fuzzy translation in both
committed .po files, with the msgid's placeholders. A new UI string therefore fails
here until it is extracted and translated.

Used: over HTTP, a desk user whose language is fa or he gets the page right-to-left,
with Bootstrap's RTL build, in their language; an English user gets English, left to
right."""
import importlib.util
import os
import re

import pytest
from babel.messages.pofile import read_po

import lowcode

from .desk_helpers import ensure_role, login

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
LANGUAGES = ("fa", "he")
# %(name)s and %s-style fields (what gettext callers format with), {{ jinja }} in
# template help texts and {0} fields for lowcode._(text, *args).
PLACEHOLDER = re.compile(r"%\(\w+\)[a-z]|%[a-z%]|\{\{.*?\}\}|\{\w*\}")


def _extractor():
    path = os.path.join(ROOT, "scripts", "extract_messages.py")
    spec = importlib.util.spec_from_file_location("extract_messages", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def extractor():
    return _extractor()


@pytest.fixture(scope="module")
def template(extractor, tmp_path_factory):
    """The msgids as found now, written to a temporary .pot (the committed one is
    left alone)."""
    return extractor.extract(str(tmp_path_factory.mktemp("locale")))


def catalog(extractor, lang):
    with open(extractor.po_path(lang), "rb") as f:
        return read_po(f, locale=lang)


def forms(message):
    return list(message.string) if isinstance(message.string, (list, tuple)) else [message.string]


def test_the_extractor_finds_every_kind_of_source(template):
    found = {m.id for m in template if m.id}
    assert "Search everything" in found          # a template
    assert "Log in to move cards" in found       # Python
    assert {"Lead", "Lead Owner", "Unqualified", "Organisation"} <= found   # DocType JSON
    assert {"Disqualify", "Negotiation"} <= found                      # workflow JSON
    assert {"Gregorian", "Jalali", "Yes", "No", "Assigned"} <= found   # the dynamic list
    # standard Script Reports: names (JSON), column and report-summary labels (report .py)
    assert {"Weighted Pipeline", "Weighted Amount", "Average Talk (seconds)", "Property Interest"} <= found
    assert "LEAD-.YYYY.-" not in found           # naming-series patterns are not words
    assert "ref_doctype" not in found            # a literal inside _(row["ref_doctype"])


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_msgid_has_a_translation(extractor, template, lang):
    translated = catalog(extractor, lang)
    missing = []
    for message in template:
        if not message.id:
            continue
        entry = translated.get(message.id)
        if entry is None or entry.fuzzy or not all(s.strip() for s in forms(entry)):
            missing.append(message.id)
    assert not missing, (f"{len(missing)} msgids have no reviewed {lang} translation: run "
                         f"scripts/extract_messages.py and translate them in {extractor.po_path(lang)}: "
                         + ", ".join(repr(m) for m in missing[:20]))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_translations_keep_the_placeholders(extractor, lang):
    wrong = []
    for message in catalog(extractor, lang):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        wanted = [sorted(PLACEHOLDER.findall(i)) for i in ids]
        for text in forms(message):
            if text and sorted(PLACEHOLDER.findall(text)) not in wanted:
                wrong.append((message.id, text))
    assert not wrong, wrong


# -- the desk in the user's language ------------------------------------------------------------

EXPECTED = {  # lang: (dir, the DocType "Lead", the "New" button)
    "fa": ("rtl", "سرنخ", "جدید"),
    "he": ("rtl", "ליד", "חדש"),
    "en": ("ltr", "Lead", "New"),
}


@pytest.mark.parametrize("lang", list(EXPECTED))
def test_the_desk_speaks_the_users_language(ctx, client, unique, lang):
    direction, lead, new = EXPECTED[lang]
    ensure_role("Sales User")
    user = f"i18n-{lang}-{unique}@example.com"
    lowcode.get_doc({"doctype": "User", "email": user, "first_name": "Lang", "language": lang,
                     "roles": [{"role": "Sales User"}]}).insert()
    login(ctx, client, user)
    stylesheet = "bootstrap.rtl.css" if direction == "rtl" else "bootstrap.css"

    pages = {}
    for url in ("/app", "/app/lead"):
        response = client.get(url)
        assert response.status_code == 200, url
        html = pages[url] = response.content.decode("utf-8")
        assert f'<html lang="{lang}" dir="{direction}">' in html, url
        assert re.search(rf'<link [^>]*href="/assets/\w+/{re.escape(stylesheet)}"', html), url

    # Patterns rather than exact tags: the templates' classes change often.
    assert re.search(rf'<a [^>]*href="/app/lead"[^>]*>{lead}</a>', pages["/app"])    # home: DocType links
    listing = pages["/app/lead"]
    assert f"<title>{lead}</title>" in listing
    assert re.search(rf"<h1[^>]*>{lead}</h1>", listing)
    assert re.search(rf'<a [^>]*href="/app/lead/new"[^>]*>(?:<svg .*?</svg> )?{new}</a>', listing)  # the New button
    if lang != "en":
        assert ">Lead<" not in pages["/app"] + listing and ">New<" not in listing
