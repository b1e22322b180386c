"""Site fixtures for tests of the engine and of any app built on it (a pytest plugin).

Tests run against real databases: each DB-backed test runs once on a SQLite site (the
embedded default, no Redis) and once on a MariaDB site (with Redis), created fresh in a
temporary bench. An app's tests load it with ``pytest_plugins = ["lowcode.testing.pytest_plugin"]``
in their conftest.py (the repository's own conftest.py does) and ask for:

- ``site`` / ``ctx``: the session's shared site with crm_app, service_app and selling (both engines);
- ``site_with_apps("my_app", ...)``: a factory making a fresh site (on the test's engine)
  with the given apps installed, dropped after the test, for tests that install, change
  or uninstall apps;
- ``client``: Django's test client aimed at ``site``; ``unique``; ``make_doctype``.

MariaDB and Redis come from the environment (``LOWCODE_MARIADB_PORT``,
``LOWCODE_MARIADB_ROOT_USER``, ``LOWCODE_MARIADB_ROOT_PASSWORD``, ``LOWCODE_MARIADB_HOST``,
``LOWCODE_REDIS_URL``; the account that reads replicas' lag: ``LOWCODE_MARIADB_MONITOR_USER``,
``LOWCODE_MARIADB_MONITOR_PASSWORD``, written to the test bench's common_site_config.json
as ``replica_monitor_user`` / ``replica_monitor_password``); inside this repository ``tests/services.py`` starts them when unset.
``LOWCODE_TEST_ENGINES=sqlite`` runs ``site`` and ``site_with_apps`` tests on SQLite only
(a machine without MariaDB and Redis); the default is ``sqlite,mariadb``.
"""
import os
import shutil
import tempfile
import uuid

import pytest

import lowcode

DEFAULT_APPS = ("crm_app", "service_app", "selling")
ENGINES = [e.strip() for e in os.environ.get("LOWCODE_TEST_ENGINES", "sqlite,mariadb").split(",") if e.strip()]
if not ENGINES or set(ENGINES) - {"sqlite", "mariadb"}:
    raise RuntimeError(f"LOWCODE_TEST_ENGINES={os.environ['LOWCODE_TEST_ENGINES']!r}: "
                       "a comma-separated list of sqlite and mariadb")
lowcode.setup_django()  # the test client and the desk's templates need the settings


def _service_env():
    if os.environ.get("LOWCODE_MARIADB_PORT") and os.environ.get("LOWCODE_REDIS_URL"):
        return
    try:
        from tests.services import service_env  # this repository: starts scripts/services.sh
    except ImportError:
        raise RuntimeError("set LOWCODE_MARIADB_PORT, LOWCODE_MARIADB_ROOT_USER, LOWCODE_MARIADB_ROOT_PASSWORD "
                           "and LOWCODE_REDIS_URL for the test sites, or LOWCODE_TEST_ENGINES=sqlite "
                           "to test on SQLite only") from None
    service_env()


def mariadb_root():
    """Root credentials for new-site on the test MariaDB."""
    _service_env()
    return {"db_root_username": os.environ["LOWCODE_MARIADB_ROOT_USER"],
            "db_root_password": os.environ["LOWCODE_MARIADB_ROOT_PASSWORD"],
            "db_host": os.environ.get("LOWCODE_MARIADB_HOST", "127.0.0.1"),
            "db_port": int(os.environ["LOWCODE_MARIADB_PORT"])}


def replica_monitor():
    """The bench-wide settings of the account that reads replicas' lag (database/replicas.py),
    from the environment (``scripts/services.sh env``); {} when it names none."""
    user = os.environ.get("LOWCODE_MARIADB_MONITOR_USER")
    if not user:
        return {}
    return {"replica_monitor_user": user,
            "replica_monitor_password": os.environ.get("LOWCODE_MARIADB_MONITOR_PASSWORD", "")}


def redis_url():
    _service_env()
    return os.environ["LOWCODE_REDIS_URL"]


def create_site(bench, db_type, name=None, apps=DEFAULT_APPS, redis=None, admin_password="admin"):
    """A fresh site in ``bench``; returns its name."""
    from lowcode.installer import new_site
    name = name or f"t{uuid.uuid4().hex[:8]}-{db_type}.localhost"
    kwargs = mariadb_root() if db_type == "mariadb" else {}
    if db_type == "mariadb" and replica_monitor():
        from lowcode.sites import update_common_config
        update_common_config(replica_monitor(), bench)  # bench-wide, as a deployment names it
    extra = {"redis_cache": redis} if redis else {}
    new_site(name, bench=bench, db_type=db_type, admin_password=admin_password, install_apps=apps,
             extra_config=extra, **kwargs)
    return name


