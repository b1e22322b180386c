"""The live desk in Chromium, against ``lowcode serve`` (web server and realtime service
in one process, as ``make run`` starts them): another user's edit reaches an open list
and form, and an incoming call pops up within a second, in English and in Persian.

The site's events travel through Redis here (``redis_socketio``), so the test can
publish a screen pop as the telephony worker does; the in-process path is covered by
apps/lowcode/tests/test_realtime_service.py on the SQLite site."""
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

import lowcode
from lowcode import sites
from tests.e2e.conftest import ARTIFACTS, FA_PASSWORD, FA_USER, login
from tests.server import UvicornServer, free_port

pytestmark = pytest.mark.browser


class Serve(UvicornServer):
    """``lowcode serve`` itself, so the test also proves it starts the realtime service."""

    def __init__(self, bench, site, log_path):
        super().__init__(bench, log_path)
        self.site = site
        self.realtime_port = sites.common_config(bench)["socketio_port"]

    def command(self):
        return [sys.executable, "-c", "from lowcode.cli import main; main()", "--sites-path", self.bench,
                "serve", "--host", "127.0.0.1", "--port", str(self.port)]

    def ready(self):
        try:
            with urllib.request.urlopen(self.url + "/login", timeout=2) as r:
                if r.status != 200:
                    return False
            with urllib.request.urlopen(f"http://127.0.0.1:{self.realtime_port}/socket.io/?EIO=4&transport=polling",
                                        timeout=2) as r:
                return r.status == 200
        except (urllib.error.URLError, ConnectionError, OSError):
            return False


@pytest.fixture(scope="module")
def server():
    """Overrides the e2e conftest's server: a bench whose only site (SQLite) sends its
    realtime events through the project's Redis, served by ``lowcode serve``."""
    from conftest import create_site
    from lowcode.auth import generate_keys, set_password
    from tests.services import redis_url
    os.makedirs(ARTIFACTS, exist_ok=True)
    bench = tempfile.mkdtemp(prefix="lowcode-e2e-rt-")
    srv = None
    try:
        site = create_site(bench, "sqlite")
        sites.update_common_config({"socketio_port": free_port(), "default_site": site}, bench)
        path = os.path.join(bench, site, "site_config.json")
        sites.write_json(path, dict(sites.read_json(path), redis_socketio=redis_url()))
        with lowcode.site_context(site, bench=bench) as local:
            lowcode.get_doc({"doctype": "User", "email": FA_USER, "first_name": "Parisa", "language": "fa",
                             "calendar": "Gregorian", "roles": [{"role": "Sales Manager"}, {"role": "System Manager"}]}
                            ).insert(ignore_permissions=True)
            set_password(FA_USER, FA_PASSWORD)
            key, secret = generate_keys(FA_USER)
            lead = lowcode.get_doc({"doctype": "Lead", "first_name": "Sara", "last_name": "Karimi",
                                    "email_id": "sara.karimi@example.com"}).insert()
            local.db.commit()
        srv = Serve(bench, site, os.path.join(ARTIFACTS, "server-realtime.log"))
        srv.token, srv.lead = f"token {key}:{secret}", lead.name
        srv.redis = redis_url()
        srv.start()
        yield srv
    finally:
        if srv is not None:
            srv.stop()
        shutil.rmtree(bench, ignore_errors=True)


