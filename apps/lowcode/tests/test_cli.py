"""The ``lowcode`` command, run for real as a subprocess against a temporary bench, on a
SQLite site (no Redis: jobs run in-process) and a MariaDB site (jobs through Redis
and ``lowcode worker``).

A throw-away app in tmp (on the subprocesses' PYTHONPATH) gives the commands code to
call: functions for ``execute``, a scheduled job, a job that fails until a flag file
exists, and a ``fixtures`` hook."""
import gzip
import json
import os
import re
import socket
import subprocess
import sys
import tarfile
import textwrap
import time
import urllib.error
import urllib.request
import uuid

import pytest

import lowcode
from conftest import drop_site, mariadb_root, redis_url

LOWCODE = os.path.join(os.path.dirname(sys.executable), "lowcode")

APP_HOOKS = '''
app_name = "{app}"
app_title = "CLI test app"
required_apps = ["lowcode"]
fixtures = [{{"dt": "Role", "filters": {{"role_name": ["like", "Fixture %"]}}}}]
scheduler_events = {{"all": ["{app}.tasks.on_tick"]}}
'''

APP_TASKS = '''
import os
import uuid

import lowcode


def make_role(role_name, desk_access=1):
    doc = lowcode.get_doc({"doctype": "Role", "role_name": role_name, "desk_access": desk_access}).insert()
    return {"name": doc.name, "desk_access": doc.desk_access}


def delete_role(name):
    lowcode.delete_doc("Role", name)


def on_tick():
    lowcode.get_doc({"doctype": "Role", "role_name": "Tick " + uuid.uuid4().hex[:8]}).insert(ignore_permissions=True)


def flaky(flag_file):
    if not os.path.exists(flag_file):
        raise RuntimeError("the flag file is not there yet")
    lowcode.get_doc({"doctype": "Role", "role_name": "Flaky Done"}).insert(ignore_permissions=True)
'''


class CLI:
    """A bench with one site made by ``lowcode new-site``, and a way to run commands on it."""

    def __init__(self, bench, app_root, app, db_type):
        self.bench, self.app_root, self.app, self.db_type = bench, app_root, app, db_type
        self.site = f"cli{uuid.uuid4().hex[:8]}-{db_type}.localhost"

    @property
    def env(self):
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [self.app_root, os.environ.get("PYTHONPATH")])))
        env.pop("LOWCODE_DEBUG", None)
        env.pop("LOWCODE_SITES", None)  # the commands must find the bench by --sites-path
        return env

    def run(self, *args, ok=True, site=True, stdin=None, timeout=300):
        cmd = [LOWCODE, "--sites-path", self.bench] + (["--site", self.site] if site else []) + list(args)
        result = subprocess.run(cmd, capture_output=True, text=True, env=self.env, input=stdin, timeout=timeout)
        if ok:
            assert result.returncode == 0, f"{cmd} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
        return result

    def sql(self, query, values=()):
        """Read the site's database directly (in this process, no engine code on top)."""
        with lowcode.site_context(self.site, bench=self.bench) as local:
            return local.db.sql(query, values)

    def roles(self, like):
        return self.sql("SELECT `name` FROM `tabRole` WHERE `name` LIKE %s ORDER BY `name`", (like,))

    def new_site_args(self):
        args = ["new-site", self.site, "--db-type", self.db_type, "--admin-password", "admin",
                "--install-app", self.app]
        if self.db_type == "mariadb":
            root = mariadb_root()
            args += ["--db-root-username", root["db_root_username"], "--db-root-password",
                     root["db_root_password"], "--db-host", root["db_host"], "--db-port", str(root["db_port"]),
                     # A Redis database of its own, so `worker --burst` meets only this bench's jobs.
                     "--redis-url", redis_url().rsplit("/", 1)[0] + "/11"]
        return args


def write_app(root, app):
    os.makedirs(os.path.join(root, app))
    for fname, text in (("__init__.py", '__version__ = "0.0.7"\n'), ("hooks.py", APP_HOOKS.format(app=app)),
                        ("tasks.py", APP_TASKS)):
        with open(os.path.join(root, app, fname), "w") as f:
            f.write(textwrap.dedent(text))


@pytest.fixture(scope="module", params=["sqlite", "mariadb"])
def cli(request, tmp_path_factory):
    app_root = str(tmp_path_factory.mktemp("apps"))
    app = f"cliapp_{uuid.uuid4().hex[:6]}"
    write_app(app_root, app)
    cli = CLI(str(tmp_path_factory.mktemp("bench")), app_root, app, request.param)
    result = cli.run(*cli.new_site_args(), site=False)
    assert f"Created site {cli.site} ({request.param})" in result.stdout
    yield cli
    drop_site(cli.bench, cli.site)


