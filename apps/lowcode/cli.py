"""The ``lowcode`` command: Frappe's bench commands for this engine's sites.

    lowcode new-site crm.localhost --db-type sqlite --admin-password admin --install-app crm_app
    lowcode --site crm.localhost migrate
    lowcode --site crm.localhost backup --with-files
    lowcode serve --port 8000

A command that works on a site runs in that site's context as Administrator and
commits only once it has succeeded. Engine errors print as one line ``Error: ...``
and exit non-zero; set LOWCODE_DEBUG=1 to see the traceback instead.
"""
import code
import contextlib
import importlib
import json
import os
import signal
import threading
import time
import traceback

import click

import lowcode
from . import backups, sites
from .exceptions import CommandError, LowcodeError


def _debug():
    return os.environ.get("LOWCODE_DEBUG") == "1"


def _one_line(text):
    return " ".join(str(text).split())


class LowcodeGroup(click.Group):
    """Turns any failure into click's one-line ``Error: ...`` and exit status 1, and adds
    the commands of the bench's apps (see ``app_commands``)."""

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(app_commands(ctx)))

    def get_command(self, ctx, name):
        # The engine's own commands never wait on importing the apps' code.
        return super().get_command(ctx, name) or app_commands(ctx).get(name)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Abort, click.exceptions.Exit):
            raise
        except LowcodeError as e:
            if _debug():
                raise
            raise click.ClickException(_one_line(e.message or type(e).__name__)) from None
        except Exception as e:  # noqa: BLE001 - e.g. a database driver error: still one line
            if _debug():
                raise
            raise click.ClickException(
                _one_line(f"{type(e).__name__}: {e} (LOWCODE_DEBUG=1 shows the traceback)")) from None


def app_commands(ctx):
    """{name: click command} that the apps in the bench's apps.txt add to ``lowcode``:
    each app's hooks.py ``commands = ["pkg.module.command_or_group", ...]`` and, as in
    Frappe, the ``commands`` list of its ``<app>/commands.py``. A command that cannot be
    loaded, or that takes a name the engine uses, is left out with a warning: one broken
    app must not take ``lowcode migrate`` away from the others."""
    found = ctx.meta.get("lowcode.app_commands")
    if found is not None:
        return found
    found = ctx.meta["lowcode.app_commands"] = {}
    lowcode.setup_django()  # before the apps' modules import engine code
    from .apps import get_attr, load_app_hooks
    for app in sites.apps_txt(ctx.params.get("sites_path")):
        if app == "lowcode":
            continue
        try:
            commands = [(path, get_attr(path)) for path in load_app_hooks(app).get("commands", [])]
            commands += [(f"{app}.commands", c) for c in getattr(_commands_module(app), "commands", [])]
        except Exception as e:  # noqa: BLE001 - reported, the engine's commands still work
            click.echo(f"Warning: the commands of app {app} were not loaded: {_one_line(e)}", err=True)
            continue
        for path, command in commands:
            if not isinstance(command, click.Command):
                click.echo(f"Warning: app {app}: {path} is not a click command", err=True)
            elif command.name in click.Group.list_commands(ctx.command, ctx) or command.name in found:
                click.echo(f"Warning: app {app}: the command {command.name!r} ({path}) is already taken", err=True)
            else:
                found[command.name] = command
    return found


def _commands_module(app):
    try:
        return importlib.import_module(f"{app}.commands")
    except ModuleNotFoundError as e:
        if e.name != f"{app}.commands":  # commands.py is there but imports something missing
            raise
        return None


class Bench:
    """The bench and site the command line names (``--sites-path``, ``--site``)."""

    def __init__(self, path, site):
        self.path = sites.bench_path(path)
        self.explicit_site = site

    @property
    def site(self):
        site = self.explicit_site or sites.default_site(self.path)
        if not site:
            raise CommandError("no site given: pass --site SITE or set a default with `lowcode use SITE`")
        sites.get_site_config(site, self.path)  # SiteNotFound names the bench searched
        return site

    def target_sites(self):
        """The named site, else every site of the bench (worker, scheduler)."""
        return [self.site] if self.explicit_site else sites.list_sites(self.path)

    def context(self, site=None):
        return lowcode.site_context(site or self.site, bench=self.path)