def edit_as_other_user(server, **values):
    """Another user (Parisa) saves the lead through the REST API of the same server."""
    req = urllib.request.Request(f"{server.url}/api/resource/Lead/{server.lead}", method="PUT",
                                 data=json.dumps(values).encode(),
                                 headers={"Authorization": server.token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200


def publish(server, user, message, event="screen_pop"):
    """An event as a worker publishes it (lowcode.realtime's Redis channel)."""
    from lowcode.caches import redis_client
    from lowcode.realtime import CHANNEL
    redis_client(server.redis).publish(CHANNEL, json.dumps(
        {"site": server.site, "event": event, "message": message, "room": f"user:{user}"}))


def wait_connected(page):
    page.wait_for_selector("body[data-realtime=connected]", state="attached")


def test_another_users_edit_reaches_the_open_list_and_form(pages, server, shot):
    lst = pages.new()
    lst.goto("/app/lead")
    form = pages.new()
    form.goto(f"/app/lead/{server.lead}")
    wait_connected(lst)
    wait_connected(form)
    assert "Nasiri" not in lst.inner_text("#list-results")

    edit_as_other_user(server, last_name="Nasiri")
    form.wait_for_selector("#doc-changed", timeout=5000)
    assert FA_USER in form.inner_text("#doc-changed")
    shot(form, "form-changed")
    expect(lst.locator("#list-results")).to_contain_text("Nasiri", timeout=5000)
    assert lst.locator("#list-results .navbar").count() == 0, "the rows only, not a page inside the page"
    shot(lst, "list-refreshed")
    form.click("#doc-changed button")
    form.wait_for_load_state()
    assert form.locator("#doc-changed").count() == 0
    assert pages.js_errors == []


def test_the_bell_counts_a_new_notification_at_once(pages, server):
    from lowcode.desk.views.collaboration import notify
    page = pages.new()
    page.goto("/app")
    wait_connected(page)
    before = page.locator("#notification-count").all_inner_texts()
    with lowcode.site_context(server.site, bench=server.bench, user=FA_USER) as local:
        notify("Administrator", "Alert", "Call Sara back")
        local.db.commit()
    expect(page.locator("#notification-count")).to_have_text(str(int(before[0]) + 1 if before else 1), timeout=5000)


def test_msgprint_shows_text_only(pages, server):
    page = pages.new()
    page.goto("/app")
    wait_connected(page)
    publish(server, "Administrator", "<b>Import</b> finished", event="msgprint")
    box = page.wait_for_selector(".realtime-msgprint", timeout=2000)
    assert "<b>Import</b> finished" in box.inner_text() and box.query_selector("b") is None
    assert pages.js_errors == []


@pytest.mark.parametrize("persian", [False, True], ids=["en", "fa"])
def test_incoming_call_pops_up(pages, server, shot, persian):
    if persian:
        page = pages.new(state=None, viewport={"width": 1280, "height": 900})
        login(page, server.url, FA_USER, FA_PASSWORD)
        user = FA_USER
    else:
        page = pages.new(viewport={"width": 1280, "height": 900})
        page.goto("/app")
        user = "Administrator"
    wait_connected(page)
    call = f"call-{time.time_ns()}"
    caller = "<img src=x onerror=alert(1)> Sara"
    started = time.monotonic()
    publish(server, user, {"call_id": call, "number": "+989121234567", "display_number": "0912 123 4567",
                           "status": "Ringing", "agent": user,
                           "matches": [{"doctype": "Lead", "name": server.lead, "title": caller,
                                        "url": f"/app/lead/{server.lead}"}],
                           "new_lead_url": "/app/lead/new?mobile_no=%2B989121234567", "call_log_url": None})
    pop = page.wait_for_selector(f".screen-pop[data-call-id='{call}']", timeout=1000)
    assert time.monotonic() - started < 1.5
    assert "0912 123 4567" in pop.inner_text()
    match = pop.query_selector(".screen-pop-match")
    assert caller in match.inner_text() and match.get_attribute("href") == f"/app/lead/{server.lead}"
    assert pop.query_selector("img") is None, "caller data is text, never HTML"
    status = pop.query_selector(".screen-pop-status")
    assert status.inner_text() == ("تماس ورودی" if persian else "Incoming call")
    box = pop.bounding_box()
    if persian:  # right-to-left: the pop-up sits on the left, the number still reads left to right
        assert box["x"] < 100
    else:
        assert box["x"] + box["width"] > 1180
    shot(page, "ringing")

    publish(server, user, {"call_id": call, "number": "+989121234567", "status": "Answered", "matches": [],
                           "new_lead_url": "/app/lead/new?mobile_no=%2B989121234567"})
    expect(page.locator(f".screen-pop[data-call-id='{call}']")).to_have_attribute("data-status", "Answered",
                                                                              timeout=1000)
    # An unknown caller: "New lead" with the number filled in.
    assert page.locator(f".screen-pop[data-call-id='{call}'] .screen-pop-new-lead").get_attribute("href") == \
        "/app/lead/new?mobile_no=%2B989121234567"
    publish(server, user, {"call_id": call, "status": "Ended", "matches": []})
    page.wait_for_selector(f".screen-pop[data-call-id='{call}']", state="detached", timeout=8000)
    assert pages.js_errors == []
