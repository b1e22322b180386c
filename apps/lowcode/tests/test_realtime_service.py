"""The realtime service against a real Socket.IO server on loopback, with python-socketio's
client: who may connect (session cookie, Origin, namespace), what they may subscribe to,
and which events reach whom (row rules per recipient, only after the commit). The
SQLite site's events travel in-process, the MariaDB site's through Redis pub/sub."""
import asyncio
import threading
import time

import pytest
import socketio

import lowcode
from lowcode import auth
from lowcode.realtime import publish_realtime, server as rt
from lowcode.desk.views.collaboration import notify
from crm_app.tests.helpers import make_lead, make_user
from tests.server import free_port

WAIT = 5  # seconds an expected event may take


@pytest.fixture(scope="module")
def service(bench, _sites):
    running = rt.start_in_thread("127.0.0.1", free_port(), bench=bench)
    running.url = f"http://127.0.0.1:{running.server.config.port}"
    yield running
    running.stop()


class Desk:
    """One browser tab's socket (WebSocket, as the desk uses): what it receives lands in
    ``events``; ``next(event)`` takes the first one of that name not taken yet."""

    def __init__(self, service, site, sid=None, origin=None, namespace=None):
        self.events, self.lock = [], threading.Condition()
        self.namespace = namespace or f"/{site}"
        # The site names do not resolve: the Host header names the site (websocket-client's
        # ``host``), and a browser's Origin is given or left out, never made up.
        options = {"host": site, **({"origin": origin} if origin else {"suppress_origin": True})}
        self.client = socketio.Client(reconnection=False, websocket_extra_options=options)
        self.client.on("*", self._got, namespace=self.namespace)
        headers = {"Cookie": f"{auth.SESSION_COOKIE}={sid}"} if sid else {}
        self.client.connect(service.url, headers=headers, namespaces=[self.namespace], transports=["websocket"],
                            wait_timeout=WAIT)

    def _got(self, event, data=None):
        with self.lock:
            self.events.append((event, data))
            self.lock.notify_all()

    def call(self, event, *args):
        return self.client.call(event, args if len(args) != 1 else args[0], namespace=self.namespace,
                                timeout=WAIT)

    def next(self, event, timeout=WAIT):
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                for i, (name, data) in enumerate(self.events):
                    if name == event:
                        del self.events[i]
                        return data
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.lock.wait(left)

    def close(self):
        self.client.disconnect()


def session_for(ctx, user):
    sid = auth.start_session(user, desk=True).sid
    ctx.db.commit()
    return sid


@pytest.fixture
def desks(service, site):
    opened = []

    def open_desk(sid=None, **kwargs):
        desk = Desk(service, site, sid, **kwargs)
        opened.append(desk)
        return desk
    yield open_desk
    for desk in opened:
        desk.close()


def test_guests_bad_origins_and_other_sites_are_refused(ctx, service, desks, unique):
    with pytest.raises(socketio.exceptions.ConnectionError):
        desks()  # no session cookie
    with pytest.raises(socketio.exceptions.ConnectionError):
        desks("not-a-session")
    user = make_user(unique, "rtguard", roles=("Sales User",))
    sid = session_for(ctx, user)
    with pytest.raises(socketio.exceptions.ConnectionError):
        desks(sid, origin="http://evil.example")  # cross-site WebSocket hijacking
    with pytest.raises(socketio.exceptions.ConnectionError):
        desks(sid, namespace="/other-site.localhost")
    desk = desks(sid, origin=f"http://{ctx.site}:8000")  # the site's own page, on the web port
    assert desk.client.connected


def test_doc_subscribe_needs_read_permission(ctx, desks, unique):
    owner = make_user(unique, "rtowner", roles=("Sales User",))
    other = make_user(unique, "rtother", roles=("Sales User",))
    lead = make_lead("Reza", lead_owner=owner)
    sid_owner, sid_other = session_for(ctx, owner), session_for(ctx, other)
    assert desks(sid_owner).call("doc_subscribe", "Lead", lead.name) is True
    assert desks(sid_other).call("doc_subscribe", "Lead", lead.name) is False
    assert desks(sid_other).call("doc_subscribe", "No Such DocType", "x") is False


