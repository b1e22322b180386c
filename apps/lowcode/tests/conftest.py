"""Fixtures for the engine's own tests (the shared ones live in the repository's conftest.py).

``temp_app`` writes a throw-away app package (hooks.py, DocType JSON files, controllers)
into ``tmp_path``, puts it on ``sys.path`` and, after the test, uninstalls it from the
site again: installing creates tables, which MariaDB commits at once, so an installed
temp app would otherwise stay in ``tabInstalled App`` and its hooks would run in every
later test on the site.
"""
import json
import os
import textwrap

import pytest

import lowcode
from lowcode.utils import scrub


class TempApp:
    def __init__(self, root, name):
        self.root = root
        self.name = name
        self.path = os.path.join(root, name)

    def write(self, relpath, text):
        path = os.path.join(self.path, relpath)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(textwrap.dedent(text))
        return path

    def doctype_dir(self, doctype):
        return os.path.join(self.path, "doctype", scrub(doctype))

    def json_path(self, doctype):
        folder = scrub(doctype)
        return os.path.join(self.path, "doctype", folder, folder + ".json")

    def write_doctype(self, definition, controller=None):
        """Write doctype/<x>/<x>.json (and <x>.py when ``controller`` is given)."""
        folder = scrub(definition["name"])
        self.write(f"doctype/{folder}/__init__.py", "")
        path = self.json_path(definition["name"])
        with open(path, "w", encoding="utf-8") as f:
            json.dump(dict({"doctype": "DocType", "module": self.module}, **definition), f, indent=1)
        if controller is not None:
            self.write(f"doctype/{folder}/{folder}.py", controller)
        return path

    def read_doctype(self, doctype):
        with open(self.json_path(doctype), encoding="utf-8") as f:
            return json.load(f)

    @property
    def module(self):
        return self.name.replace("_", " ").title()


def _is_installed(db, app):
    return bool(db.sql("SELECT 1 FROM `tabInstalled App` WHERE `name`=%s", (app,)))


def _cleanup(db, app):
    from lowcode import apps, meta
    from lowcode.installer import uninstall_app
    db.rollback()
    db.begin()
    lowcode.local.flags.in_install = False
    lowcode.local.flags.in_migrate = False
    if _is_installed(db, app):
        try:
            uninstall_app(app)
            db.commit()
        except Exception:  # noqa: BLE001 - at least make the site forget the app
            db.rollback()
            db.begin()
            db.sql("DELETE FROM `tabInstalled App` WHERE `name`=%s", (app,))
            db.commit()
        meta.clear_cache()
        apps.clear_cache()
    db.rollback()
    db.begin()


@pytest.fixture
def temp_app(ctx, tmp_path, monkeypatch, unique):
    """make(hooks="", name=None) -> TempApp: an importable app package with hooks.py."""
    made = []

    def make(hooks="", name=None):
        name = name or f"tmpapp_{unique}_{len(made)}"
        app = TempApp(str(tmp_path), name)
        app.write("__init__.py", '__version__ = "0.0.1"\n')
        app.write("doctype/__init__.py", "")
        app.write("hooks.py", f'app_name = "{name}"\napp_title = "{name}"\nrequired_apps = ["lowcode"]\n'
                  + textwrap.dedent(hooks))
        made.append(app)
        return app

    monkeypatch.syspath_prepend(str(tmp_path))
    yield make
    for app in made:
        _cleanup(ctx.db, app.name)
