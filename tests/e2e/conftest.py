"""Fixtures of the browser tests: a real server on a fresh site, and Debian's chromium
driven by Playwright.

One bench per test module: a temporary ``sites/`` folder holding a single SQLite site
with crm_app and a little demo data (so it is the bench's default site and
http://127.0.0.1:<port> serves it), served as ``lowcode serve`` does (uvicorn with the WSGI application)
in a subprocess that is always stopped at the end, whatever happened. The browser is
the system's chromium (``/usr/bin/chromium``, or ``$LOWCODE_CHROMIUM``) launched by
Playwright's sync API; Playwright's own browser downloads are never used.

Screenshots are test artefacts: ``test-artifacts/e2e/`` at the repository root
(git-ignored). Tests save one at each important step through the ``shot`` fixture, and
every page a failing test opened is saved as ``FAILED-<test>-<n>.png``.
"""
import os
import re
import shutil
import socket
import tempfile
import urllib.error
import urllib.request

import pytest

import lowcode
from tests.server import UvicornServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARTIFACTS = os.path.join(ROOT, "test-artifacts", "e2e")
CHROMIUM = os.environ.get("LOWCODE_CHROMIUM") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ADMIN_PASSWORD = "admin"  # what create_site sets
#: a second desk user whose preferences the Persian scenario may change freely
FA_USER = "e2e.persian@example.com"
FA_PASSWORD = "Tabriz-Carpet-61"  # passes the password policy (not like the user name)
#: Playwright's wait for any element or navigation (ms); the server is local
TIMEOUT_MS = 15000


def _create_site(bench):
    """The repository's own helper (root conftest.py), so the site is made exactly as
    every other test's."""
    from conftest import create_site
    return create_site(bench, "sqlite")


def _seed(site, bench):
    """Demo data (through the normal document path) and the Persian scenario's user."""
    import crm_app.demo
    from lowcode.auth import set_password
    with lowcode.site_context(site, bench=bench) as local:
        crm_app.demo.generate(count=100)
        lowcode.get_doc({"doctype": "User", "email": FA_USER, "first_name": "Parisa", "language": "en",
                         "calendar": "Gregorian", "roles": [{"role": "Sales Manager"}, {"role": "System Manager"}]}
                        ).insert(ignore_permissions=True)
        set_password(FA_USER, FA_PASSWORD)
        local.db.commit()


class Server(UvicornServer):
    """The test server for one bench; ready once its login page answers (the site,
    Django and the assets are all there)."""

    def __init__(self, bench, site, log_path):
        super().__init__(bench, log_path)
        self.site = site

    def ready(self):
        try:
            with urllib.request.urlopen(self.url + "/login", timeout=2) as r:
                return r.status == 200
        except (urllib.error.URLError, ConnectionError, socket.timeout):
            return False