def test_list_update_reaches_only_users_who_may_read_the_row(ctx, desks, unique):
    owner = make_user(unique, "rtlist", roles=("Sales User",))
    other = make_user(unique, "rtlist2", roles=("Sales User",))
    lead = make_lead("Mina", lead_owner=owner)
    ctx.db.commit()
    a, b = desks(session_for(ctx, owner)), desks(session_for(ctx, other))
    assert a.call("doctype_subscribe", "Lead") is True and b.call("doctype_subscribe", "Lead") is True
    assert a.call("doc_subscribe", "Lead", lead.name) is True

    lead = lowcode.get_doc("Lead", lead.name)
    lead.last_name = "Ahmadi " + unique
    lead.save()
    time.sleep(0.3)
    assert a.events == [], "nothing may arrive before the commit"
    ctx.db.commit()
    got = a.next("list_update")
    assert got and got["doctype"] == "Lead" and got["name"] == lead.name and got["user"] == "Administrator"
    update = a.next("doc_update")
    assert update and update["name"] == lead.name and update["modified"] == str(lead.modified)
    assert b.next("list_update", timeout=1) is None, "a Sales User who cannot read the lead hears nothing of it"

    # Once the lead is theirs, the same user hears of it (the decision follows the row's version).
    lead.lead_owner = other
    lead.save()
    ctx.db.commit()
    assert (b.next("list_update") or {}).get("name") == lead.name

    # A deleted lead is announced to those who could read it, from its last state.
    lowcode.delete_doc("Lead", lead.name)
    ctx.db.commit()
    gone = b.next("list_update")
    assert gone and gone["name"] == lead.name and gone.get("deleted") is True
    assert a.next("list_update", timeout=1) is None


def test_rolled_back_changes_are_never_announced(ctx, desks, unique):
    user = make_user(unique, "rtroll", roles=("System Manager",))
    desk = desks(session_for(ctx, user))
    assert desk.call("doctype_subscribe", "Lead") is True
    make_lead("Ghost", last_name=unique)
    ctx.db.rollback()
    assert desk.next("list_update", timeout=1) is None
    lead = make_lead("Real", last_name=unique)
    ctx.db.commit()
    assert (desk.next("list_update") or {}).get("name") == lead.name


def test_user_events_and_notifications_reach_only_their_user(ctx, desks, unique):
    a = make_user(unique, "rtna", roles=("Sales User",))
    b = make_user(unique, "rtnb", roles=("Sales User",))
    da, db_ = desks(session_for(ctx, a)), desks(session_for(ctx, b))
    notify(a, "Alert", "Call back Sara")
    publish_realtime("screen_pop", {"call_id": "c-1", "number": "+989121234567", "status": "Ringing",
                                    "matches": []}, user=a)
    ctx.db.commit()
    got = da.next("notification")
    assert got and got["type"] == "Alert"
    pop = da.next("screen_pop")
    assert pop and pop["call_id"] == "c-1"
    assert db_.next("notification", timeout=1) is None and db_.next("screen_pop", timeout=0.2) is None
    # Another user's room is not a document room: subscribing to their User record does
    # not bring their events.
    db_.call("doc_subscribe", "User", a)
    publish_realtime("screen_pop", {"call_id": "c-2"}, user=a)
    ctx.db.commit()
    assert (da.next("screen_pop") or {}).get("call_id") == "c-2"
    assert db_.next("screen_pop", timeout=0.5) is None


