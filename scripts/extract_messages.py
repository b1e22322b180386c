"""Collect every translatable UI string into apps/lowcode/locale/django.pot and merge it
into the Persian and Hebrew catalogs (apps/lowcode/locale/<lang>/LC_MESSAGES/django.po).

    .venv/bin/python scripts/extract_messages.py

The strings come from four places:

* gettext calls in the templates and the Python code (Babel's extractors);
* the DocType and workflow JSON files: the desk shows their names, labels, Select
  options and workflow states through ``_(variable)``, which no extractor can follow;
* the standard Script Reports (``<app>/report/<name>/``): names and column and summary
  labels, translated by query_report.run;
* DYNAMIC below: the few other strings code hands to ``_()`` as variables.

Merging keeps existing translations; a msgid that is no longer found becomes obsolete
(``#~``) and comes back with its translation if the string returns. Output is sorted by
msgid and locations carry no line numbers, so a run only changes the lines whose strings
changed. apps/lowcode/tests/test_translations.py fails while any msgid lacks a
translation, so run this after adding UI strings and translate what it adds.
"""
import ast
import glob
import io
import json
import os
import sys

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APPS = os.path.join(ROOT, "apps")
LOCALE_DIR = os.path.join(APPS, "lowcode", "locale")
LANGUAGES = ("fa", "he")


def extract_python(fileobj, keywords, comment_tags, options):
    """Babel extraction method for Python that takes only calls whose message
    arguments are string literals. Babel's own "python" method also picks up literals
    nested in a variable argument: _(row["ref_doctype"]) would yield "ref_doctype"."""
    for node in ast.walk(ast.parse(fileobj.read())):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        args = [a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None for a in node.args]
        if name in keywords and args and args[0] is not None:
            yield node.lineno, name, tuple(args), []


METHOD_MAP = [
    ("**/tests/**", "ignore"),  # test strings are not UI
    ("**.html", "jinja2.ext:babel_extract"),
    ("**.py", extract_python),
]
# Parse the templates the way desk/render.py's environment does.
OPTIONS_MAP = {"**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true",
                           "newstyle_gettext": "true"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2)}
HEADER = ("# Translations of the Lowcode CRM desk.\n"
          "# Made and merged by scripts/extract_messages.py: translate the empty msgstr entries.")
CATALOG_ARGS = dict(project="Lowcode CRM", version="0.1", header_comment=HEADER, charset="utf-8", fuzzy=False)

# Strings that reach _() only as variables, with where they come from.
def _hook_strings():
    """UI text apps declare in hooks.py: form action labels and confirmations, record
    badge labels, report action labels."""
    import importlib
    out = []
    for app in ("lowcode", "crm_app", "service_app", "selling"):
        hooks = importlib.import_module(f"{app}.hooks")
        for actions in getattr(hooks, "form_actions", {}).values():
            out += [a[k] for a in actions for k in ("label", "confirm") if a.get(k)]
        out += [b["label"] for b in getattr(hooks, "record_badges", {}).values() if b.get("label")]
        out += [a["label"] for actions in getattr(hooks, "report_actions", {}).values() for a in actions]
    return out


DYNAMIC = [
    # form.html timeline badges: Comment.comment_type (also its Select options)
    "Comment", "Workflow", "Assigned",
    # settings.html: views/settings.py CALENDARS
    "Gregorian", "Jalali",
    # Check fields as list filters, print views
    "Yes", "No",
    # print_standard.html: the document status (views/printview.py)
    "Draft", "Submitted", "Cancelled",
    # report.html: views/report.py AGGREGATES and CHARTS (capitalised)
    "Count", "Sum", "Average", "Minimum", "Maximum", "Bar", "Line", "Pie", "Percentage", "Donut",
    # form_sidebar.html: views/collaboration.py PRIORITIES
    "Low", "Medium", "High",
    # login.html shows the message of auth.check_login's errors
    "Invalid login or password", "This user is disabled", "Too many failed logins: try again in a few minutes",
    # ... and of twofactor.verify's (the login's code step)
    "Invalid verification code", "The login has expired: log in again",
    # hub.html and global search: views/hub.py TOOLS groups and page labels
    "Customization", "Users and permissions", "Printing and e-mail", "Channels", "DocType Builder",
    "Customize Form", "Workflow Builder", "Role Permissions", "User Permissions",
    # report.html: views/report.py INTERVAL_LABELS (a pivot's date buckets)
    "Day", "Week", "Month", "Quarter", "Year",
    # report.html: views/report.py STANDARD_COLUMNS
    "Created On", "Last Updated On",
]


