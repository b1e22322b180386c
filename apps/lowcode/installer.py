"""Creating sites, installing and removing apps, migrating, and fixtures.

Every DocType definition an operation will write is read and checked first; only
when all are sound does anything change, so a broken JSON file leaves the site as
it was."""
import glob
import hashlib
import importlib
import json
import os
import secrets
import shutil

from cryptography.fernet import Fernet

from . import apps, meta as meta_module, ownership, schema
from .context import local
from .document import get_doc, load_doc
from .exceptions import CommandError, DocTypeDefinitionError
from .hook_names import validate_app_hooks
from .meta import Meta, BOOTSTRAP_DOCTYPES, core_json_path, read_json_definition, validate_definition
from .sites import SITE_NAME_RE, bench_path, write_json, update_common_config, list_sites
from .utils import scrub

STANDARD_ROLES = ("Administrator", "System Manager", "All", "Guest")


# -- sites ------------------------------------------------------------------------------------

def new_site(site, bench=None, db_type="sqlite", admin_password=None, db_root_username=None,
             db_root_password=None, db_host=None, db_port=None, install_apps=(), extra_config=None,
             set_default=False):
    import lowcode
    bench = bench_path(bench)
    if not SITE_NAME_RE.match(site or ""):
        raise CommandError(f"invalid site name {site!r}: use lower-case letters, digits, dots and hyphens")
    path = os.path.join(bench, site)
    if os.path.exists(os.path.join(path, "site_config.json")):
        raise CommandError(f"site {site} already exists")
    os.makedirs(os.path.join(path, "public", "files"), exist_ok=True)
    os.makedirs(os.path.join(path, "private", "files"), exist_ok=True)
    os.makedirs(os.path.join(path, "private", "backups"), exist_ok=True)
    if not os.path.exists(os.path.join(bench, "apps.txt")):
        with open(os.path.join(bench, "apps.txt"), "w") as f:
            f.write("lowcode\ncrm_app\nservice_app\nselling\n")
    if not os.path.exists(os.path.join(bench, "common_site_config.json")):
        write_json(os.path.join(bench, "common_site_config.json"), {})
    # The key channel secrets are encrypted with (lowcode.channels.stored_secrets).
    conf = {"db_type": db_type, "encryption_key": Fernet.generate_key().decode(), **(extra_config or {})}
    if db_type == "sqlite":
        conf["db_file"] = "site.sqlite3"
    elif db_type == "mariadb":
        conf.update(_create_mariadb_database(site, db_root_username, db_root_password, db_host, db_port, bench))
    else:
        raise CommandError(f"unknown --db-type {db_type!r} (sqlite or mariadb)")
    write_json(os.path.join(path, "site_config.json"), conf)
    try:
        with lowcode.site_context(site, bench=bench):
            local.flags.in_install = True
            bootstrap()
            install_app("lowcode")
            set_admin_password(admin_password or "admin")
            local.db.commit()
        for app in install_apps:
            with lowcode.site_context(site, bench=bench):
                install_app(app)
                local.db.commit()
    except BaseException:
        drop_site(site, bench, quiet=True)
        raise
    if set_default or len(list_sites(bench)) == 1:
        update_common_config({"default_site": site}, bench)
    return path


def _root_conf(bench, user, password, host, port):
    from .sites import common_config
    common = common_config(bench)
    return {"host": host or common.get("db_host") or "127.0.0.1",
            "port": int(port or common.get("db_port") or 3306),
            "user": user or common.get("root_login") or "root",
            "password": password if password is not None else common.get("root_password", "")}