def test_eval_js_is_never_relayed(ctx, desks, unique):
    user = make_user(unique, "rteval", roles=("System Manager",))
    desk = desks(session_for(ctx, user))
    publish_realtime("eval_js", "alert(1)", user=user)
    publish_realtime("msgprint", "hello", user=user)
    ctx.db.commit()
    assert desk.next("msgprint") == "hello"
    assert desk.next("eval_js", timeout=0.5) is None


calls = []


async def flaky_service(site, bench):
    """A realtime_services entry that fails on its first run, then runs until cancelled."""
    calls.append((site, bench))
    if len(calls) == 1:
        raise RuntimeError("AMI refused the login")
    await asyncio.Event().wait()


def test_services_are_restarted_after_a_failure(sqlite_site, bench, caplog):
    service = rt.RealtimeServer(bench)

    async def run():
        task = asyncio.ensure_future(service.supervise(sqlite_site, f"{__name__}.flaky_service"))
        for _ in range(300):
            if len(calls) >= 2:
                break
            await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    calls.clear()
    asyncio.run(asyncio.wait_for(run(), 10))
    assert calls == [(sqlite_site, bench), (sqlite_site, bench)]  # the bench too: sites may live anywhere
    assert "AMI refused the login" in caplog.text


running = []


async def counted_service(site, bench):
    """A realtime_services entry that says it runs until cancelled."""
    running.append(site)
    try:
        await asyncio.Event().wait()
    finally:
        running.remove(site)


def test_with_redis_one_host_runs_a_service_and_another_takes_over(mariadb_site, bench, monkeypatch):
    """Two realtime services (two hosts) on a site with Redis: one runs the service; when
    it stops, the other takes over."""
    monkeypatch.setattr(rt, "LEASE_SECONDS", 0.6)
    path = f"{__name__}.counted_service"
    first, second = rt.RealtimeServer(bench), rt.RealtimeServer(bench)

    async def wait_for(condition, seconds=5):
        deadline = time.monotonic() + seconds
        while not condition() and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return condition()

    async def run():
        one = asyncio.ensure_future(first.supervise(mariadb_site, path))
        assert await wait_for(lambda: running == [mariadb_site])
        two = asyncio.ensure_future(second.supervise(mariadb_site, path))
        await asyncio.sleep(1.5)  # several renewals: the second still waits
        assert running == [mariadb_site]
        one.cancel()
        await asyncio.gather(one, return_exceptions=True)
        assert await wait_for(lambda: running == [mariadb_site])  # the second took over
        two.cancel()
        await asyncio.gather(two, return_exceptions=True)
    running.clear()
    asyncio.run(asyncio.wait_for(run(), 20))
    assert running == []


def test_redis_sites_hear_every_process_once(mariadb_ctx, service, bench, unique):
    """With Redis, events come from the channel (a worker or another web process
    publishes there), and an event published here is not also delivered in-process."""
    import json
    from lowcode.caches import redis_client
    from lowcode.realtime import CHANNEL, redis_url
    ctx = mariadb_ctx
    user = make_user(unique, "rtredis", roles=("System Manager",))
    desk = Desk(service, ctx.site, session_for(ctx, user))
    try:
        redis_client(redis_url(ctx.conf)).publish(CHANNEL, json.dumps(
            {"site": ctx.site, "event": "msgprint", "message": "from a worker", "room": f"user:{user}"}))
        assert desk.next("msgprint") == "from a worker"
        publish_realtime("msgprint", "once", user=user)
        ctx.db.commit()
        assert desk.next("msgprint") == "once"
        assert desk.next("msgprint", timeout=0.5) is None, "delivered twice"
    finally:
        desk.close()