pass_bench = click.make_pass_decorator(Bench)


@click.group(cls=LowcodeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--site", help="The site to work on (default: the bench's default site).")
@click.option("--sites-path", type=click.Path(file_okay=False), is_eager=True,  # known to --help (app commands)
              help="The bench's sites folder (default: $LOWCODE_SITES or ./sites).")
@click.version_option(lowcode.__version__, prog_name="lowcode")
@click.pass_context
def main(ctx, site, sites_path):
    """Manage lowcode sites, apps, jobs and the server."""
    lowcode.setup_django()
    ctx.obj = Bench(sites_path, site)
    # Engine code that finds the bench by itself (web server, jobs) agrees with --sites-path.
    os.environ["LOWCODE_SITES"] = ctx.obj.path


# -- sites -------------------------------------------------------------------------------------

@main.command("new-site")
@click.argument("name")
@click.option("--db-type", type=click.Choice(["sqlite", "mariadb"]), default="sqlite", show_default=True)
@click.option("--admin-password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--db-root-username", help="MariaDB user that may create databases and users.")
@click.option("--db-root-password", envvar="LOWCODE_DB_ROOT_PASSWORD")
@click.option("--db-host")
@click.option("--db-port", type=int)
@click.option("--install-app", "install_apps", multiple=True, help="Install this app too (repeatable).")
@click.option("--redis-url", help="Redis for cache and jobs, e.g. redis://127.0.0.1:6379/0.")
@click.option("--set-default", is_flag=True, help="Make it the bench's default site.")
@pass_bench
def new_site(bench, name, db_type, admin_password, db_root_username, db_root_password, db_host, db_port,
             install_apps, redis_url, set_default):
    """Create a site with its database, and install apps on it."""
    from .installer import new_site as create
    extra = {}
    if redis_url:
        _check_redis(redis_url)
        extra["redis_cache"] = redis_url
    path = create(name, bench=bench.path, db_type=db_type, admin_password=admin_password,
                  db_root_username=db_root_username, db_root_password=db_root_password, db_host=db_host,
                  db_port=db_port, install_apps=install_apps, extra_config=extra, set_default=set_default)
    click.echo(f"Created site {name} ({db_type}) in {path}")


def _check_redis(url):
    # Fail before the site exists rather than on its first cached read or job.
    import redis
    try:
        redis.Redis.from_url(url, socket_connect_timeout=5).ping()
    except (redis.RedisError, ValueError) as e:
        raise CommandError(f"cannot reach Redis at {url}: {e}")


@main.command("list-sites")
@pass_bench
def list_sites(bench):
    """The sites of the bench; the default one is marked."""
    default = sites.default_site(bench.path)
    for site in sites.list_sites(bench.path):
        click.echo(site + ("  (default)" if site == default else ""))


@main.command("use")
@click.argument("site")
@pass_bench
def use(bench, site):
    """Make SITE the bench's default site."""
    sites.get_site_config(site, bench.path)
    sites.update_common_config({"default_site": site}, bench.path)
    click.echo(f"Default site is now {site}")


@main.command("data-import")
@click.option("--file", "file_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="A CSV or XLSX file (a template from the Data Import form, or any headers).")
@click.option("--doctype", help="The DocType the rows become (the mapping's when --mapping is given).")
@click.option("--type", "import_type", type=click.Choice(["insert", "update"]), default="insert", show_default=True)
@click.option("--key-field", default="name", show_default=True,
              help="The field that finds the record a row updates, or its duplicate (e.g. email_id).")
@click.option("--duplicates", type=click.Choice(["skip", "update", "create"]), default="skip", show_default=True,
              help="On insert, what a row whose key matches a record does.")
@click.option("--mute-emails", is_flag=True, help="Send no e-mail while importing.")
@click.option("--mapping", help="A Data Import Mapping: another system's file layout (columns, codes, dates, key).")
@pass_bench
def data_import(bench, file_path, doctype, import_type, key_field, duplicates, mute_emails, mapping):
    """Import a file through Data Import (Frappe's bench data-import); exits 1 if rows failed."""
    from .core.doctype.data_import.data_import import failed_logs, import_file
    if not doctype and not mapping:
        raise click.UsageError("give --doctype or --mapping")
    with bench.context() as local:
        doc = import_file(doctype, os.path.abspath(file_path),
                          "Update Existing Records" if import_type == "update" else "Insert New Records",
                          mute_emails=mute_emails, key_field=key_field, duplicate_handling=duplicates.title(),
                          mapping=mapping)
        failed = failed_logs(doc.name)
        local.db.commit()
    click.echo(f"Data Import {doc.name}: {doc.status}; {doc.success_count or 0} imported, "
               f"{doc.failed_count or 0} failed of {doc.payload_count or 0}")
    for row, message in failed:
        click.echo(f"  row {row}: {_one_line(message)}")
    if failed:
        raise click.exceptions.Exit(1)


@main.command("data-export")
@click.option("--mapping", required=True, help="The Data Import Mapping whose layout the file is written in.")
@click.option("--file", "file_path", required=True, type=click.Path(dir_okay=False),
              help="Where to write: a .csv or .xlsx file.")
@click.option("--filters", help='JSON filters on the records, e.g. {"external_system": "External ERP"}.')
@pass_bench
def data_export(bench, mapping, file_path, filters):
    """Export records in another system's layout (a Data Import Mapping), to import there."""
    from .core.doctype.data_import_mapping.data_import_mapping import export_file
    try:
        parsed = json.loads(filters) if filters else None
    except ValueError:
        raise click.BadParameter("not valid JSON", param_hint="--filters") from None
    with bench.context() as local:
        count = export_file(mapping, os.path.abspath(file_path), parsed)
        local.db.commit()  # the export's Access Log row (lowcode/audit.py)
    click.echo(f"{count} rows written to {file_path}")


# -- apps and schema ---------------------------------------------------------------------------

@main.command("new-app")
@click.argument("name")
@click.option("--title", help="The app's title (default: from NAME, property_app -> Property App).")
@click.option("--publisher", help="Who publishes it (hooks.py app_publisher, the package's author).")
@click.option("--doctype", help="The first DocType's name (default: from NAME, property_app -> Property App).")
@click.option("--dest", type=click.Path(file_okay=False), default=".", show_default=True,
              help="The folder to write the app into.")
@pass_bench
def new_app(bench, name, title, publisher, doctype, dest):
    """Write the skeleton of a new app: a pip-installable package NAME with hooks.py, a
    DocType (JSON, controller, test), fixtures/, workflows/, public/ and guide/en/; list it
    in the bench's apps.txt when there is one."""
    from .scaffold import new_app as make
    path = make(name, dest=dest, title=title, publisher=publisher, doctype=doctype)
    listed = sites.add_to_apps_txt(name, bench.path)
    click.echo(f"Created app {name} in {path}")
    click.echo(f"Added {name} to {listed}" if listed else
               f"No apps.txt in {bench.path}: add {name} to the bench's apps.txt yourself")
    click.echo(f"Next: pip install -e {path}; lowcode --site SITE install-app {name}")


@main.command("install-app")
@click.argument("app")
@pass_bench
def install_app(bench, app):
    """Install an app (and the apps it requires) on the site."""
    from .installer import install_app as install
    site = bench.site
    with bench.context(site) as local:
        installed = install(app)
        local.db.commit()
    click.echo(f"Installed {app} on {site}" if installed else f"{app} is already installed on {site}")


@main.command("uninstall-app")
@click.argument("app")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_bench
def uninstall_app(bench, app, yes):
    """Remove an app's DocTypes and their data from the site, after a backup."""
    from .installer import uninstall_app as uninstall
    site = bench.site
    with bench.context(site):
        if app not in lowcode.get_installed_apps():
            raise CommandError(f"app {app} is not installed on {site}")
    if not yes:
        click.confirm(f"Uninstall {app} from {site}? Its DocTypes and all their records are deleted", abort=True)
    for path in backups.take_backup(bench.path, site):
        click.echo(f"Backup: {path}")
    with bench.context(site) as local:
        removed = uninstall(app)
        local.db.commit()
    click.echo(f"Uninstalled {app} from {site} ({len(removed)} DocTypes removed)")


@main.command("list-apps")
@pass_bench
def list_apps(bench):
    """The apps installed on the site, in install order, with their versions."""
    with bench.context() as local:
        versions = dict(local.db.sql("SELECT `name`, `app_version` FROM `tabInstalled App`"))
        for app in lowcode.get_installed_apps():
            click.echo(f"{app} {versions.get(app) or ''}".rstrip())


@main.command()
@pass_bench
def migrate(bench):
    """Bring DocTypes, tables, fixtures and scheduled jobs in line with the apps' files."""
    from .installer import migrate as run_migrate
    site = bench.site
    with bench.context(site) as local:
        run_migrate()
        local.db.commit()
    click.echo(f"Migrated {site}")


@main.command("export-fixtures")
@click.option("--app", help="Only this app (default: every installed app).")
@pass_bench
def export_fixtures(bench, app):
    """Write the records named by the apps' ``fixtures`` hooks to <app>/fixtures/*.json."""
    from .installer import export_fixtures as export
    site = bench.site
    with bench.context(site):
        installed = lowcode.get_installed_apps()
        if app and app not in installed:
            raise CommandError(f"app {app} is not installed on {site}")
        written = [item for name in ([app] if app else installed) for item in export(name)]
    for path, count in written:
        click.echo(f"{path}: {count} records")
    if not written:
        click.echo("No app declares fixtures")


# -- users ---------------------------------------------------------------------------------

@main.command("add-user")
@click.argument("email")
@click.option("--first-name", required=True)
@click.option("--last-name")
@click.option("--password")
@click.option("--add-role", "roles", multiple=True, help="Give the user this role (repeatable).")
@pass_bench
def add_user(bench, email, first_name, last_name, password, roles):
    """Create a user, optionally with a password and roles."""
    from .auth import set_password
    with bench.context() as local:
        user = lowcode.get_doc({"doctype": "User", "email": email, "first_name": first_name,
                                "last_name": last_name, "roles": [{"role": r} for r in roles]}).insert()
        if password:
            set_password(user.name, password)
        local.db.commit()
    click.echo(f"Added user {user.name}" + (f" with roles {', '.join(roles)}" if roles else ""))


@main.command("set-admin-password")
@click.argument("password")
@pass_bench
def set_admin_password(bench, password):
    """Set the Administrator's password."""
    from .installer import set_admin_password as set_password
    site = bench.site
    with bench.context(site) as local:
        set_password(password)
        local.db.commit()
    click.echo(f"Administrator password of {site} updated")


# -- code ------------------------------------------------------------------------------------

@main.command()
@click.argument("method")
@click.option("--args", "args_json", default="[]", help="Positional arguments as a JSON list.")
@click.option("--kwargs", "kwargs_json", default="{}", help="Keyword arguments as a JSON object.")
@pass_bench
def execute(bench, method, args_json, kwargs_json):
    """Call a function by dotted path as Administrator, commit, print its result as JSON."""
    from .apps import get_attr
    args = _json_option("--args", args_json, list)
    kwargs = _json_option("--kwargs", kwargs_json, dict)
    try:
        fn = get_attr(method)
    except (ImportError, AttributeError) as e:
        raise CommandError(f"cannot find {method}: {e}")
    if not callable(fn):
        raise CommandError(f"{method} is not a function")
    with bench.context() as local:
        result = fn(*args, **kwargs)
        local.db.commit()
    click.echo(json.dumps(result, default=_jsonable, ensure_ascii=False))


def _json_option(name, text, kind):
    try:
        value = json.loads(text)
    except ValueError as e:
        raise CommandError(f"{name} is not valid JSON: {e}")
    if not isinstance(value, kind):
        raise CommandError(f"{name} must be a JSON {'list' if kind is list else 'object'}")
    return value


def _jsonable(value):
    return value.as_dict() if hasattr(value, "as_dict") else str(value)


@main.command()
@pass_bench
def console(bench):
    """An interactive Python in the site; changes are kept only after lowcode.db.commit()."""
    site = bench.site
    with bench.context(site) as local:
        namespace = {"lowcode": lowcode, "local": local}
        with contextlib.suppress(ImportError):
            import readline
            import rlcompleter
            readline.set_completer(rlcompleter.Completer(namespace).complete)
            readline.parse_and_bind("tab: complete")
        code.interact(banner=f"lowcode {lowcode.__version__} on {site} as Administrator. "
                             "Call lowcode.db.commit() to keep changes.", local=namespace, exitmsg="")


# -- server, workers, scheduler ------------------------------------------------------------------

@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, type=int, show_default=True)
@click.option("--workers", default=1, type=int, show_default=True)
@click.option("--no-realtime", is_flag=True, help="Do not start the realtime (Socket.IO) service.")
@click.option("--with-scheduler", is_flag=True,
              help="Without Redis: tick the scheduler on a thread of this process (`lowcode start` does).")
@click.option("--scheduler-interval", default=60, type=click.IntRange(min=1), show_default=True,
              help="Seconds between the in-process scheduler's ticks.")
@pass_bench
def serve(bench, host, port, workers, no_realtime, with_scheduler, scheduler_interval):
    """Serve every site of the bench over HTTP (uvicorn); the Host header picks the site.
    With one worker, the realtime service runs in the same process on the bench's
    ``socketio_port`` (default 9000); with several, run ``lowcode realtime`` beside them."""
    import uvicorn
    from .jobs import BACKGROUND_ENV, redis_url
    from .observability.metrics import prepare_multiprocess_dir
    prepare_multiprocess_dir(bench.path)  # the web processes' metrics, summed by any one's /metrics
    no_redis = not any(redis_url(sites.get_site_config(s, bench.path)) for s in sites.list_sites(bench.path))
    if no_redis:
        click.echo("No site has Redis configured: background jobs run on a thread of the server process",
                   err=True)
    # Jobs of sites without Redis, and of any site while its Redis is down, run on a thread
    # of the server process, so the request that queued them answers at once.
    os.environ[BACKGROUND_ENV] = "1"
    if no_redis and with_scheduler:
        # uvicorn's parent process (the only one with one worker) ticks, so several
        # workers never run a job twice; the jobs go to its background thread.
        threading.Thread(target=scheduler_loop, args=(bench, scheduler_interval, threading.Event()),
                         name="lowcode-scheduler", daemon=True).start()
        click.echo(f"Scheduler: ticking every {scheduler_interval} s in the server process", err=True)
    elif with_scheduler:
        click.echo("Redis is configured: run `lowcode scheduler` (or `lowcode start`) for scheduled jobs", err=True)
    without_redis = [s for s in sites.list_sites(bench.path)
                     if not sites.get_site_config(s, bench.path).get("redis_cache")]
    if workers > 1 and without_redis:
        # Process memory is one process's: a session ended, or a cache entry dropped, in one
        # worker would live on in the others (docs/ARCHITECTURE.md, "What lives where").
        click.echo(f"Warning: {', '.join(without_redis)} without redis_cache: with several workers their cached "
                   "sessions and maps and their rate-limit counters are per process; configure Redis", err=True)
    if workers == 1 and not no_realtime:
        # Its own thread and event loop: events published in this process reach it directly.
        from .realtime import server as realtime
        rt_port = realtime.socketio_port(bench.path)
        try:
            realtime.start_in_thread(host, rt_port, bench=bench.path)
            click.echo(f"Realtime (Socket.IO) on {host}:{rt_port}", err=True)
        except RuntimeError as e:  # e.g. the port is taken: the desk still works, without live updates
            click.echo(f"Warning: {e} (is the port in use? set socketio_port in common_site_config.json)",
                       err=True)
    elif not no_realtime:
        click.echo("Several workers: run `lowcode realtime` for live updates (the sites need Redis)", err=True)
    # Django's ASGI handler does not speak the lifespan protocol; "off" spares a warning.
    # The engine is synchronous, so it is served through its WSGI application: under
    # ASGI, Django hops between the event loop and worker threads on every request,
    # which `make bench` measured at several milliseconds per request (0.9 ms vs 6.9 ms
    # for the cheapest request). lowcode.web.asgi stays available for ASGI servers.
    # No access log of uvicorn's: the JSON request line (lowcode/observability) replaces it,
    # and uvicorn's would print raw paths with their query strings (password-reset keys).
    uvicorn.run("lowcode.web.wsgi:application", host=host, port=port, workers=workers, interface="wsgi",
                lifespan="off", access_log=False)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, type=int, show_default=True)
@click.option("--web-processes", type=click.IntRange(min=1),
              help="Web server processes on the port (default: 2 with Redis; without Redis only 1).")
@click.option("--workers", type=click.IntRange(min=0), help="RQ worker processes (default 1; Redis only).")
@click.option("--scheduler-interval", default=60, type=click.IntRange(min=1), show_default=True,
              help="Seconds between the scheduler's ticks.")
@click.option("--grace", default=10, type=click.IntRange(min=1), show_default=True,
              help="Seconds a process has to stop after SIGTERM before it gets SIGKILL.")
@pass_bench
def start(bench, host, port, web_processes, workers, scheduler_interval, grace):
    """Run the whole stack until Ctrl+C/SIGTERM: web, RQ workers, scheduler and realtime
    (without Redis: one web process running jobs and scheduler inside). With --site, the
    workers and the scheduler work for that site alone. A crashed process
    is restarted. Exit status 0: stopped cleanly; 1: a process kept failing and the stack
    stopped; 2: a process had to be killed after the grace period."""
    from . import stack
    from .observability.metrics import prepare_multiprocess_dir
    processes = stack.programs(bench.path, host, port, web_processes, workers, scheduler_interval,
                               site=bench.explicit_site)
    stack.check_ports(bench.path, host, port)
    # Emptied once here, and named in the environment every child inherits: the web and
    # worker processes' metrics summed by any scrape, a restarted child's kept.
    prepare_multiprocess_dir(bench.path)
    click.echo("Starting " + ", ".join(f"{name} x{n}" if n > 1 else name for name, _, n in processes), err=True)
    raise click.exceptions.Exit(stack.run(processes, grace=grace))


@main.group()
def setup():
    """Set-up files for running the bench on a host."""


@setup.command("production")
@click.option("--user", help="The system user the services run as (default: you).")
@click.option("--web-processes", default=2, type=click.IntRange(min=1), show_default=True)
@click.option("--workers", default=2, type=click.IntRange(min=1), show_default=True,
              help="RQ workers: lowcode-worker@1 .. @N in lowcode.target.")
@click.option("--server-name", help="nginx server_name, space-separated (default: the bench's sites).")
@click.option("--port", default=8000, type=int, show_default=True, help="The web server's port (loopback).")
@click.option("--output", type=click.Path(file_okay=False), help="Write the files here (default: ./production).")
@click.option("--install", "install_", is_flag=True,
              help="Write them into /etc/systemd/system and /etc/nginx/conf.d instead (root only).")
@pass_bench
def setup_production(bench, user, web_processes, workers, server_name, port, output, install_):
    """Write systemd units (web, worker@, scheduler, realtime, lowcode.target) and an nginx
    site for a Debian host; see docs/DEPLOY.md. Starts nothing."""
    from . import production, stack
    if install_ and output:
        raise click.UsageError("give --output or --install, not both")
    if not stack.has_redis(bench.path):
        click.echo("Warning: no site has Redis configured; the worker, scheduler and realtime units need it",
                   err=True)
    options = {"user": user, "web_processes": web_processes, "workers": workers, "server_name": server_name,
               "port": port}
    written = (production.install(bench.path, **options) if install_ else
               production.generate(bench.path, os.path.abspath(output or "production"), **options))
    for path in written:
        click.echo(path)
    if not install_:
        click.echo("Next (as root): copy the units to /etc/systemd/system and lowcode.conf to /etc/nginx/conf.d, "
                   "or run again with --install; then systemctl daemon-reload && systemctl enable --now "
                   "lowcode.target && nginx -t && systemctl reload nginx")


@main.command("realtime")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, help="Default: socketio_port in common_site_config.json, else 9000.")
@pass_bench
def realtime_command(bench, host, port):
    """Run the realtime (Socket.IO) service alone, for several web workers or hosts; the
    sites' events come through their Redis."""
    from .realtime import server as realtime
    realtime.serve(host, port, bench=bench.path)