@pytest.fixture(scope="module")
def server():
    """A fresh bench with one SQLite site (crm_app + demo data), served over HTTP."""
    os.makedirs(ARTIFACTS, exist_ok=True)
    for old in os.listdir(ARTIFACTS):  # this run's screenshots only
        if old.endswith(".png"):
            os.remove(os.path.join(ARTIFACTS, old))
    bench = tempfile.mkdtemp(prefix="lowcode-e2e-")
    srv = None
    try:
        site = _create_site(bench)
        _seed(site, bench)
        srv = Server(bench, site, os.path.join(ARTIFACTS, "server.log"))
        srv.start()
        yield srv
    finally:
        if srv is not None:
            srv.stop()
        shutil.rmtree(bench, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"no chromium at {CHROMIUM} (install Debian's chromium or set LOWCODE_CHROMIUM)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


#: the two widths every desk page is checked at
DESKTOP = {"viewport": {"width": 1366, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


def set_language(server, user, lang):
    """Set a user's desk language on the test server's site."""
    with lowcode.site_context(server.site, bench=server.bench) as local:
        local.db.sql("UPDATE `tabUser` SET `language`=%s WHERE `name`=%s", (lang, user))
        local.db.commit()


def desk_user(email, first_name, password, roles=("Sales User",), language="en", calendar="Gregorian"):
    """A desk user with a password (inside a site context), made once per test site."""
    from lowcode.auth import set_password
    if not lowcode.db.exists("User", email):
        lowcode.get_doc({"doctype": "User", "email": email, "first_name": first_name, "language": language,
                         "calendar": calendar, "roles": [{"role": r} for r in roles]}).insert(ignore_permissions=True)
        set_password(email, password)


def login(page, base_url, user="Administrator", password=ADMIN_PASSWORD):
    """Log in through the desk's login form; lands on /app."""
    page.goto(base_url + "/login")
    page.fill("#usr", user)
    page.fill("#pwd", password)
    with page.expect_navigation():
        page.click("form[action='/login'] button[type=submit]")
    assert re.search(r"/app/?$", page.url), f"login did not land on /app but on {page.url}"


@pytest.fixture(scope="module")
def admin_state(server, browser, tmp_path_factory):
    """Administrator's session (cookies), logged in once through the login form."""
    context = browser.new_context(base_url=server.url)
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        login(page, server.url)
        path = str(tmp_path_factory.mktemp("e2e-state") / "admin.json")
        context.storage_state(path=path)
    finally:
        context.close()
    return path


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can tell a failure."""
    report = yield
    setattr(item, "rep_" + report.when, report)
    return report


class Pages:
    """Browser contexts a test opens (closed at its end); pages of a failing test are
    saved as screenshots, and JavaScript errors are collected."""

    def __init__(self, browser, server, admin_state):
        self.browser, self.server, self.admin_state = browser, server, admin_state
        self.contexts, self.pages, self.js_errors = [], [], []

    def new(self, state="admin", **options):
        """A page in a new context: logged in as Administrator (state="admin"), with
        another storage state file, or logged out (state=None)."""
        storage = self.admin_state if state == "admin" else state
        context = self.browser.new_context(base_url=self.server.url, storage_state=storage, **options)
        context.set_default_timeout(TIMEOUT_MS)
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc, page=page: self.js_errors.append(f"{page.url}: {exc}"))
        # What the Content-Security-Policy blocked (an inline script or handler, an eval):
        # the browser only logs it, so collect it with the JavaScript errors.
        page.on("console", lambda msg, page=page: self.js_errors.append(f"{page.url}: {msg.text}")
                if msg.type == "error" and "Content Security Policy" in msg.text else None)
        self.pages.append(page)
        return page

    def close(self, failed_name=None):
        if failed_name:
            for i, page in enumerate(self.pages, start=1):
                try:
                    page.screenshot(path=os.path.join(ARTIFACTS, f"FAILED-{failed_name}-{i}.png"), full_page=True)
                except Exception:  # noqa: BLE001 - a closed or crashed page has nothing to show
                    pass
        for context in self.contexts:
            context.close()


@pytest.fixture
def pages(request, browser, server, admin_state):
    opened = Pages(browser, server, admin_state)
    yield opened
    rep = getattr(request.node, "rep_call", None)
    failed = rep is not None and rep.failed
    opened.close(failed_name=re.sub(r"[^\w.-]+", "_", request.node.name) if failed else None)


@pytest.fixture
def page(pages):
    """A desktop-sized page logged in as Administrator."""
    return pages.new(viewport={"width": 1280, "height": 900})


@pytest.fixture
def shot(request):
    """shot(page, "step") saves test-artifacts/e2e/<test>--<step>.png (the whole page)."""
    test = re.sub(r"^test_", "", request.node.name)

    def take(page, step, full_page=True):
        path = os.path.join(ARTIFACTS, f"{test}--{step}.png")
        # Let htmx fragments arrive, and frappe-charts finish drawing: a full-page
        # screenshot resizes the page, and a chart resized while it animates throws.
        page.wait_for_load_state("networkidle")
        if page.locator("[data-chart]").count():
            page.wait_for_timeout(1000)
        page.screenshot(path=path, full_page=full_page)
        return path
    return take


@pytest.fixture
def make_lead(server):
    """Create a Lead through the document API in the test process (committed, so the
    server sees it at once); returns its name."""
    def make(**values):
        with lowcode.site_context(server.site, bench=server.bench) as local:
            doc = lowcode.get_doc(dict({"doctype": "Lead", "first_name": "E2E", "company_name": "E2E Co"}, **values))
            doc.insert()
            local.db.commit()
            return doc.name
    return make


@pytest.fixture
def db_value(server):
    """db_value(doctype, name, field): the stored value, read afresh from the site."""
    def get(doctype, name, field):
        with lowcode.site_context(server.site, bench=server.bench) as local:
            return local.db.get_value(doctype, name, field)
    return get
