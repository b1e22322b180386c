"""The realtime service: Socket.IO over WebSocket on its own port (the bench's
``socketio_port``, 9000 by default), speaking Frappe's protocol so frappe-react-sdk and
the desk's realtime.js work alike.

- A client connects to the namespace ``/<site>`` (Frappe v15), or to ``/`` and the Host
  header picks the site. Its ``Origin`` must be the site's own host (cross-site WebSocket
  hijacking), and its desk session cookie must be valid (checked by the engine's own
  ``auth.get_session``); guests are refused.
- Each user joins ``user:<self>`` (and ``all`` for desk users); ``doc_subscribe`` joins a
  document's room only with read permission on it, ``doctype_subscribe`` a DocType's
  with read permission on the DocType.
- ``doc_update`` and ``list_update`` go to each member of the room only if that user may
  read the document as it is now (row rules included), decided in a worker thread (the
  engine is synchronous) and remembered for a few seconds per user and version.
- Events arrive from Redis pub/sub (channel ``lowcode:realtime``) for sites with Redis,
  and from ``add_listener`` in this process for sites without (``lowcode serve`` runs
  this service on a thread of the web process); never from both.
- The apps' ``realtime_services`` hooks (``async def fn(site, bench)``) run once per site (a
  site with Redis: on one realtime service of all hosts, the holder of a lease) and are
  restarted with back-off when they fail.
"""
import asyncio
import functools
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import socketio
import socketio.exceptions
from django.http.cookie import parse_cookie

import lowcode
from .. import sites
from . import CHANNEL, DEFAULT_PORT, add_listener, redis_url, remove_listener

log = logging.getLogger("lowcode.realtime")
PERMISSION_TTL = 10          # seconds a recipient's read decision on one version is reused
CHECKED_EVENTS = ("doc_update", "list_update")
UNSUPPORTED_EVENTS = ("eval_js",)  # Frappe's: running server-sent code in the browser
MAX_BACKOFF = 60
MAX_ROOMS = 200              # subscriptions per connection (each costs a permission check)
SESSION_RECHECK = 60         # seconds between checks that connected sessions still exist
LEASE_SECONDS = 30           # a realtime service's lease in Redis: another host takes over within this


def socketio_port(bench=None):
    """The bench's realtime port (Frappe's ``socketio_port`` in common_site_config.json)."""
    return int(sites.common_config(bench).get("socketio_port") or DEFAULT_PORT)


def _hostname(value):
    """``host[:port]`` or a URL -> the lower-case host name without port."""
    if not value:
        return ""
    if "://" not in value:
        value = "//" + value
    try:
        return (urlsplit(value).hostname or "").lower()
    except ValueError:
        return ""


def _room(site, room):
    # Namespace "/" is shared by every site: room names carry the site.
    return f"{site}|{room}"


class Refused(socketio.exceptions.ConnectionRefusedError):
    pass