def _code_messages():
    """(msgid, location) from gettext calls in templates and Python."""
    for filename, _lineno, message, _comments, _context in extract_from_dir(
            APPS, METHOD_MAP, OPTIONS_MAP, KEYWORDS):
        yield message, "apps/" + filename.replace(os.sep, "/")


def _doctype_messages():
    """(msgid, location) from DocType JSON: what the desk passes to _() at runtime."""
    for path in sorted(glob.glob(os.path.join(APPS, "**", "doctype", "*", "*.json"), recursive=True)):
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
        if not isinstance(d, dict) or d.get("doctype") != "DocType":
            continue
        where = os.path.relpath(path, ROOT).replace(os.sep, "/")
        yield d.get("name"), where
        yield d.get("module"), where
        yield d.get("description"), where
        for perm in d.get("permissions") or []:
            yield perm.get("role"), where  # role names in customize/permission pages
        for df in d.get("fields") or []:
            if df.get("fieldtype") != "Column Break":  # column labels are never shown
                yield df.get("label"), where
            yield df.get("description"), where
            # Naming-series options are patterns (LEAD-.YYYY.-), not words.
            if df.get("fieldtype") == "Select" and df.get("fieldname") != "naming_series":
                for option in (df.get("options") or "").split("\n"):
                    yield option, where  # unstripped: the templates call _(o) on the raw line


def _workflow_messages():
    """(msgid, location) from workflow JSON: states and actions are shown as buttons
    and badges."""
    for path in sorted(glob.glob(os.path.join(APPS, "*", "workflows", "*.json"))):
        with open(path, encoding="utf-8") as f:
            w = json.load(f)
        where = os.path.relpath(path, ROOT).replace(os.sep, "/")
        for state in w.get("states") or []:
            yield state.get("state"), where
        for transition in w.get("transitions") or []:
            yield transition.get("action"), where


def _fixture_messages():
    """(msgid, location) from the apps' fixtures: the desk shows workspace titles and
    shortcut labels, number card and chart labels and custom field labels through _()."""
    for path in sorted(glob.glob(os.path.join(APPS, "*", "fixtures", "*.json"))):
        with open(path, encoding="utf-8") as f:
            records = json.load(f)
        where = os.path.relpath(path, ROOT).replace(os.sep, "/")
        for r in records if isinstance(records, list) else []:
            kind = r.get("doctype")
            if kind == "Workspace":
                yield r.get("label"), where
                for shortcut in r.get("shortcuts") or []:
                    yield shortcut.get("label"), where
            elif kind == "Number Card":
                yield r.get("label"), where
            elif kind == "Dashboard Chart":
                yield r.get("chart_name"), where
            elif kind == "Custom Field":
                yield r.get("label"), where
                yield r.get("description"), where
                if r.get("fieldtype") == "Select":
                    for option in (r.get("options") or "").split("\n"):
                        yield option, where


def _report_messages():
    """(msgid, location) from the apps' standard Script Reports (``report/<name>/``): the
    report's name and its filters' labels and Select options (JSON), and every
    ``"label": "..."`` of its ``.py`` (columns, report summary), which query_report.run
    translates for the user (lowcode/api/query_report.py)."""
    for path in sorted(glob.glob(os.path.join(APPS, "*", "report", "*", "*.json"))):
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
        if isinstance(record, dict) and record.get("doctype") == "Report":
            where = os.path.relpath(path, ROOT).replace(os.sep, "/")
            yield record.get("report_name") or record.get("name"), where
            for row in record.get("filters") or []:  # its page's filters (desk/views/query_report.py)
                yield row["label"], where
                if row.get("fieldtype") == "Select":
                    yield from ((o, where) for o in (row.get("options") or "").split("\n") if o)
    # the reports' own modules and what they share (report/__init__.py: common columns)
    for path in sorted(glob.glob(os.path.join(APPS, "*", "report", "**", "*.py"), recursive=True)):
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
        where = os.path.relpath(path, ROOT).replace(os.sep, "/")
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values):
                    if isinstance(key, ast.Constant) and key.value == "label" and isinstance(value, ast.Constant) \
                            and isinstance(value.value, str):
                        yield value.value, where


