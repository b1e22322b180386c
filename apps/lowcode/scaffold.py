"""``lowcode new-app NAME``: the skeleton of an app, laid out where the engine looks.

    NAME/pyproject.toml            pip install -e NAME (or build a wheel) installs package NAME
    NAME/NAME/hooks.py             the app's manifest: app_name, required_apps, hooks (apps.py)
    NAME/NAME/doctype/<x>/<x>.json a DocType, found by apps.app_doctype_files; <x>.py its controller
    NAME/conftest.py               loads the engine's pytest plugin (site_with_apps) for the tests
    NAME/NAME/doctype/<x>/test_<x>.py  its test, on a fresh site with the app
    NAME/NAME/fixtures/*.json      records upserted on install and migrate (installer.import_app_files)
    NAME/NAME/workflows/*.json     Workflow records, the same way
    NAME/NAME/public/              browser assets, served as /assets/NAME/... (desk/assets.py)
    NAME/NAME/guide/en/*.md        user guide pages (desk/guide.py)

docs/APPS.md walks through it. Nothing is written unless every name is sound.
"""
import importlib.util
import json
import keyword
import os
import re
import string
import sys

from .exceptions import CommandError
from .meta import _DOCTYPE_RE
from .utils import scrub

APP_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def check_app_name(name):
    """A new app's name: a lower-case Python identifier no importable package has taken."""
    if not APP_NAME_RE.match(name or "") or keyword.iskeyword(name):
        raise CommandError(f"invalid app name {name!r}: use a lower-case Python identifier "
                           "(letters, digits and _, starting with a letter), e.g. property_app")
    if name in sys.stdlib_module_names or importlib.util.find_spec(name) is not None:
        raise CommandError(f"invalid app name {name!r}: a Python package of that name is already installed")


def check_doctype_name(doctype):
    if not _DOCTYPE_RE.match(doctype or ""):
        raise CommandError(f"invalid --doctype {doctype!r}: letters, digits, spaces, - and _, "
                           "starting with a letter (at most 61 characters)")


def check_text(option, text):
    """--title and --publisher go into Python and TOML strings and Markdown as they are."""
    if not text.strip() or len(text) > 140 or any(c in text for c in '"\\') or not text.isprintable():
        raise CommandError(f"invalid {option} {text!r}: one line of at most 140 characters, without \" or \\")


def new_app(name, dest=".", title=None, publisher=None, doctype=None):
    """Write the app ``name`` into ``dest``/``name``; returns that folder."""
    check_app_name(name)
    title = title or name.replace("_", " ").title()
    check_text("--title", title)
    if publisher is not None:
        check_text("--publisher", publisher)
    doctype = doctype or name.replace("_", " ").title()  # the title may be in any script, a DocType name not
    check_doctype_name(doctype)
    root = os.path.abspath(os.path.join(dest, name))
    if os.path.exists(root):
        raise CommandError(f"{root} already exists")
    folder = scrub(doctype)
    values = {"app": name, "title": title, "publisher": publisher or title, "doctype": doctype,
              "folder": folder, "route": folder.replace("_", "-"), "cls": doctype.replace(" ", "").replace("-", ""), "module": title}
    files = {
        "pyproject.toml": PYPROJECT,
        "README.md": README,
        f"{name}/__init__.py": '__version__ = "0.0.1"\n',
        f"{name}/hooks.py": HOOKS,
        "conftest.py": CONFTEST,  # beside pyproject.toml: pytest reads pytest_plugins from the top conftest
        f"{name}/doctype/__init__.py": "",
        f"{name}/doctype/{folder}/__init__.py": "",
        f"{name}/doctype/{folder}/{folder}.json": json.dumps(doctype_definition(values), indent=1) + "\n",
        f"{name}/doctype/{folder}/{folder}.py": CONTROLLER,
        f"{name}/doctype/{folder}/test_{folder}.py": TEST,
        f"{name}/fixtures/README.md": FIXTURES_README,
        f"{name}/workflows/README.md": WORKFLOWS_README,
        f"{name}/public/.gitkeep": "",
        f"{name}/guide/en/{name}.md": GUIDE,
    }
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(string.Template(text).substitute(values) if rel.endswith((".py", ".toml", ".md")) else text)
    return root


def doctype_definition(v):
    full = dict.fromkeys(("read", "write", "create", "delete", "report", "export", "share", "print", "email"), 1)
    return {
        "doctype": "DocType",
        "name": v["doctype"],
        "module": v["module"],
        "autoname": "hash",
        "title_field": "title",
        "fields": [
            {"fieldname": "title", "fieldtype": "Data", "label": "Title", "reqd": 1, "in_list_view": 1},
            {"fieldname": "description", "fieldtype": "Text", "label": "Description"},
        ],
        "permissions": [{"role": "System Manager", **full}],
    }


PYPROJECT = '''\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "$app"
version = "0.0.1"
description = "$title: an app for the lowcode engine"
authors = [{name = "$publisher"}]
requires-python = ">=3.11"
# The engine (lowcode) is installed on the bench already; list only what this app adds.
dependencies = []

[tool.setuptools.packages.find]
include = ["$app*"]
namespaces = false

[tool.setuptools.package-data]
# DocType and report JSON (and report .js), fixtures, workflows, the guide, public assets
# and templates travel in the wheel.
"$app" = ["*.json", "**/*.json", "**/*.md", "**/*.js", "public/**/*", "templates/**/*"]
'''