@main.command()
@click.option("--queue", default="short,default,long", show_default=True,
              help="Comma-separated queues, in priority order.")
@click.option("--burst", is_flag=True, help="Exit once the queues are empty.")
@click.option("--heartbeat", default=30, type=click.IntRange(min=1), show_default=True,
              help="Seconds between the heartbeats of a running job; a job whose worker missed two "
                   "is run again by the next worker.")
@pass_bench
def worker(bench, queue, burst, heartbeat):
    """Run background jobs from the sites' Redis queues (RQ)."""
    from .caches import redis_client
    from .jobs import QUEUES, queue_name, redis_url, worker_class
    urls = {redis_url(sites.get_site_config(s, bench.path)) for s in bench.target_sites()} - {None}
    if not urls:
        raise CommandError("no site has Redis configured (redis_queue or redis_cache in site_config.json); "
                           "without Redis, jobs run in the server process and need no worker")
    if len(urls) > 1:
        raise CommandError(f"the sites use different Redis servers ({', '.join(sorted(urls))}): "
                           "start one worker per site with --site")
    url = urls.pop()
    queues = [q.strip() for q in queue.split(",") if q.strip()]
    unknown = [q for q in queues if q not in QUEUES]
    if unknown or not queues:
        raise CommandError(f"unknown queue {', '.join(unknown) or queue!r} (use {', '.join(QUEUES)})")
    # Each job runs lowcode.jobs.execute_job(payload), which opens the payload's site itself.
    from .observability.metrics import name_worker_process
    name_worker_process()  # its work horses' job metrics go to one file per worker
    worker_class()([queue_name(q, url) for q in queues], connection=redis_client(url),
                   job_monitoring_interval=heartbeat).work(burst=burst, logging_level="INFO")