def _create_mariadb_database(site, root_user, root_password, host, port, bench):
    import MySQLdb
    root = _root_conf(bench, root_user, root_password, host, port)
    db_name = "_" + hashlib.sha1(site.encode()).hexdigest()[:16]
    db_password = secrets.token_urlsafe(18)
    try:
        conn = MySQLdb.connect(host=root["host"], port=root["port"], user=root["user"], passwd=root["password"])
    except MySQLdb.OperationalError as e:
        raise CommandError(f"cannot connect to MariaDB at {root['host']}:{root['port']} as {root['user']}: {e.args[-1]}")
    try:
        cur = conn.cursor()
        cur.execute(f"CREATE DATABASE `{db_name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        for h in ("localhost", "127.0.0.1", "%%"):  # %% is a literal % where parameters are bound
            cur.execute(f"CREATE USER IF NOT EXISTS '{db_name}'@'{h}' IDENTIFIED BY %s", (db_password,))
            cur.execute(f"GRANT ALL PRIVILEGES ON `{db_name}`.* TO '{db_name}'@'{h.replace('%%', '%')}'")
            # Nothing server-wide: SLAVE MONITOR, say, would show other sites' SQL (SHOW RELAYLOG
            # EVENTS); replicas' lag is read with a separate account (database/replicas.py).
        cur.execute("FLUSH PRIVILEGES")
    except MySQLdb.Error as e:
        try:  # leave no half-made database or user behind
            cur.execute(f"DROP DATABASE IF EXISTS `{db_name}`")
            for h in ("localhost", "127.0.0.1", "%"):
                cur.execute(f"DROP USER IF EXISTS '{db_name}'@'{h}'")
        except MySQLdb.Error:
            pass
        raise CommandError(f"cannot create database for {site}: {e.args[-1]}")
    finally:
        conn.close()
    return {"db_name": db_name, "db_user": db_name, "db_password": db_password,
            "db_host": root["host"], "db_port": root["port"]}


def drop_site(site, bench=None, root_user=None, root_password=None, quiet=False):
    """Remove a site's database and folder (used by tests and by a failed new-site)."""
    from .sites import read_json
    bench = bench_path(bench)
    path = os.path.join(bench, site)
    conf = read_json(os.path.join(path, "site_config.json"))
    if conf.get("db_type") == "mariadb" and conf.get("db_name"):
        import MySQLdb
        root = _root_conf(bench, root_user, root_password, conf.get("db_host"), conf.get("db_port"))
        try:
            conn = MySQLdb.connect(host=root["host"], port=root["port"], user=root["user"], passwd=root["password"])
            cur = conn.cursor()
            cur.execute(f"DROP DATABASE IF EXISTS `{conf['db_name']}`")
            for h in ("localhost", "127.0.0.1", "%"):
                cur.execute(f"DROP USER IF EXISTS '{conf['db_user']}'@'{h}'")
            conn.close()
        except MySQLdb.Error:
            if not quiet:
                raise
    shutil.rmtree(path, ignore_errors=True)


def bootstrap():
    """Tables for the DocTypes that describe DocTypes, built straight from their files."""
    schema.create_system_tables()
    for doctype in BOOTSTRAP_DOCTYPES:
        schema.sync_table(Meta(read_json_definition(core_json_path(doctype))))


def set_admin_password(password):
    """The operator's choice at new-site or set-admin-password: like Frappe, without the
    password policy, so a local site can start with a simple password (``make run``
    uses ``admin``); choose a strong one on a server."""
    from .auth import set_password
    set_password("Administrator", password, policy=False)


# -- apps -------------------------------------------------------------------------------------

def _check_app(app):
    try:
        importlib.import_module(f"{app}.hooks")
    except ModuleNotFoundError as e:
        raise CommandError(f"app {app!r} is not installed in this environment (no module {e.name})")


def read_app_definitions(app):
    """[(path, definition)] of an app's DocType files, child tables first."""
    out = [(path, read_json_definition(path)) for path, _ in apps.app_doctype_files(app)]
    return sorted(out, key=lambda item: (not item[1].get("istable"), item[1]["name"]))


def validate_app_definitions(batches):
    """Check every definition of every app in ``batches`` [(app, [(path, defn)])] together."""
    known = meta_module.get_known_doctypes()
    names = {}
    for app, defs in batches:
        for path, defn in defs:
            if defn["name"] in names and names[defn["name"]] != path:
                raise DocTypeDefinitionError(f"DocType {defn['name']!r} is also defined in {names[defn['name']]}",
                                             source=path)
            names[defn["name"]] = path
            known[defn["name"]] = bool(defn.get("istable"))
    for app, defs in batches:
        for path, defn in defs:
            validate_definition(defn, known, source=path)
    return known


def sync_doctypes(batches, known, declared=None):
    """``declared``: {app: set} a migrate fills with the roots each app still declares (ownership.py)."""
    local.flags.doctypes_in_batch = known
    local.flags.in_migrate = True
    try:
        for app, defs in batches:
            for path, defn in defs:
                sync_doctype(app, path, defn)
    finally:
        local.flags.in_migrate = False
    for app, defs in batches:
        make_missing_roles(app, [defn for _, defn in defs], (declared or {}).get(app, set()))


def make_missing_roles(app, definitions, declared):
    """Roles named in an app's permission rules exist once the app is installed; those it
    makes are its own (taken back when no installed app names them)."""
    wanted = {p["role"] for d in definitions for p in d.get("permissions") or [] if p.get("role")}
    for role in sorted(wanted):
        if not local.db.exists("Role", role):
            with ownership.owned_by(app):
                get_doc({"doctype": "Role", "role_name": role}).insert(ignore_permissions=True)
        ownership.declare(declared, "Role", role)


def sync_doctype(app, path, defn):
    data = {k: v for k, v in defn.items() if k not in ("modified", "creation", "owner", "modified_by")}
    data.update(custom=0, app=app)
    data["fields"] = [{k: v for k, v in f.items() if k not in ("name", "parent", "idx")} for f in data.get("fields", [])]
    data["permissions"] = [{k: v for k, v in p.items() if k not in ("name", "parent", "idx")}
                           for p in data.get("permissions", [])]
    if local.db.exists("DocType", defn["name"]):
        doc = load_doc("DocType", defn["name"])
        if int(doc.custom or 0):
            raise DocTypeDefinitionError(f"a DocType named {defn['name']!r} was already made on this site",
                                         source=path)
        for key in list(doc.__dict__):
            if meta_module.get_meta("DocType").has_field(key) and key not in data:
                doc.__dict__[key] = None
        doc.update(data)
        doc.flags.ignore_stale = True
        doc.flags.ignore_links = True  # checked by validate_definition; roles come after
        doc.flags.source = path
        doc.save(ignore_permissions=True, ignore_version=True)
    else:
        doc = get_doc(dict(data, doctype="DocType"))
        doc.flags.source = path
        doc.flags.name_set = True
        doc.name = defn["name"]
        doc.insert(ignore_permissions=True, ignore_links=True)


def install_app(app, _stack=()):
    _check_app(app)
    installed = apps.get_installed_apps()
    if app in installed and app != "lowcode" or (app == "lowcode" and local.db.table_exists("Installed App")
                                                   and local.db.exists("Installed App", "lowcode")):
        return False
    hooks = apps.load_app_hooks(app)
    for required in hooks.get("required_apps", []):
        if required in _stack:
            raise CommandError(f"apps {app} and {required} require each other")
        install_app(required, _stack + (app,))
    was_installing, app_before = local.flags.in_install, local.flags.get("installing_app")
    local.flags.in_install = True
    ownership.create_table(local.db)  # a site made before the ledger: installs record their app too
    local.flags.installing_app = app  # its own field types count for its DocTypes (fields/base.py)
    try:
        batch = [(app, read_app_definitions(app))]
        known = validate_app_definitions(batch)
        validate_app_hooks(app, hooks, known)
        sync_doctypes(batch, known)
        if app == "lowcode":
            _create_standard_records()
        meta_module.clear_cache()
        import_app_files(app)
        version = getattr(importlib.import_module(app), "__version__", "0.0.0")
        get_doc({"doctype": "Installed App", "app_name": app, "app_version": version,
                 "idx": len(installed)}).insert(ignore_permissions=True)
        meta_module.clear_cache()  # the app's hooks now apply
        sync_scheduled_jobs()
        for path in hooks.get("after_install", []) if isinstance(hooks.get("after_install"), list) else \
                [hooks["after_install"]] if hooks.get("after_install") else []:
            apps.get_attr(path)()
    finally:
        local.flags.in_install = was_installing
        local.flags.installing_app = app_before
    return True


def _create_standard_records():
    for role in STANDARD_ROLES:
        if not local.db.exists("Role", role):
            get_doc({"doctype": "Role", "role_name": role}).insert(ignore_permissions=True)
    for name, email, first, roles in (("Administrator", "admin@example.com", "Administrator",
                                       ["Administrator", "System Manager"]),
                                      ("Guest", "guest@example.com", "Guest", ["Guest"])):
        if not local.db.exists("User", name):
            user = get_doc({"doctype": "User", "email": email, "first_name": first,
                            "roles": [{"role": r} for r in roles]})
            user.name = name
            user.insert(ignore_permissions=True)


def uninstall_app(app):
    if app == "lowcode":
        raise CommandError("lowcode is the engine and cannot be uninstalled")
    installed = apps.get_installed_apps()
    if app not in installed:
        raise CommandError(f"app {app} is not installed on {local.site}")
    for other in installed:
        if other != app and app in apps.load_app_hooks(other).get("required_apps", []):
            raise CommandError(f"app {other} requires {app}: uninstall it first")
    for path in apps.get_hooks("before_uninstall", app_name=app):
        apps.get_attr(path)()
    local.flags.in_uninstall = True
    from .document import delete_doc
    try:
        # What the app made on other apps' DocTypes first (a Custom Field linking to its
        # DocType, its workflows), then its DocTypes with their tables.
        ownership.remove_all(app)
        doctypes = local.db.sql("SELECT `name` FROM `tabDocType` WHERE `app`=%s ORDER BY `istable`", (app,),
                                pluck=True)
        for name in doctypes:
            delete_doc("DocType", name, ignore_permissions=True, force=True)
        local.db.sql("DELETE FROM `tabModule Def` WHERE `app_name`=%s", (app,))
        local.db.sql("DELETE FROM `tabInstalled App` WHERE `name`=%s", (app,))
    finally:
        local.flags.in_uninstall = False
    # The host must work at once: no metadata, hooks (doc_events), workflows or jobs of the app left.
    meta_module.clear_cache()
    sync_scheduled_jobs()
    return doctypes


def migrate():
    """Bring the site's DocTypes, tables, fixtures and scheduled jobs in line with the
    installed apps' files."""
    installed = apps.get_installed_apps()
    for app in installed:
        _check_app(app)
    batches = [(app, read_app_definitions(app)) for app in installed]
    known = validate_app_definitions(batches)
    for app in installed:
        validate_app_hooks(app, apps.load_app_hooks(app), known)
    schema.create_system_tables()
    declared = {app: set() for app in installed}  # what each app still declares (ownership.py)
    sync_doctypes(batches, known, declared)
    meta_module.clear_cache()
    for name in local.db.sql("SELECT `name` FROM `tabDocType` ORDER BY `istable` DESC", pluck=True):
        schema.sync_table(meta_module.get_meta(name))
    for app in installed:
        import_app_files(app, declared[app])
    sync_scheduled_jobs(declared)
    for app in installed:  # a fixture, workflow or job an app no longer declares goes
        ownership.remove_undeclared(app, declared[app])
    meta_module.clear_cache()
    for path in apps.get_hooks("after_migrate"):  # Frappe's hook: an app's data fixes for new columns
        apps.get_attr(path)()


def import_app_files(app, declared=None):
    """Workflows and fixtures an app ships as JSON, and its standard reports
    (``report/<name>/<name>.json``, Frappe's layout; see api/query_report.py): the app's own
    (ownership.py), with what saving them makes. ``declared`` (a set) receives each record's root."""
    declared = set() if declared is None else declared
    root = apps.app_path(app)
    # the reports first: a fixture's Workspace may have shortcuts to them
    for path in sorted(glob.glob(os.path.join(root, "report", "*", "*.json"))):
        if os.path.basename(path) == os.path.basename(os.path.dirname(path)) + ".json":
            import_records(path, app, declared)
    for folder in ("fixtures", "workflows"):
        base = os.path.join(root, folder)
        if not os.path.isdir(base):
            continue
        for fname in sorted(os.listdir(base)):
            if fname.endswith(".json"):
                import_records(os.path.join(base, fname), app, declared)
    return declared


def import_records(path, app=None, declared=None):
    with open(path, encoding="utf-8") as f:
        try:
            data = json.load(f)
        except ValueError as e:
            raise DocTypeDefinitionError(f"invalid JSON: {e}", source=path)
    records = data if isinstance(data, list) else [data]
    # One file is one unit: a bad record leaves none of the file's records behind (but
    # on MariaDB a record that changes a table, a Custom Field, commits what came before).
    local.db.begin()
    local.db.savepoint("import_records")
    for index, record in enumerate(records, start=1):
        try:
            if not isinstance(record, dict) or not record.get("doctype"):
                raise DocTypeDefinitionError("a record must be an object with a doctype")
            _import_record(record, path, app, declared)
        except Exception as e:  # noqa: BLE001 - re-raised naming the file and the record
            _end_savepoint(local.db.rollback_to_savepoint)
            raise DocTypeDefinitionError(f"{_record_label(record, index)}: {getattr(e, 'message', None) or e}",
                                         source=path, field=getattr(e, "field", None),
                                         doctype=record.get("doctype") if isinstance(record, dict) else None) from e
    _end_savepoint(local.db.release_savepoint)


def _import_record(record, path, app, declared):
    if record.get("doctype") == "Workflow":
        _check_state_field(record, path)
    if app is None:
        upsert(record)
        return
    name = _record_name(record)
    with ownership.owned_by(app, name and f"{record.get('doctype')}/{name}"):
        doc = upsert(record)
    ownership.declared_record(app, declared, doc.doctype, doc.name)


def _end_savepoint(end):
    """Roll back to or release import_records' savepoint, if it is still there: on
    MariaDB a record that changes a table commits implicitly and takes it along."""
    try:
        end("import_records")
    except Exception:  # noqa: BLE001 - gone with an implicit commit: nothing to end
        pass


def _record_label(record, index):
    """'record 3 (Role 'Sales Lead')': where a fixture file's bad record is."""
    if not isinstance(record, dict):
        return f"record {index}"
    try:
        name = _record_name(record)
    except Exception:  # noqa: BLE001 - an unknown DocType: the index says where
        name = record.get("name")
    what = " ".join(str(p) for p in (record.get("doctype"), repr(name) if name else None) if p)
    return f"record {index} ({what})" if what else f"record {index}"


def _check_state_field(workflow, path):
    """A shipped workflow names a field its DocType has: saving one would otherwise quietly
    add a misspelt state field as a Custom Field. Only Frappe's default ``workflow_state``
    is made for it (or the app declares the field in its DocType or fixtures)."""
    field = workflow.get("workflow_state_field") or "workflow_state"
    doctype = workflow.get("document_type")
    if field != "workflow_state" and doctype and not meta_module.get_meta(doctype).has_field(field):
        raise DocTypeDefinitionError(f"workflow {workflow.get('name') or workflow.get('workflow_name')!r}: "
                                     f"{doctype} has no field {field!r} (workflow_state_field)", source=path,
                                     field="workflow_state_field")


def _record_name(record):
    """A fixture's name as the insert will make it (``field:``/``format:`` autonames), so what
    saving it makes is rooted at it even when the file gives no name."""
    if record.get("name"):
        return record["name"]
    autoname = meta_module.get_meta(record.get("doctype")).autoname or ""
    try:
        if autoname.startswith("field:"):
            return record.get(autoname[6:])
        if autoname.startswith("format:"):
            return autoname[7:].format(**record)
    except (KeyError, IndexError, ValueError):
        return None
    return None


def upsert(record):
    record = {k: v for k, v in record.items() if k not in ("modified", "creation", "owner", "modified_by")}
    doctype = record.get("doctype")
    meta = meta_module.get_meta(doctype)
    name = _record_name(record)  # a fixture without a name is found again by its field:/format: name
    if name and local.db.exists(doctype, name):
        doc = load_doc(doctype, name)
        doc.update(record)
        doc.flags.ignore_stale = True
        doc.save(ignore_permissions=True)
    else:
        doc = get_doc(record)
        if name:
            doc.flags.name_set = not meta.autoname.startswith(("field:", "format:"))
            doc.name = name
        if doctype == "Custom Field":
            doc.flags.keep_fieldname = True
        doc.insert(ignore_permissions=True)
    return doc


def export_fixtures(app):
    """Write the records named by the app's ``fixtures`` hook to <app>/fixtures/*.json."""
    from .query import get_all
    written = []
    base = os.path.join(apps.app_path(app), "fixtures")
    for entry in apps.get_hooks("fixtures", app_name=app):
        spec = {"dt": entry} if isinstance(entry, str) else dict(entry)
        doctype = spec.get("dt") or spec.get("doctype")
        filters = spec.get("filters")
        names = get_all(doctype, filters=filters, pluck="name", order_by="name asc")
        records = []
        for name in names:
            d = load_doc(doctype, name).as_dict(no_nulls=True)
            for key in ("owner", "creation", "modified", "modified_by", "docstatus", "idx"):
                d.pop(key, None)
            for rows in d.values():
                if isinstance(rows, list):
                    for r in rows:
                        for key in ("owner", "creation", "modified", "modified_by", "parent", "parenttype",
                                    "parentfield", "docstatus", "name", "doctype"):
                            r.pop(key, None)
            records.append(d)
        os.makedirs(base, exist_ok=True)
        path = os.path.join(base, scrub(doctype) + ".json")
        write_json_list(path, records)
        written.append((path, len(records)))
    return written


def write_json_list(path, records):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(records, f, indent=1, ensure_ascii=False, sort_keys=True)
        f.write("\n")


def _job_keys(events):
    for frequency, methods in (events or {}).items():
        if frequency == "cron":
            for cron, paths in methods.items():
                for m in paths if isinstance(paths, (list, tuple)) else [paths]:
                    yield (m, "Cron", cron)
        else:
            # Frappe's *_long events run on the long queue; the frequency is the same.
            for m in methods if isinstance(methods, (list, tuple)) else [methods]:
                yield (m, frequency.replace("_long", "").title(), None)


def sync_scheduled_jobs(declared=None):
    """One Scheduled Job Type per method in the installed apps' ``scheduler_events``, owned by
    the app that declares it; the others are deleted. ``declared``: as in ``migrate``."""
    wanted = {}
    for app in apps.get_installed_apps():
        for key in _job_keys(apps.load_app_hooks(app).get("scheduler_events")):
            wanted.setdefault(key, app)
    existing = {(r["method"], r["frequency"], r["cron_format"]): r["name"] for r in local.db.sql(
        "SELECT `name`, `method`, `frequency`, `cron_format` FROM `tabScheduled Job Type`", as_dict=True)}
    for key, app in wanted.items():
        name = existing.get(key)
        if name is None:
            with ownership.owned_by(app):
                name = get_doc({"doctype": "Scheduled Job Type", "method": key[0], "frequency": key[1],
                                "cron_format": key[2]}).insert(ignore_permissions=True).name
        if declared is not None:
            ownership.declare(declared.setdefault(app, set()), "Scheduled Job Type", name)
    for key, name in existing.items():
        if key not in wanted:
            local.db.sql("DELETE FROM `tabScheduled Job Type` WHERE `name`=%s", (name,))