def one_line_error(result, *fragments):
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_new_site_is_listed_and_default(cli):
    assert cli.run("list-sites", site=False).stdout.splitlines() == [f"{cli.site}  (default)"]
    assert cli.run("list-apps").stdout.split()[::2] == ["lowcode", cli.app]
    assert cli.run("use", cli.site, site=False).stdout.strip() == f"Default site is now {cli.site}"
    with open(os.path.join(cli.bench, "common_site_config.json")) as f:
        assert json.load(f)["default_site"] == cli.site
    # The default site is used when --site is left out.
    assert cli.run("list-apps", site=False).stdout.split()[::2] == ["lowcode", cli.app]


def test_install_list_and_uninstall_app(cli):
    assert cli.run("install-app", "crm_app").stdout.strip() == f"Installed crm_app on {cli.site}"
    assert cli.run("list-apps").stdout.splitlines() == ["lowcode 0.1.0", f"{cli.app} 0.0.7", "crm_app 0.1.0"]
    assert "already installed" in cli.run("install-app", "crm_app").stdout

    refused = cli.run("uninstall-app", "crm_app", stdin="n\n", ok=False)
    assert refused.returncode != 0
    assert cli.sql("SELECT `name` FROM `tabInstalled App` WHERE `name`='crm_app'") != ()

    out = cli.run("uninstall-app", "crm_app", "--yes").stdout
    backup = next(line[len("Backup: "):] for line in out.splitlines() if line.startswith("Backup: "))
    assert os.path.getsize(backup) > 0 and backup.startswith(os.path.join(cli.bench, cli.site, "private", "backups"))
    assert f"Uninstalled crm_app from {cli.site}" in out
    assert cli.run("list-apps").stdout.split()[::2] == ["lowcode", cli.app]
    assert not cli.sql("SELECT `name` FROM `tabDocType` WHERE `app`='crm_app'")


def test_migrate_recreates_missing_scheduled_jobs(cli):
    method = f"{cli.app}.tasks.on_tick"
    with lowcode.site_context(cli.site, bench=cli.bench) as local:
        local.db.sql("DELETE FROM `tabScheduled Job Type` WHERE `method`=%s", (method,))
        local.db.commit()
    assert cli.run("migrate").stdout.strip() == f"Migrated {cli.site}"
    assert cli.sql("SELECT `frequency` FROM `tabScheduled Job Type` WHERE `method`=%s", (method,))[0][0] == "All"


def test_migrate_adds_the_assignment_table_and_owner_indexes(cli):
    """A site made before them: migrate creates the assignment table, fills it from every
    document's ``_assign`` (what row rules read), and adds the ``(owner, …)`` indexes."""
    with lowcode.site_context(cli.site, bench=cli.bench) as local:
        local.db.sql("DROP TABLE `tab_Assignment`")
        local.db.drop_index("ToDo", "todo__owner")
        local.db.sql("UPDATE `tabUser` SET `_assign`=%s WHERE `name`='Administrator'", (json.dumps(["Guest"]),))
        local.db.commit()
    assert cli.run("migrate").stdout.strip() == f"Migrated {cli.site}"
    rows = cli.sql("SELECT `user`, `reference_type` FROM `tab_Assignment` WHERE `reference_name`='Administrator'")
    assert [tuple(r) for r in rows] == [("Guest", "User")]
    with lowcode.site_context(cli.site, bench=cli.bench) as local:
        assert local.db.get_indexes("ToDo")["todo__owner"] == (False, ["owner", "modified"])
        local.db.sql("UPDATE `tabUser` SET `_assign`=NULL WHERE `name`='Administrator'")
        local.db.sql("DELETE FROM `tab_Assignment` WHERE `reference_name`='Administrator'")
        local.db.commit()


def test_add_user_with_role_and_password(cli):
    from lowcode.auth import check_login
    email = f"sara.{uuid.uuid4().hex[:6]}@example.com"
    out = cli.run("add-user", email, "--first-name", "Sara", "--last-name", "Ahmadi", "--password", "s3cret-Pw",
                  "--add-role", "System Manager").stdout
    assert out.strip() == f"Added user {email} with roles System Manager"
    assert cli.sql("SELECT `full_name` FROM `tabUser` WHERE `name`=%s", (email,))[0][0] == "Sara Ahmadi"
    assert cli.sql("SELECT `role` FROM `tabHas Role` WHERE `parent`=%s", (email,))[0][0] == "System Manager"
    with lowcode.site_context(cli.site, bench=cli.bench):
        assert check_login(email, "s3cret-Pw") == email

    bad = cli.run("add-user", "x" + email, "--first-name", "X", "--add-role", "No Such Role", ok=False)
    one_line_error(bad, "No Such Role")
    assert not cli.sql("SELECT 1 FROM `tabUser` WHERE `name`=%s", ("x" + email,))
    # the password policy applies: a weak one is refused and no user is made
    weak = cli.run("add-user", "w" + email, "--first-name", "W", "--password", "12345678", ok=False)
    one_line_error(weak, "password", "too common")
    assert not cli.sql("SELECT 1 FROM `tabUser` WHERE `name`=%s", ("w" + email,))