class RealtimeServer:
    def __init__(self, bench=None, in_process=False):
        self.bench = sites.bench_path(bench)
        self.in_process = in_process
        self.sio = socketio.AsyncServer(async_mode="asgi", namespaces="*", cors_allowed_origins=self.origin_allowed,
                                        cors_credentials=True, transports=["websocket", "polling"])
        self.app = socketio.ASGIApp(self.sio, on_startup=self.startup, on_shutdown=self.shutdown)
        self.pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="realtime-check")
        self.loop = None
        self.tasks = []
        self._redis = {}
        self.readers = {}  # Redis URL -> (task, subscribed Event)
        self.decisions = {}  # (site, user, doctype, name, modified) -> (expires, allowed)
        self.started = threading.Event()
        for event in ("connect", "doc_subscribe", "doc_unsubscribe", "doctype_subscribe", "doctype_unsubscribe",
                      "ping"):
            self.sio.on(event, getattr(self, "on_" + event), namespace="*")

    # -- sites ---------------------------------------------------------------------------
    def site_redis(self, site):
        """The site's Redis (its events come from there), or None; read once per site."""
        if site not in self._redis:
            try:
                self._redis[site] = redis_url(sites.get_site_config(site, self.bench))
            except Exception:  # noqa: BLE001 - not a site of this bench
                return None
        return self._redis[site]

    def site_for(self, namespace, environ):
        """The site a connection is for: the one its Host serves, which the namespace (if
        any) must name."""
        try:
            site = sites.resolve_site(environ.get("HTTP_HOST"), self.bench)
        except Exception:  # noqa: BLE001 - SiteNotFound, a bad Host
            raise Refused("no site is served at this host")
        if namespace not in ("/", f"/{site}"):
            raise Refused("the namespace does not name this host's site")
        return site

    def origin_allowed(self, origin, environ=None):
        """Browsers always send Origin on a WebSocket: it must be the site's own host
        (any port: the desk is on the web port, this service on its own). Clients that
        are not browsers send none."""
        if not origin:
            return True
        host = _hostname((environ or {}).get("HTTP_HOST"))
        return bool(host) and _hostname(origin) == host

    async def run(self, fn, *args):
        """Engine code (synchronous, a database connection) off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self.pool, functools.partial(fn, *args))

    # -- connection and subscriptions ----------------------------------------------------
    async def on_connect(self, namespace, sid, environ, auth=None):
        if not self.origin_allowed(environ.get("HTTP_ORIGIN"), environ):
            raise Refused("origin not allowed")
        site = self.site_for(namespace, environ)
        from ..auth import SESSION_COOKIE
        # Parsed as the web server parses it (Django), so both read the same session.
        session_id = parse_cookie(environ.get("HTTP_COOKIE") or "").get(SESSION_COOKIE)
        user, user_type = await self.run(self._session_user, site, session_id)
        if not user:
            raise Refused("not logged in")
        subscribed = self.watch_redis(site)
        if subscribed is not None:
            try:  # so that nothing published after the connection is missed
                await asyncio.wait_for(subscribed.wait(), 5)
            except asyncio.TimeoutError:
                log.warning("realtime: %s's Redis is not answering yet", site)
        await self.sio.save_session(sid, {"site": site, "user": user, "sid": session_id}, namespace=namespace)
        await self.sio.enter_room(sid, _room(site, f"user:{user}"), namespace=namespace)
        await self.sio.enter_room(sid, _room(site, "website"), namespace=namespace)
        if user_type == "System User":
            await self.sio.enter_room(sid, _room(site, "all"), namespace=namespace)
        return True

    def _session_user(self, site, sid):
        from ..auth import get_session
        with lowcode.site_context(site, self.bench, user="Guest") as local:
            session = get_session(sid)
            if session is None:
                return None, None
            rows = local.db.sql("SELECT `user_type` FROM `tabUser` WHERE `name`=%s", (session.user,))
            return session.user, (rows[0][0] if rows else None) or "System User"

    async def recheck_sessions(self):
        """Disconnect sockets whose desk session ended (logout, password change, disabled
        user): a connection lives no longer than the session that opened it."""
        by_session = {}  # (site, session id) -> [(namespace, sid)]
        for namespace in list(self.sio.manager.rooms):
            for sid, _eio in list(self.sio.manager.get_participants(namespace, None)):
                session = await self._session(sid, namespace)
                if session:
                    by_session.setdefault((session["site"], session["sid"]), []).append((namespace, sid))
        for (site, session_id), sockets in by_session.items():
            try:
                user, _ = await self.run(self._session_user, site, session_id)
            except Exception:  # noqa: BLE001 - the database is away: try again next time
                log.exception("realtime: cannot check sessions of %s", site)
                continue
            if not user:
                for namespace, sid in sockets:
                    await self.sio.disconnect(sid, namespace=namespace)

    async def _recheck_forever(self):
        while True:
            await asyncio.sleep(SESSION_RECHECK)
            try:
                await self.recheck_sessions()
            except Exception:  # noqa: BLE001 - logged; the next round tries again
                log.exception("realtime: session check failed")

    async def _session(self, sid, namespace):
        try:
            return await self.sio.get_session(sid, namespace=namespace)
        except KeyError:
            return None

    @staticmethod
    def _names(*values):
        """Subscription arguments: short strings (Frappe's client sends them positionally)."""
        if not values or not all(isinstance(v, str) and 0 < len(v) <= 140 for v in values):
            return None
        return values

    def _room_full(self, sid, namespace):
        return len(self.sio.rooms(sid, namespace=namespace)) >= MAX_ROOMS

    async def on_doc_subscribe(self, namespace, sid, doctype=None, name=None, *rest):
        session, names = await self._session(sid, namespace), self._names(doctype, name)
        if not session or not names or self._room_full(sid, namespace):
            return False
        allowed = await self.run(self._may_read_doc, session["site"], session["user"], doctype, name)
        if allowed:
            await self.sio.enter_room(sid, _room(session["site"], f"doc:{doctype}/{name}"), namespace=namespace)
        return allowed

    async def on_doc_unsubscribe(self, namespace, sid, doctype=None, name=None, *rest):
        session, names = await self._session(sid, namespace), self._names(doctype, name)
        if session and names:
            await self.sio.leave_room(sid, _room(session["site"], f"doc:{doctype}/{name}"), namespace=namespace)

    async def on_doctype_subscribe(self, namespace, sid, doctype=None, *rest):
        session, names = await self._session(sid, namespace), self._names(doctype)
        if not session or not names or self._room_full(sid, namespace):
            return False
        allowed = await self.run(self._may_read_doctype, session["site"], session["user"], doctype)
        if allowed:
            await self.sio.enter_room(sid, _room(session["site"], f"doctype:{doctype}"), namespace=namespace)
        return allowed

    async def on_doctype_unsubscribe(self, namespace, sid, doctype=None, *rest):
        session, names = await self._session(sid, namespace), self._names(doctype)
        if session and names:
            await self.sio.leave_room(sid, _room(session["site"], f"doctype:{doctype}"), namespace=namespace)

    async def on_ping(self, namespace, sid, *args):
        await self.sio.emit("pong", to=sid, namespace=namespace)

    def _may_read_doctype(self, site, user, doctype):
        from ..permissions import has_permission
        with lowcode.site_context(site, self.bench, user=user):
            try:
                return has_permission(doctype, "read")
            except Exception:  # noqa: BLE001 - no such DocType
                return False

    def _may_read_doc(self, site, user, doctype, name):
        return self._readers(site, doctype, name, None, [user]).get(user, False)

    def _readers(self, site, doctype, name, snapshot, users):
        """Which of ``users`` may read the document: as stored, else (deleted) as it was."""
        from ..document import Document, load_doc
        from ..exceptions import LowcodeError
        from ..permissions import has_permission
        with lowcode.site_context(site, self.bench):
            try:
                doc = load_doc(doctype, name)
            except LowcodeError:
                try:
                    doc = Document(snapshot) if snapshot else None
                except LowcodeError:
                    doc = None
            decided = {}
            for user in users:
                if doc is None:
                    decided[user] = False
                    continue
                lowcode.set_user(user)
                decided[user] = bool(has_permission(doctype, "read", doc=doc, user=user))
            return decided

    # -- delivery ------------------------------------------------------------------------
    def on_publish(self, payload):
        """add_listener callback, in whichever thread committed: hand the event to the loop,
        unless the site's events come through Redis."""
        if self.loop is None or self.site_redis(payload.get("site")):
            return
        self.loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self.deliver(payload)))

    async def deliver(self, payload):
        site, event, room = payload.get("site"), payload.get("event"), payload.get("room") or "all"
        message = payload.get("message")
        if not site or not isinstance(event, str) or event in UNSUPPORTED_EVENTS:
            return
        key = _room(site, room)
        namespaces = ["/", f"/{site}"]
        if event not in CHECKED_EVENTS or not isinstance(message, dict) or not message.get("doctype"):
            for ns in namespaces:
                await self.sio.emit(event, message, room=key, namespace=ns)
            return
        members = {}  # user -> [(namespace, sid)]
        for ns in namespaces:
            for sid, _eio in list(self.sio.manager.get_participants(ns, key)):
                session = await self._session(sid, ns)
                if session:
                    members.setdefault(session["user"], []).append((ns, sid))
        if not members:
            return
        allowed = await self.decide(site, message, payload.get("doc"), list(members))
        for user, targets in members.items():
            if allowed.get(user):
                for ns, sid in targets:
                    await self.sio.emit(event, message, to=sid, namespace=ns)

    async def decide(self, site, message, snapshot, users):
        doctype, name, version = message.get("doctype"), message.get("name"), message.get("modified")
        now = time.monotonic()
        decided, unknown = {}, []
        for user in users:
            hit = self.decisions.get((site, user, doctype, name, version))
            if hit and hit[0] > now:
                decided[user] = hit[1]
            else:
                unknown.append(user)
        if unknown:
            try:
                fresh = await self.run(self._readers, site, doctype, name, snapshot, unknown)
            except Exception:  # noqa: BLE001 - a failed check delivers nothing
                log.exception("realtime: permission check failed for %s %s", doctype, name)
                fresh = {}
            if len(self.decisions) > 50000:
                self.decisions = {k: v for k, v in self.decisions.items() if v[0] > now}
            for user in unknown:
                decided[user] = fresh.get(user, False)
                self.decisions[(site, user, doctype, name, version)] = (now + PERMISSION_TTL, decided[user])
        return decided

    def watch_redis(self, site):
        """Subscribe to the site's Redis (once per server; also for sites made after the
        start); returns an Event set once subscribed, or None without Redis."""
        url = self.site_redis(site)
        if not url:
            return None
        if url not in self.readers:
            subscribed = asyncio.Event()
            self.readers[url] = (asyncio.ensure_future(self.read_redis(url, subscribed)), subscribed)
        return self.readers[url][1]

    async def read_redis(self, url, subscribed):
        """Events of the sites that use this Redis, for as long as the service runs."""
        import redis.asyncio as aioredis
        backoff = 1
        while True:
            client = aioredis.Redis.from_url(url)
            try:
                pubsub = client.pubsub()
                await pubsub.subscribe(CHANNEL)
                subscribed.set()
                backoff = 1
                async for item in pubsub.listen():
                    if item.get("type") != "message":
                        continue
                    try:
                        payload = json.loads(item["data"])
                    except (TypeError, ValueError):
                        continue
                    if isinstance(payload, dict) and self.site_redis(payload.get("site")) == url:
                        await self.deliver(payload)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - Redis restarting: subscribe again
                log.exception("realtime: Redis subscription to %s failed; retrying in %ss", url, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
            finally:
                await client.aclose()

    # -- services --------------------------------------------------------------------------
    def _services(self, site):
        with lowcode.site_context(site, self.bench):
            return list(lowcode.get_hooks("realtime_services") or [])

    async def supervise(self, site, path):
        """Run ``path(site, bench)`` until cancelled; restart it with back-off when it fails or
        ends. A site with Redis runs it on one realtime service of all hosts (``lead``)."""
        if self.site_redis(site):
            await self.lead(site, path)
        else:
            await self.keep_running(site, path)

    async def lead(self, site, path):
        """Run ``path`` for ``site`` only while this service holds its lease in Redis
        (redis-py's Lock: SET NX PX with a token, renewed every third of LEASE_SECONDS), so
        realtime services on several hosts run one AMI listener per site, not one each. When
        the holder stops, its lease is released; when it dies, the lease lapses and another
        host takes over. While Redis is down the holder keeps running and the others wait."""
        from ..caches import fast_client
        url = self.site_redis(site)
        lease = fast_client(url).lock(f"{site}|realtime-service:{path}", timeout=LEASE_SECONDS, blocking=False,
                                      thread_local=False)
        while True:
            if not await self.run(_lease_call, url, lease.acquire, False):
                await asyncio.sleep(LEASE_SECONDS / 3)
                continue
            task = asyncio.ensure_future(self.keep_running(site, path))
            try:
                while True:
                    await asyncio.sleep(LEASE_SECONDS / 3)
                    if not await self.run(_lease_call, url, lease.reacquire, True):
                        log.warning("realtime service %s for %s: its lease went to another host", path, site)
                        break
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                await self.run(_lease_call, url, lease.release, None)

    async def keep_running(self, site, path):
        from ..apps import get_attr
        backoff = 1
        while True:
            started = time.monotonic()
            try:
                await get_attr(path)(site, self.bench)
                log.warning("realtime service %s for %s ended; restarting in %ss", path, site, backoff)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - logged, then restarted
                log.exception("realtime service %s for %s failed; restarting in %ss", path, site, backoff)
            if time.monotonic() - started > MAX_BACKOFF:
                backoff = 1  # it ran a good while: a fresh failure starts the back-off again
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)

    # -- lifespan --------------------------------------------------------------------------
    async def startup(self):
        self.loop = asyncio.get_running_loop()
        self.tasks.append(asyncio.ensure_future(self._recheck_forever()))
        bench_sites = sites.list_sites(self.bench)
        if self.in_process:
            add_listener(self.on_publish)
        else:
            without = [s for s in bench_sites if not self.site_redis(s)]
            if without:
                log.warning("realtime: %s have no Redis: their events reach only a service running inside "
                            "the web server (lowcode serve)", ", ".join(without))
        for site in bench_sites:
            self.watch_redis(site)
        for site in bench_sites:
            try:
                paths = await self.run(self._services, site)
            except Exception:  # noqa: BLE001 - a broken site must not stop the others
                log.exception("realtime: cannot read %s's realtime_services", site)
                continue
            for path in paths:
                self.tasks.append(asyncio.ensure_future(self.supervise(site, path)))
        self.started.set()

    async def shutdown(self):
        remove_listener(self.on_publish)
        tasks = self.tasks + [task for task, _ in self.readers.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.tasks, self.readers = [], {}
        self.pool.shutdown(wait=False)


def _lease_call(url, call, when_down):
    """``call()`` of a realtime service's Redis lease: its answer, False when the lease is not
    (or no longer) ours, ``when_down`` while Redis does not answer."""
    from redis.exceptions import LockError
    from ..caches import RedisUnavailable, guarded
    try:
        return guarded(url, lambda client: call())
    except RedisUnavailable:
        return when_down
    except LockError:
        return False


class Running:
    """A realtime service on a thread of this process (``lowcode serve``, tests)."""

    def __init__(self, service, server, thread):
        self.service, self.server, self.thread = service, server, thread

    def stop(self, timeout=10):
        self.server.should_exit = True
        self.thread.join(timeout)


def _uvicorn(service, host, port):
    import uvicorn
    config = uvicorn.Config(service.app, host=host, port=port, lifespan="on", log_level="warning",
                            ws="websockets-sansio", proxy_headers=False)
    return uvicorn.Server(config)


def serve(host="127.0.0.1", port=None, bench=None):
    """Run the service standalone (``lowcode realtime``) until interrupted."""
    service = RealtimeServer(bench)
    _uvicorn(service, host, port or socketio_port(bench)).run()


def start_in_thread(host="127.0.0.1", port=None, bench=None, sockets=None, timeout=30):
    """Start the service on its own thread and event loop, fed in-process; returns once it
    listens (or raises)."""
    service = RealtimeServer(bench, in_process=True)
    server = _uvicorn(service, host, port or socketio_port(bench))

    def run():
        try:
            server.run(sockets=sockets)
        except BaseException:  # noqa: BLE001 - e.g. the port is taken: logged, the web server goes on
            log.exception("realtime service stopped")

    thread = threading.Thread(target=run, name="lowcode-realtime", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not (server.started and service.started.is_set()):
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the realtime service did not start on {host}:{port}")
        time.sleep(0.02)
    return Running(service, server, thread)