@main.command()
@click.option("--once", is_flag=True, help="Run one tick and exit.")
@click.option("--interval", default=60, type=click.IntRange(min=1), show_default=True,
              help="Seconds between ticks.")
@pass_bench
def scheduler(bench, once, interval):
    """Enqueue the sites' scheduled jobs when they are due (``scheduler_events`` hooks)."""
    if once:
        failed = scheduler_tick(bench)
        if failed:
            raise CommandError(f"the scheduler failed on {', '.join(failed)}")
        return
    # SIGTERM (systemd, `lowcode start`) ends the loop after the current tick, exit status 0.
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    scheduler_loop(bench, interval, stop)


def scheduler_loop(bench, interval, stop):
    """Tick every ``interval`` seconds until ``stop`` (a threading.Event) is set."""
    while not stop.is_set():
        started = time.monotonic()
        scheduler_tick(bench)
        stop.wait(max(0.0, interval - (time.monotonic() - started)))


def scheduler_tick(bench):
    """One tick on every site; returns the sites that failed. One broken site must not
    stop the others' jobs, so errors are reported and the loop goes on."""
    from .scheduler import tick
    failed = []
    for site in bench.target_sites():
        if sites.get_site_config(site, bench.path).get("pause_scheduler"):
            continue
        try:
            with bench.context(site) as local:
                enqueued = tick()
                local.db.commit()  # sends the jobs (or, without Redis, runs them here)
        except Exception as e:  # noqa: BLE001
            failed.append(site)
            click.echo(traceback.format_exc() if _debug() else f"Error: {site}: {_one_line(e)}", err=True)
            continue
        for method in enqueued:
            click.echo(f"{site}: enqueued {method}")
    return failed


