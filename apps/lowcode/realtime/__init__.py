"""Realtime events for open desks, in the shape of Frappe's ``publish_realtime``.

``publish_realtime`` is what the rest of the product calls; it never blocks and never
fails the request that publishes. Events are sent after the transaction commits (so no
one sees a change that was rolled back) to Redis pub/sub when the site has Redis, and
to in-process listeners (the realtime service running inside the web process, tests)
always. Rooms follow Frappe's names: ``user:<user>``, ``doc:<doctype>/<name>``,
``doctype:<doctype>`` and ``all``.

``notify_update`` (a ``"*"`` doc_events hook of the engine) is the one place documents
announce themselves: ``doc_update`` to the document's room and ``list_update`` to its
DocType's after every insert, save, delete and rename. The realtime service
(``server.py``) checks each recipient's read permission before it delivers either."""
import json
import logging

from ..context import local

log = logging.getLogger("lowcode.realtime")
CHANNEL = "lowcode:realtime"
DEFAULT_PORT = 9000  # Frappe's socketio_port
_listeners = []
_warned = []  # the missing client is logged once per process


def desk_client():
    """What a desk page needs to reach the realtime service: its port (the bench's
    ``socketio_port``) and the page's Content-Security-Policy, which must allow a
    WebSocket to that port of the page's own host. None when the site turns it off
    (``disable_realtime``, Frappe's ``disable_async``)."""
    conf = local.conf or {}
    if conf.get("disable_realtime") or conf.get("disable_async") or local.request is None:
        return None
    from ..desk.assets import asset_url
    try:
        asset_url("socket.io.js")
    except FileNotFoundError:  # npm packages not (re)installed yet: the desk works, not live
        if not _warned:
            _warned.append(True)
            log.warning("socket.io-client is missing from node_modules (run make install): no live desk")
        return None
    from django.conf import settings
    port = int(conf.get("socketio_port") or DEFAULT_PORT)
    host = local.request.get_host()  # validated by Django
    host = host.split("]")[0] + "]" if host.startswith("[") else host.split(":")[0]
    sources = f"ws://{host}:{port} wss://{host}:{port}"
    return {"port": port, "csp": settings.CONTENT_SECURITY_POLICY.replace(
        "connect-src 'self'", f"connect-src 'self' {sources}")}


def room_for(*, room=None, user=None, doctype=None, docname=None):
    if room:
        return room
    if user:
        return f"user:{user}"
    if doctype and docname:
        return f"doc:{doctype}/{docname}"
    if doctype:
        return f"doctype:{doctype}"
    return "all"


def publish_realtime(event, message=None, *, room=None, user=None, doctype=None, docname=None,
                     after_commit=True):
    """Send ``event`` with ``message`` (JSON-able) to everyone in the room who may see it."""
    payload = {"site": local.site, "event": event, "message": message,
               "room": room_for(room=room, user=user, doctype=doctype, docname=docname)}
    return _queue(payload, after_commit)


def _queue(payload, after_commit=True):
    if after_commit and local.db is not None:
        local.db.after_commit(lambda: _send(payload))
    else:
        _send(payload)
    return payload


def muted():
    """Installs, migrations and bulk imports set one of these flags: thousands of writes
    nobody watches live must not each become two events."""
    flags = local.flags
    return bool(flags.get("mute_realtime") or flags.get("in_install") or flags.get("in_migrate")
                or flags.get("in_uninstall") or flags.get("in_import") or flags.get("in_patch"))


def notify_update(doc, method=None, *args):
    """doc_events["*"] on_change / after_delete / after_rename: tell open desks (Frappe's
    ``notify_update``). Child rows travel with their parent; a deleted document's last
    state rides along (never sent to clients) so the service can still decide who may
    have read it."""
    if doc.meta.istable or doc.meta.issingle or muted():
        return
    name = args[1] if method == "after_rename" and len(args) > 1 else doc.name
    message = {"doctype": doc.doctype, "name": name, "user": local.user, "modified": str(doc.get("modified") or "")}
    if method == "after_rename":
        message["old_name"] = args[0] if args else None
    if method == "after_delete":
        message["deleted"] = True
    for event, room in (("doc_update", room_for(doctype=doc.doctype, docname=name)),
                        ("list_update", room_for(doctype=doc.doctype))):
        payload = {"site": local.site, "event": event, "message": message, "room": room}
        if method == "after_delete":
            payload["doc"] = doc.as_dict()
        _queue(payload)


def redis_url(conf):
    """The Redis a site's realtime events travel through (Frappe's ``redis_socketio``), if any."""
    conf = conf or {}
    return conf.get("redis_socketio") or conf.get("redis_cache")


def add_listener(fn):
    """Call ``fn(payload)`` for every event published in this process."""
    _listeners.append(fn)
    return fn


def remove_listener(fn):
    if fn in _listeners:
        _listeners.remove(fn)


def _send(payload):
    for fn in list(_listeners):
        try:
            fn(payload)
        except Exception:
            log.exception("realtime listener %r failed", fn)
    url = redis_url(local.conf)
    if url:
        from ..caches import RedisUnavailable, guarded
        try:
            guarded(url, lambda client: client.publish(CHANNEL, json.dumps(payload, default=str)))
        except RedisUnavailable:
            pass  # Redis down (logged once by caches): live updates resume when it is back
        except Exception:
            log.exception("realtime publish to Redis failed")
