"""Realtime events for open desks, in the shape of Frappe's ``publish_realtime``.

``publish_realtime`` is what the rest of the product calls; it never blocks and never
fails the request that publishes. Events are sent after the transaction commits (so no
one sees a change that was rolled back) to Redis pub/sub when the site has Redis, and
to in-process listeners (the realtime service running inside the web process, tests)
always. Rooms follow Frappe's names: ``user:<user>``, ``doc:<doctype>/<name>``,
``doctype:<doctype>`` and ``all``."""
import json
import logging

from ..context import local

log = logging.getLogger("lowcode.realtime")
CHANNEL = "lowcode:realtime"
_listeners = []


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
    if after_commit and local.db is not None:
        local.db.after_commit(lambda: _send(payload))
    else:
        _send(payload)
    return payload


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
    url = (local.conf or {}).get("redis_socketio") or (local.conf or {}).get("redis_cache")
    if url:
        try:
            from ..caches import redis_client
            redis_client(url).publish(CHANNEL, json.dumps(payload, default=str))
        except Exception:
            log.exception("realtime publish to Redis failed")
