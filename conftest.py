"""Test fixtures shared by every test in the repository.

Tests run against real databases: each DB-backed test runs once on a SQLite site (the
embedded default, no Redis) and once on a MariaDB site (with the project's Redis),
both created fresh for the session in a temporary bench. MariaDB and Redis come from
``scripts/services.sh`` (``make test`` starts them; this file starts them too when a
developer runs pytest directly).
"""
import os
import shutil
import tempfile
import uuid

import pytest

import lowcode
from tests.services import mariadb_root, redis_url  # noqa: F401 - tests import them from here

ROOT = os.path.dirname(os.path.abspath(__file__))
lowcode.setup_django()


def create_site(bench, db_type, name=None, apps=("crm_app", "service_app"), redis=None, admin_password="admin"):
    """A fresh site in ``bench``; returns its name."""
    from lowcode.installer import new_site
    name = name or f"t{uuid.uuid4().hex[:8]}-{db_type}.localhost"
    kwargs = mariadb_root() if db_type == "mariadb" else {}
    extra = {"redis_cache": redis} if redis else {}
    new_site(name, bench=bench, db_type=db_type, admin_password=admin_password, install_apps=apps,
             extra_config=extra, **kwargs)
    return name


def drop_site(bench, name):
    from lowcode.installer import drop_site as drop
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


@pytest.fixture(scope="session", params=["sqlite", "mariadb"])
def site(request, _sites):
    """A site with crm_app and service_app installed; tests using it run on both engines."""
    return _sites(request.param)


@pytest.fixture(scope="session")
def sqlite_site(_sites):
    """The SQLite site (no Redis: jobs run in-process), for tests of that set-up only."""
    return _sites("sqlite")


@pytest.fixture(scope="session")
def mariadb_site(_sites):
    """The MariaDB site (with Redis), for tests of that set-up only."""
    return _sites("mariadb")


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