def data_messages():
    """The apps' data strings (Select options, workflow states and actions, fixture
    labels): shown translated though stored in English (test_translations checks each
    has fa and he)."""
    found = set()
    for path in sorted(glob.glob(os.path.join(APPS, "**", "doctype", "*", "*.json"), recursive=True)):
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
        if isinstance(d, dict) and d.get("doctype") == "DocType":
            for df in d.get("fields") or []:
                if df.get("fieldtype") == "Select" and df.get("fieldname") != "naming_series":
                    found.update((df.get("options") or "").split("\n"))
    found.update(m for m, _ in _workflow_messages())
    found.update(m for m, _ in _fixture_messages())
    return sorted(m for m in found if m and m.strip())


def _fieldtypes():
    # customize_form.html shows every registered field type through _().
    sys.path.insert(0, APPS)
    from lowcode.fields import registry
    return sorted(registry)


def collect():
    """The template catalog of every msgid, locations sorted for stable output."""
    found = {}
    sources = [_code_messages(), _doctype_messages(), _workflow_messages(), _fixture_messages(), _report_messages(),
               ((m, "scripts/extract_messages.py") for m in DYNAMIC + _fieldtypes()),
               ((m, "hooks.py") for m in _hook_strings())]
    for source in sources:
        for message, where in source:
            if message:  # JSON gives None or "" for absent keys; ngettext gives a tuple
                found.setdefault(message, set()).add(where)
    template = Catalog(**CATALOG_ARGS)
    for message, where in found.items():
        template.add(message, locations=[(w, None) for w in sorted(where)])
    return template


def write_catalog(path, catalog):
    """Write ``catalog`` as a .po/.pot unless only its date headers would change."""
    buf = io.BytesIO()
    write_po(buf, catalog, sort_output=True, include_lineno=False)
    new = buf.getvalue()
    old = b""
    if os.path.exists(path):
        with open(path, "rb") as f:
            old = f.read()

    def undated(data):
        return [line for line in data.splitlines() if not line.startswith((b'"POT-Creation-Date:',
                                                                            b'"PO-Revision-Date:'))]
    if undated(new) != undated(old):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(new)
    return path


def extract(out_dir=LOCALE_DIR):
    """Collect the msgids and write ``out_dir``/django.pot; returns the template."""
    template = collect()
    write_catalog(os.path.join(out_dir, "django.pot"), template)
    return template


def po_path(lang, locale_dir=LOCALE_DIR):
    return os.path.join(locale_dir, lang, "LC_MESSAGES", "django.po")


def merge(template, locale_dir=LOCALE_DIR, languages=LANGUAGES):
    """Bring each language's .po in line with ``template``."""
    for lang in languages:
        path = po_path(lang, locale_dir)
        if os.path.exists(path):
            with open(path, "rb") as f:
                catalog = read_po(f, locale=lang)
        else:
            catalog = Catalog(locale=lang, **CATALOG_ARGS)
        # Put obsolete entries back first: update() revives the ones whose msgid is
        # found again (translation kept) and makes the rest obsolete once more.
        for message in catalog.obsolete.values():
            catalog[message.id] = message
        catalog.obsolete.clear()
        catalog.update(template, update_creation_date=False)
        write_catalog(path, catalog)


def untranslated(catalog):
    """msgids without a usable translation: empty (any plural form) or fuzzy."""
    return [m.id for m in catalog if m.id and (m.fuzzy or not all(
        m.string if isinstance(m.string, (list, tuple)) else [m.string]))]


def main():
    template = extract()
    merge(template)
    for lang in LANGUAGES:
        with open(po_path(lang), "rb") as f:
            catalog = read_po(f, locale=lang)
        todo = len(untranslated(catalog))
        print(f"{lang}: {len(template)} msgids, {todo} untranslated or fuzzy, {len(catalog.obsolete)} obsolete")


if __name__ == "__main__":
    main()