def drop_site(bench, name):
    from lowcode.installer import drop_site as drop
    from lowcode.sites import read_json
    if read_json(os.path.join(bench, name, "site_config.json")).get("db_type") != "mariadb":
        return drop(name, bench, quiet=True)  # a SQLite site needs no MariaDB to go
    root = mariadb_root()
    drop(name, bench, root_user=root["db_root_username"], root_password=root["db_root_password"], quiet=True)


@pytest.fixture(scope="session")
def bench():
    path = tempfile.mkdtemp(prefix="lowcode-bench-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def _sites(bench):
    """The session's two sites, made on first use: SQLite without Redis (the embedded
    default) and MariaDB with Redis."""
    made = {}

    def get(db_type):
        if db_type not in made:
            made[db_type] = create_site(bench, db_type, redis=redis_url() if db_type == "mariadb" else None)
        return made[db_type]
    yield get
    for name in made.values():
        drop_site(bench, name)


@pytest.fixture(scope="session", params=ENGINES)
def site(request, _sites):
    """A site with crm_app, service_app and selling installed; tests using it run on both engines."""
    return _sites(request.param)


@pytest.fixture(scope="session")
def sqlite_site(_sites):
    """The SQLite site (no Redis: jobs run in-process), for tests of that set-up only."""
    return _sites("sqlite")


@pytest.fixture(scope="session")
def mariadb_site(_sites):
    """The MariaDB site (with Redis), for tests of that set-up only."""
    return _sites("mariadb")


@pytest.fixture(params=ENGINES)
def site_with_apps(request, bench):
    """site_with_apps("my_app", ...) -> a fresh site's name on this test's engine (SQLite
    without Redis, MariaDB with Redis) with ``lowcode`` and the given apps (and the apps they
    require) installed. The test runs once per engine; its sites are dropped afterwards."""
    db_type = request.param
    made = []

    def make(*apps):
        name = create_site(bench, db_type, apps=apps, redis=redis_url() if db_type == "mariadb" else None)
        made.append(name)
        return name
    make.db_type = db_type
    yield make
    for name in made:
        drop_site(bench, name)


@pytest.fixture
def ctx(site, bench):
    """Run the test inside the site as Administrator. The first write opens a
    transaction that is rolled back at the end unless the test commits; commit before
    HTTP requests that must see the data (they use their own connection)."""
    with lowcode.site_context(site, bench=bench) as local:
        yield local


@pytest.fixture
def sqlite_ctx(sqlite_site, bench):
    """Like ctx, on the SQLite site only (no Redis)."""
    with lowcode.site_context(sqlite_site, bench=bench) as local:
        yield local


@pytest.fixture
def mariadb_ctx(mariadb_site, bench):
    """Like ctx, on the MariaDB site only (with Redis)."""
    with lowcode.site_context(mariadb_site, bench=bench) as local:
        yield local


@pytest.fixture
def unique():
    """A short unique suffix for names, so tests never collide on a shared site."""
    return uuid.uuid4().hex[:6]


@pytest.fixture
def make_doctype(ctx, unique):
    """Create a runtime DocType: make_doctype(fields, **props) -> its name. Committed,
    since MariaDB commits DDL anyway."""
    def make(fields, name=None, permissions=None, **props):
        name = name or f"Test {unique} {len(ctx.flags.get('made', []))}"
        doc = lowcode.get_doc({"doctype": "DocType", "name": name, "module": "Custom", "fields": fields,
                               "permissions": permissions if permissions is not None else
                               [{"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1,
                                 "report": 1, "export": 1, "submit": 1, "cancel": 1}], **props})
        doc.insert()
        ctx.db.commit()
        ctx.flags.setdefault("made", []).append(name)
        return name
    return make


@pytest.fixture
def client(site, bench):
    """Django's test client aimed at the site (Host header = site name)."""
    from django.test import Client
    os.environ["LOWCODE_SITES"] = bench
    return Client(HTTP_HOST=site, raise_request_exception=False)