README = '''\
# $title

An app for the lowcode engine, made by `lowcode new-app $app`.

    pip install -e .                                  # into the bench's Python environment
    lowcode --site SITE install-app $app
    python -m pytest                                  # its tests, on fresh test sites

The bench serves the app's public/ files, templates and commands once its sites/apps.txt
lists $app (`lowcode new-app` run in the bench does that).

The engine's docs/APPS.md explains each folder.
'''

HOOKS = '''\
"""$title: the app's manifest, read by the engine on install, migrate and at run time.
Uncomment what the app needs; lowcode/hook_names.py lists every hook an app may set (the
install refuses any other name), the engine's docs/APPS.md explains them."""

app_name = "$app"
app_title = "$title"
app_publisher = "$publisher"
required_apps = ["lowcode"]  # e.g. ["lowcode", "crm_app"] when its DocTypes link to the CRM's

# Functions called on every document event of a DocType ("*" for all), with the document
# and the event name: before_validate, validate, before_save, after_insert, on_update,
# on_submit, on_cancel, on_trash, after_delete, after_rename, on_change.
# doc_events = {
#     "$doctype": {"on_update": "$app.events.on_update"},
# }

# Background jobs: all, hourly, daily, weekly, monthly (and *_long), or cron expressions.
# scheduler_events = {
#     "daily": ["$app.tasks.daily"],
#     "cron": {"0 9 * * 1": ["$app.tasks.monday_morning"]},
# }

# Records kept in $app/fixtures/ by `lowcode export-fixtures --app $app`.
# fixtures = [{"dt": "Custom Field", "filters": {"module": "$title"}}]

# Row-level permissions: SQL conditions for lists and a check per document.
# permission_query_conditions = {"$doctype": "$app.permissions.query_conditions"}
# has_permission = {"$doctype": "$app.permissions.has_permission"}

# Another class for a DocType's documents (it should subclass the original controller).
# override_doctype_class = {"$doctype": "$app.overrides.Custom$cls"}

# Field types of the app's own (FieldType subclasses: column, checks, display, desk control).
# field_types = ["$app.fields.MyType"]

# Called once on install, after each migrate, and before uninstall.
# after_install = "$app.setup.after_install"
# after_migrate = ["$app.setup.after_migrate"]
# before_uninstall = ["$app.setup.before_uninstall"]

# Commands added to `lowcode` (click commands or groups; `from lowcode.cli import pass_bench`
# gives a command the bench and site).
# commands = ["$app.cli.my_command"]

# Form scripts from $app/public/, desk pages at /app/<route>, and the user guide's pages.
# doctype_js = {"$doctype": ["$app/$folder.js"]}
# desk_pages = {"$route-board": "$app.pages.board"}
# user_guide = {"$app": {"$route": "$folder"}}   # {guide page: {desk route: the section's anchor}}
'''

CONTROLLER = '''\
"""The $doctype controller: methods named after document events run on each save."""
from lowcode.document import Document


class $cls(Document):
    def validate(self):
        self.title = (self.title or "").strip()
'''

TEST = '''\
"""Tests of $doctype, on a fresh site with $app installed, made by the engine's pytest
plugin (see conftest.py): once on SQLite and once on MariaDB, or SQLite only with
LOWCODE_TEST_ENGINES=sqlite.

    python -m pytest $app
"""
from django.test import Client

import lowcode
from lowcode.testing.http import ok, post_json, token


def test_insert_over_rest_and_load(site_with_apps, bench, monkeypatch):
    site = site_with_apps("$app")
    with lowcode.site_context(site, bench=bench) as local:
        headers = token("Administrator")  # an API key and secret, as a REST client sends them
        local.db.commit()  # requests use their own connection: they see committed data only
    monkeypatch.setenv("LOWCODE_SITES", bench)  # requests find the site in the test bench
    data = ok(post_json(Client(HTTP_HOST=site), "/api/resource/$doctype", {"title": "  Villa 7 "}, **headers))
    assert data["data"]["title"] == "Villa 7"  # trimmed by the controller's validate()
    with lowcode.site_context(site, bench=bench):
        assert lowcode.get_doc("$doctype", data["data"]["name"]).title == "Villa 7"
'''

CONFTEST = '''\
"""pytest fixtures of $app's tests: the engine's plugin (lowcode/testing/pytest_plugin.py)
gives site_with_apps("$app") (a fresh site with the app, dropped afterwards), bench,
site/ctx/client (a shared site with the CRM) and unique. MariaDB and Redis come from
LOWCODE_MARIADB_* and LOWCODE_REDIS_URL; LOWCODE_TEST_ENGINES=sqlite needs neither."""

pytest_plugins = ["lowcode.testing.pytest_plugin"]
'''

FIXTURES_README = '''\
JSON files here (a list of records, each with its "doctype" and "name") are inserted or
updated on `lowcode install-app $app` and on every `lowcode migrate`, in file-name order.
`lowcode export-fixtures --app $app` writes them from the site for the `fixtures` hook.
'''

WORKFLOWS_README = '''\
Workflow records as JSON ({"doctype": "Workflow", "document_type": "$doctype", ...}),
imported on install and migrate like fixtures; see the engine's crm_app/workflows.
'''

GUIDE = '''\
# $title

What $title does and how to use it. Name this page in the `user_guide` hook so the
desk's Help links open it; headings may end with an anchor, as in `## ${doctype}s {#$folder}`.
'''