@main.command("retry-failed-jobs")
@pass_bench
def retry_failed_jobs(bench):
    """Enqueue every Failed Job with status Failed again."""
    from .jobs import retry
    with bench.context() as local:
        names = lowcode.get_all("Failed Job", filters={"status": "Failed"}, pluck="name", order_by="creation asc")
        for name in names:
            retry(name)
        local.db.commit()
    click.echo(f"Retried {len(names)} failed job(s)")


# -- backups -----------------------------------------------------------------------------------
# Written here by hand: the formats are the engines' own (sqlite's backup API, mariadb-dump),
# and gzip/tarfile from the standard library do the rest.

@main.command()
@click.option("--with-files", is_flag=True, help="Also archive public/files and private/files.")
@click.option("--encrypt/--no-encrypt", default=None,
              help="Encrypt (default: the site config's encrypt_backup) with backup_encryption_key or encryption_key.")
@pass_bench
def backup(bench, with_files, encrypt):
    """Back up the site's database (and files) into <site>/private/backups."""
    for path in backups.take_backup(bench.path, bench.site, with_files, encrypt=encrypt):
        click.echo(path)


@main.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--with-files", "files", type=click.Path(exists=True, dir_okay=False),
              help="A files backup (*-files.tar.gz[.enc]) to replace public/files and private/files with.")