def test_set_admin_password(cli):
    from lowcode.auth import check_login
    from lowcode.exceptions import AuthenticationError
    password = "new-" + uuid.uuid4().hex[:8]
    cli.run("set-admin-password", password)
    with lowcode.site_context(cli.site, bench=cli.bench):
        assert check_login("Administrator", password) == "Administrator"
        with pytest.raises(AuthenticationError):
            check_login("Administrator", "admin")
    # the operator's choice, without the password policy (as at new-site; `make run` uses admin)
    cli.run("set-admin-password", "admin")
    with lowcode.site_context(cli.site, bench=cli.bench):
        assert check_login("Administrator", "admin") == "Administrator"


def test_execute_calls_the_function_commits_and_prints_json(cli):
    out = cli.run("execute", f"{cli.app}.tasks.make_role", "--args", '["Executed A"]',
                  "--kwargs", '{"desk_access": 0}').stdout
    assert json.loads(out) == {"name": "Executed A", "desk_access": 0}
    assert cli.sql("SELECT `desk_access` FROM `tabRole` WHERE `name`='Executed A'")[0][0] == 0
    count = cli.sql("SELECT COUNT(*) FROM `tabRole`")[0][0]
    assert json.loads(cli.run("execute", "lowcode.get_count", "--args", '["Role"]').stdout) == count


def test_console_keeps_only_committed_work(cli):
    script = textwrap.dedent('''\
        lowcode.get_doc({"doctype": "Role", "role_name": "Console Kept"}).insert()
        lowcode.db.commit()
        lowcode.get_doc({"doctype": "Role", "role_name": "Console Dropped"}).insert()
        print("rows", lowcode.get_count("Role", filters={"name": ["like", "Console %"]}))
        ''')
    out = cli.run("console", stdin=script).stdout
    assert "rows 2" in out  # both were there inside the session
    assert [r[0] for r in cli.roles("Console %")] == ["Console Kept"]


def test_backup_and_restore(cli):
    site_dir = os.path.join(cli.bench, cli.site)
    for sub in ("public/files/logo.txt", "private/files/contract.txt"):
        with open(os.path.join(site_dir, sub), "w") as f:
            f.write(sub)
    cli.run("execute", f"{cli.app}.tasks.make_role", "--args", '["Before Backup"]')

    paths = cli.run("backup", "--with-files").stdout.split()
    suffix = ".sqlite3.gz" if cli.db_type == "sqlite" else ".sql.gz"
    database, files = paths
    assert database.endswith(f"-{cli.site}-database{suffix}") and files.endswith(f"-{cli.site}-files.tar.gz")
    assert os.path.dirname(database) == os.path.join(site_dir, "private", "backups")
    with tarfile.open(files) as tar:
        assert {"public/files/logo.txt", "private/files/contract.txt"} <= set(tar.getnames())
    if cli.db_type == "mariadb":
        with gzip.open(database, "rt") as f:
            dump = f.read()
        assert "Before Backup" in dump
        with open(os.path.join(site_dir, "site_config.json")) as f:
            assert json.load(f)["db_password"] not in dump

    cli.run("execute", f"{cli.app}.tasks.make_role", "--args", '["After Backup"]')
    cli.run("execute", f"{cli.app}.tasks.delete_role", "--args", '["Before Backup"]')
    assert [r[0] for r in cli.roles("% Backup")] == ["After Backup"]

    # A damaged file or one of the other engine is refused, and the data stays as it was.
    broken = os.path.join(site_dir, "private", "backups", "broken" + suffix)
    with open(broken, "wb") as f:
        f.write(b"not gzip")
    one_line_error(cli.run("restore", broken, "--yes", ok=False), "cannot read")
    other = broken.replace(suffix, ".sql.gz" if cli.db_type == "sqlite" else ".sqlite3.gz")
    os.rename(broken, other)
    one_line_error(cli.run("restore", other, "--yes", ok=False), "expected")
    assert [r[0] for r in cli.roles("% Backup")] == ["After Backup"]

    out = cli.run("restore", database, "--yes").stdout.splitlines()
    assert out[0] == f"Restored {database} into {cli.site} and migrated"
    assert re.fullmatch(r"\d+ tables, \d+ rows", out[1])  # the restore's report
    assert [r[0] for r in cli.roles("% Backup")] == ["Before Backup"]
    assert cli.run("list-apps").stdout.split()[::2][:2] == ["lowcode", cli.app]