def test_lowcode_realtime_runs_alone_fed_by_redis(mariadb_ctx, bench, unique, tmp_path):
    """``lowcode realtime``: the service in its own process (beside several web workers),
    where only Redis brings it the events this process publishes."""
    import os
    import sys
    from tests.server import UvicornServer

    class Standalone(UvicornServer):
        def command(self):
            return [sys.executable, "-c", "from lowcode.cli import main; main()", "--sites-path", self.bench,
                    "realtime", "--port", str(self.port)]

    ctx = mariadb_ctx
    user = make_user(unique, "rtalone", roles=("System Manager",))
    sid = session_for(ctx, user)
    proc = Standalone(bench, str(tmp_path / "realtime.log")).start()
    try:
        desk = Desk(proc, ctx.site, sid)
        assert desk.call("doctype_subscribe", "Lead") is True
        lead = make_lead("Alone", last_name=unique)
        ctx.db.commit()
        assert (desk.next("list_update") or {}).get("name") == lead.name, proc.log()
        desk.close()
    finally:
        proc.stop()
    assert os.path.exists(tmp_path / "realtime.log")


def test_a_connection_cannot_subscribe_without_limit(ctx, desks, unique, monkeypatch):
    """Each subscription costs a permission check: a connection holds at most MAX_ROOMS."""
    monkeypatch.setattr(rt, "MAX_ROOMS", 5)  # its own (sid), user:, website, all + one
    user = make_user(unique, "rtcap", roles=("System Manager",))
    desk = desks(session_for(ctx, user))
    assert desk.call("doctype_subscribe", "Lead") is True
    assert desk.call("doctype_subscribe", "Contact") is False


def test_a_connection_ends_with_its_session(ctx, service, desks, unique):
    user = make_user(unique, "rtlogout", roles=("System Manager",))
    sid_gone, sid_kept = session_for(ctx, user), session_for(ctx, user)
    gone, kept = desks(sid_gone), desks(sid_kept)
    auth.end_session(sid_gone)  # logged out in another tab
    ctx.db.commit()
    asyncio.run_coroutine_threadsafe(service.service.recheck_sessions(), service.service.loop).result(WAIT)
    deadline = time.monotonic() + WAIT
    while gone.client.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not gone.client.connected
    assert kept.client.connected and kept.call("doctype_subscribe", "Lead") is True


def test_serve_goes_on_without_realtime_when_its_port_is_taken(sqlite_site, bench, tmp_path):
    """``lowcode serve`` starts the service on socketio_port; should that port be taken,
    the desk is still served (without live updates) and the console says why."""
    import os
    import socket
    import sys
    from lowcode import sites
    from tests.server import UvicornServer

    class Serve(UvicornServer):
        def command(self):
            return [sys.executable, "-c", "from lowcode.cli import main; main()", "--sites-path", self.bench,
                    "serve", "--port", str(self.port)]

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    before = sites.common_config(bench)
    sites.update_common_config({"socketio_port": taken.getsockname()[1]}, bench)
    proc = Serve(bench, str(tmp_path / "serve.log"))
    try:
        proc.start()
        deadline = time.monotonic() + 30
        while "realtime service did not start" not in proc.log() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "realtime service did not start" in proc.log()
        assert proc.proc.poll() is None, "the web server keeps running"
    finally:
        proc.stop()
        taken.close()
        path = os.path.join(bench, "common_site_config.json")
        sites.write_json(path, before)


def test_desk_pages_load_the_client_and_allow_its_websocket(ctx, client, unique, monkeypatch):
    from lowcode.desk import assets
    from lowcode.tests.desk_helpers import login
    user = make_user(unique, "rtpage", roles=("System Manager",))
    login(ctx, client, user)
    page = client.get("/app/lead")
    html = page.content.decode()
    assert 'id="realtime"' in html and "socket.io.js" in html and "realtime.js" in html
    assert f"ws://{ctx.site}:9000" in page["Content-Security-Policy"]
    # Without the npm package (make install not run since it was added) the desk still works.
    monkeypatch.setitem(assets.VENDOR, "socket.io.js", "socket.io-client-not-installed/socket.io.min.js")
    page = client.get("/app/lead")
    assert page.status_code == 200 and 'id="realtime"' not in page.content.decode()
    assert "ws://" not in page["Content-Security-Policy"]