@click.option("--no-migrate", is_flag=True,
              help="Leave the restored database exactly as backed up (e.g. to compare `lowcode fingerprint`).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_bench
def restore(bench, path, files, no_migrate, yes):
    """Replace the site's database (and files) with a backup, then migrate."""
    site = bench.site
    backups.check_backup_name(sites.get_site_config(site, bench.path), path)
    if not yes:
        what = "database and files" if files else "database"
        click.confirm(f"Replace the {what} of {site} with {path}? Its current data is lost", abort=True)
    report = backups.restore_backup(bench, site, path, files=files, migrate=not no_migrate)
    click.echo(f"Restored {path} into {site}" + ("" if no_migrate else " and migrated"))
    click.echo(f"{report['tables']} tables, {report['rows']} rows" +
               (f"; {report['files']} files, {report['bytes']} bytes" if files else ""))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="The whole fingerprint as JSON.")
@pass_bench
def fingerprint(bench, as_json):
    """Per table its rows and their hash, per file its SHA-256: compare a site with its restore."""
    from .fingerprint import fingerprint as site_fingerprint
    with bench.context() as local:
        found = site_fingerprint(local.db, local.site_path)
    if as_json:
        click.echo(json.dumps(found, indent=1, sort_keys=True))
        return
    for name, table in found["tables"].items():
        click.echo(f"{name}\t{table['rows']}\t{table['hash']}")
    for path, digest in found["files"].items():
        click.echo(f"{path}\t{digest}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="The checks as JSON.")
@click.pass_context
def doctor(ctx, as_json):
    """Check the site: schema, links, jobs, disk, backups, replicas, Redis; exit 0 ok, 1 warn, 2 fail."""
    from .doctor import SEVERITY, overall, run_checks
    bench = ctx.find_object(Bench)
    with bench.context() as local:
        checks = run_checks()
        site = local.site
    status = overall(checks)
    if as_json:
        click.echo(json.dumps({"site": site, "status": status, "checks": [c.as_dict() for c in checks]},
                              indent=1, default=str))
    else:
        width = max(len(c.name) for c in checks)
        for c in checks:
            click.echo(f"{c.name:<{width}}  {c.status.upper():<4}  {c.message}")
            if c.remedy:
                click.echo(f"{'':<{width}}        -> {c.remedy}")
        click.echo(f"{site}: {status}")
    ctx.exit(SEVERITY[status])