def test_export_fixtures(cli):
    for name in ("Fixture B", "Fixture A"):
        cli.run("execute", f"{cli.app}.tasks.make_role", "--args", json.dumps([name]))
    out = cli.run("export-fixtures", "--app", cli.app).stdout
    path = os.path.join(cli.app_root, cli.app, "fixtures", "role.json")
    assert out.strip() == f"{path}: 2 records"
    with open(path) as f:
        assert [r["name"] for r in json.load(f)] == ["Fixture A", "Fixture B"]
    assert f"{path}: 2 records" in cli.run("export-fixtures").stdout  # every installed app


def test_scheduler_once_runs_the_due_jobs(cli):
    before = len(cli.roles("Tick %"))
    out = cli.run("scheduler", "--once").stdout
    assert f"{cli.site}: enqueued {cli.app}.tasks.on_tick" in out.splitlines()
    if cli.db_type == "mariadb":
        assert len(cli.roles("Tick %")) == before  # waiting in Redis for a worker
        cli.run("worker", "--burst", "--queue", "default")
    assert len(cli.roles("Tick %")) == before + 1


def test_failed_jobs_are_recorded_and_retried(cli, tmp_path):
    flag = str(tmp_path / "flag")

    def run_jobs():
        if cli.db_type == "mariadb":  # without Redis they already ran after the commit
            cli.run("worker", "--burst")

    cli.run("execute", "lowcode.enqueue", "--args", json.dumps([f"{cli.app}.tasks.flaky"]),
            "--kwargs", json.dumps({"flag_file": flag}))
    run_jobs()
    failed = cli.sql("SELECT `name`, `status` FROM `tabFailed Job` WHERE `method`=%s", (f"{cli.app}.tasks.flaky",))
    assert [r[1] for r in failed] == ["Failed"]
    assert not cli.roles("Flaky Done")

    open(flag, "w").close()
    assert cli.run("retry-failed-jobs").stdout.strip() == "Retried 1 failed job(s)"
    run_jobs()
    assert [r[0] for r in cli.roles("Flaky Done")] == ["Flaky Done"]
    assert cli.sql("SELECT `status` FROM `tabFailed Job` WHERE `name`=%s", (failed[0][0],))[0][0] == "Retried"


@pytest.mark.parametrize("cli", ["sqlite"], indirect=True)  # the SQLite bench has no Redis
def test_worker_without_redis_says_so(cli):
    one_line_error(cli.run("worker", "--burst", ok=False), "no site has Redis configured")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_http_for_the_site(cli):
    port = _free_port()
    proc = subprocess.Popen([LOWCODE, "--sites-path", cli.bench, "serve", "--port", str(port)], env=cli.env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/method/frappe.auth.get_logged_user",
                                         headers={"Host": cli.site})
        status = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    status = response.status
                break
            except urllib.error.HTTPError as e:
                status = e.code
                break
            except OSError:
                time.sleep(0.1)
        assert status in (200, 401, 403), status
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    notice = "background jobs run on a thread of the server process"
    assert (notice in err) == (cli.db_type == "sqlite"), err


@pytest.mark.parametrize("args, fragments", [
    (["--site", "nosuch.localhost", "list-apps"], ["nosuch.localhost does not exist"]),
    (["use", "nosuch.localhost"], ["nosuch.localhost does not exist"]),
    (["install-app", "no_such_app"], ["no_such_app"]),
    (["execute", "lowcode.get_count", "--kwargs", "{oops"], ["--kwargs is not valid JSON"]),
    (["execute", "lowcode.get_count", "--args", '{"a": 1}'], ["--args must be a JSON list"]),
    (["execute", "lowcode.no_such_function"], ["cannot find lowcode.no_such_function"]),
    (["uninstall-app", "crm_app", "--yes"], ["crm_app is not installed"]),
    (["new-site", "{site}", "--admin-password", "x"], ["already exists"]),
])
def test_errors_are_one_line(cli, args, fragments):
    args = [a.replace("{site}", cli.site) for a in args]
    explicit = args[0] == "--site"
    result = cli.run(*args, ok=False, site=not explicit and args[0] not in ("use", "new-site"))
    one_line_error(result, *fragments)
    assert os.path.exists(os.path.join(cli.bench, cli.site, "site_config.json"))  # nothing was removed
