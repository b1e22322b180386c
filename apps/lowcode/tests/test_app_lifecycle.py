"""An app's hooks.py checked at install and migrate (lowcode/hook_names.py), and what a
migrate takes back when an app stops declaring it (lowcode/ownership.py). Install, use,
uninstall and reinstall of a whole app: apps/property_app/tests."""
import glob
import importlib
import json
import os
import shutil
import sys

import pytest

import lowcode
from lowcode import installer
from lowcode.exceptions import DocTypeDefinitionError
from lowcode.hook_names import HOOKS, HookError

PERMS = [{"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1}]


def thing_app(temp_app, unique, hooks=""):
    app = temp_app(hooks=hooks)
    app.write_doctype({"name": f"Tmp Thing {unique}", "fields": [
        {"fieldname": "title", "fieldtype": "Data", "label": "Title"},
        {"fieldname": "status", "fieldtype": "Select", "label": "Status", "options": "Open\nDone"}],
        "permissions": PERMS})
    app.write("events.py", "def noop(*args, **kwargs):\n    pass\n")
    return app


def rewrite_hooks(app, hooks):
    """hooks.py replaced, and imported afresh (as a new process would)."""
    app.write("hooks.py", f'app_name = "{app.name}"\nrequired_apps = ["lowcode"]\n' + hooks)
    shutil.rmtree(os.path.join(app.path, "__pycache__"), ignore_errors=True)
    sys.modules.pop(f"{app.name}.hooks", None)
    importlib.invalidate_caches()


@pytest.mark.parametrize("hooks, words", [
    ('doc_event = {"ToDo": {"validate": "{app}.events.noop"}}\n', ["unknown hook 'doc_event'"]),
    ('doc_events = {"Leed": {"validate": "{app}.events.noop"}}\n', ["doc_events", "'Leed' is not a DocType"]),
    ('doc_events = {"ToDo": {"on_save": "{app}.events.noop"}}\n', ["doc_events", "unknown event 'on_save'"]),
    ('doc_events = {"ToDo": {"validate": "{app}.events.nope"}}\n', ["doc_events", "{app}.events.nope",
                                                                   "does not import"]),
    ('scheduler_events = {"daily": ["{app}.missing_module.run"]}\n', ["scheduler_events",
                                                                     "{app}.missing_module.run"]),
    ('scheduler_events = {"nightly": ["{app}.events.noop"]}\n', ["scheduler_events", "'nightly'"]),
    ('scheduler_events = {"cron": {"61 * * * *": ["{app}.events.noop"]}}\n', ["'61 * * * *'"]),
    ('has_permission = {"No Such Type": "{app}.events.noop"}\n', ["has_permission", "'No Such Type'"]),
    ('permission_query_conditions = {"ToDo": "no.such.path"}\n', ["permission_query_conditions", "no.such.path"]),
    ('ignore_links_on_delete = ["Nope Log"]\n', ["ignore_links_on_delete", "'Nope Log'"]),
    ('form_actions = {"ToDo": [{"label": "X", "method": "{app}.events.gone"}]}\n', ["form_actions",
                                                                                   "{app}.events.gone"]),
    ('desk_pages = {"x": "{app}.pages.view"}\n', ["desk_pages", "{app}.pages.view"]),
])
def test_bad_hooks_stop_the_install_naming_app_hook_and_value(ctx, temp_app, unique, hooks, words):
    app = thing_app(temp_app, unique)
    rewrite_hooks(app, hooks.replace("{app}", app.name))
    with pytest.raises(HookError) as info:
        installer.install_app(app.name)
    message = str(info.value)
    for word in [f"app {app.name}"] + words:
        assert word.replace("{app}", app.name) in message, message
    assert info.value.http_status == 417
    # Nothing of the app was written: no DocType, table, record of it.
    assert not ctx.db.exists("DocType", f"Tmp Thing {unique}")
    assert not ctx.db.table_exists(f"Tmp Thing {unique}")
    assert not ctx.db.sql("SELECT 1 FROM `tabInstalled App` WHERE `name`=%s", (app.name,))


def test_good_hooks_install_including_the_apps_own_doctypes(ctx, temp_app, unique):
    """Keys naming the app's own new DocTypes, "*", and every shape of the known hooks pass."""
    app = thing_app(temp_app, unique)
    dt = f"Tmp Thing {unique}"
    rewrite_hooks(app, f'''
doc_events = {{"{dt}": {{"validate": "{app.name}.events.noop"}}, "*": {{"on_update": ["{app.name}.events.noop"]}}}}
scheduler_events = {{"daily_long": ["{app.name}.events.noop"], "cron": {{"*/5 * * * *": ["{app.name}.events.noop"]}}}}
has_permission = {{"{dt}": "{app.name}.events.noop"}}
doctype_js = {{"{dt}": ["x.js"]}}
app_description = "anything"
''')
    assert installer.install_app(app.name)
    assert lowcode.get_installed_apps()[-1] == app.name


def test_migrate_checks_the_hooks_of_installed_apps(ctx, temp_app, unique):
    app = thing_app(temp_app, unique)
    installer.install_app(app.name)
    ctx.db.commit()
    rewrite_hooks(app, 'doc_events = {"Leed": {"validate": "%s.events.noop"}}\n' % app.name)
    with pytest.raises(HookError, match=f"app {app.name}, hook doc_events: 'Leed' is not a DocType"):
        installer.migrate()


def test_every_hook_the_apps_set_is_known():
    """The repository's own apps pass (their hooks.py are the known names' first users)."""
    for app in ("lowcode", "crm_app", "service_app", "selling", "property_app"):
        names = installer.apps.load_app_hooks(app)
        assert set(names) <= set(HOOKS), set(names) - set(HOOKS)


def test_migrate_takes_back_what_an_app_no_longer_declares(ctx, temp_app, unique):
    """A fixture Custom Field (with its column), a workflow file and a scheduler event an app
    drops are removed by the next migrate; what it still declares stays."""
    app = thing_app(temp_app, unique)
    dt = f"Tmp Thing {unique}"
    field = f"tmp_flag_{unique}"
    rewrite_hooks(app, f'scheduler_events = {{"daily": ["{app.name}.events.noop"]}}\n')
    app.write("fixtures/custom_field.json", json.dumps([
        {"doctype": "Custom Field", "dt": "ToDo", "fieldname": field, "label": "Flag", "fieldtype": "Data",
         "in_standard_filter": 1}]))
    app.write("fixtures/role.json", json.dumps([{"doctype": "Role", "role_name": f"Tmp Keeper {unique}"}]))
    app.write("workflows/flow.json", json.dumps({
        "doctype": "Workflow", "name": f"Tmp Flow {unique}", "workflow_name": f"Tmp Flow {unique}",
        "document_type": dt, "is_active": 1, "workflow_state_field": "workflow_state",
        "states": [{"state": f"Tmp Open {unique}", "doc_status": "0", "allow_edit": "System Manager"}],
        "transitions": []}))
    installer.install_app(app.name)
    ctx.db.commit()
    owned = set(map(tuple, ctx.db.sql("SELECT `ref_doctype`, `ref_name` FROM `tabApp Record` WHERE `app`=%s",
                                      (app.name,))))
    # The workflow's state field (a Custom Field it makes on save) and its state are the app's too.
    assert {("Custom Field", f"ToDo-{field}"), ("Workflow", f"Tmp Flow {unique}"),
            ("Custom Field", f"{dt}-workflow_state"), ("Workflow State", f"Tmp Open {unique}"),
            ("Role", f"Tmp Keeper {unique}")} <= owned, owned
    assert field in ctx.db.get_columns("ToDo")
    lowcode.get_doc({"doctype": "ToDo", "description": "keep me", "allocated_to": "Administrator", field: "yes"}).insert()
    ctx.db.commit()

    installer.migrate()  # nothing changed: nothing goes
    ctx.db.commit()
    assert ctx.db.exists("Custom Field", f"ToDo-{field}") and ctx.db.exists("Workflow", f"Tmp Flow {unique}")
    assert ctx.db.exists("Custom Field", f"{dt}-workflow_state")
    assert ctx.db.sql("SELECT 1 FROM `tabScheduled Job Type` WHERE `method`=%s", (f"{app.name}.events.noop",))

    os.remove(os.path.join(app.path, "fixtures", "custom_field.json"))
    os.remove(os.path.join(app.path, "workflows", "flow.json"))
    rewrite_hooks(app, "")
    installer.migrate()
    ctx.db.commit()
    assert not ctx.db.exists("Custom Field", f"ToDo-{field}")
    assert field not in ctx.db.get_columns("ToDo")
    backups = glob.glob(os.path.join(ctx.site_path, "private", "backups", f"todo-{field}-*.json"))
    with open(backups[0], encoding="utf-8") as f:  # the values went to a backup first
        assert "yes" in [v["value"] for v in json.load(f)["values"]]
    assert not ctx.db.exists("Workflow", f"Tmp Flow {unique}")
    assert not ctx.db.exists("Custom Field", f"{dt}-workflow_state")
    assert not ctx.db.exists("Workflow State", f"Tmp Open {unique}")
    assert not ctx.db.sql("SELECT 1 FROM `tabScheduled Job Type` WHERE `method`=%s", (f"{app.name}.events.noop",))
    assert ctx.db.exists("Role", f"Tmp Keeper {unique}")  # still in fixtures/role.json
    assert ctx.db.exists("DocType", dt)
    assert "keep me" in lowcode.get_list("ToDo", filters={"description": "keep me"}, pluck="description")


def test_a_record_two_apps_declare_stays_until_neither_does(ctx, temp_app, unique):
    role = f"Tmp Shared {unique}"
    first, second = temp_app(), temp_app()
    for app in (first, second):
        app.write("fixtures/role.json", json.dumps([{"doctype": "Role", "role_name": role}]))
        installer.install_app(app.name)
    user = lowcode.get_doc({"doctype": "User", "email": f"shared-{unique}@example.com", "first_name": "S",
                            "roles": [{"role": role}]}).insert()
    ctx.db.commit()
    installer.uninstall_app(first.name)
    assert ctx.db.exists("Role", role)
    installer.uninstall_app(second.name)
    ctx.db.commit()
    assert not ctx.db.exists("Role", role)
    # The user loses the role with it, so saving the user still works.
    user = lowcode.get_doc("User", user.name)
    assert role not in [r.role for r in user.roles]
    user.first_name = "Sam"
    user.save()


def test_a_deleted_doctype_can_be_made_again(ctx, unique):
    """Deleting a DocType sets its table aside without its indexes (SQLite's index names are
    global), so a DocType of the same name can be made again."""
    name = f"Tmp Again {unique}"
    for _ in range(2):
        lowcode.get_doc({"doctype": "DocType", "name": name, "module": "Custom", "custom": 1,
                         "fields": [{"fieldname": "title", "fieldtype": "Data", "label": "Title",
                                     "in_standard_filter": 1}], "permissions": PERMS}).insert()
        ctx.db.commit()
        lowcode.get_doc({"doctype": name, "title": "x"}).insert()
        lowcode.delete_doc("DocType", name)
        ctx.db.commit()
    assert not ctx.db.table_exists(name)


def test_a_shipped_workflow_naming_a_missing_state_field_stops_the_install(ctx, temp_app, unique):
    """A misspelt workflow_state_field would otherwise appear as a new Custom Field."""
    app = thing_app(temp_app, unique)
    path = app.write("workflows/flow.json", json.dumps({
        "doctype": "Workflow", "name": f"Tmp Flow {unique}", "workflow_name": f"Tmp Flow {unique}",
        "document_type": f"Tmp Thing {unique}", "is_active": 1, "workflow_state_field": "stauts",
        "states": [{"state": "Open", "doc_status": "0", "allow_edit": "System Manager"}], "transitions": []}))
    with pytest.raises(DocTypeDefinitionError) as info:
        installer.install_app(app.name)
    assert path in str(info.value) and "has no field 'stauts'" in str(info.value)
    assert info.value.field == "workflow_state_field"
    ctx.db.rollback()
    assert not ctx.db.exists("Custom Field", f"Tmp Thing {unique}-stauts")


def test_every_hook_the_code_reads_is_listed():
    """A hook read anywhere in the apps (get_hooks("x"), load_app_hooks(app).get("x")) is in
    hook_names.HOOKS, or apps setting it would be refused at install."""
    import re
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    pattern = re.compile(r"""(?:get_hooks\(\s*|load_app_hooks\([^)]*\)\.get\(\s*|hooks\.get\(\s*)["']([a-z_0-9]+)["']""")
    read = set()
    for path in glob.glob(os.path.join(root, "*", "**", "*.py"), recursive=True):
        if os.sep + "tests" + os.sep in path:
            continue
        with open(path, encoding="utf-8") as f:
            read |= set(pattern.findall(f.read()))
    assert {"doc_events", "scheduler_events", "required_apps", "after_install"} <= read
    assert read <= set(HOOKS), read - set(HOOKS)
