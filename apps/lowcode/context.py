"""The per-request (or per-job, per-command) context: which site, which user, which
database connection, and flags.

``local`` reads through a ContextVar so concurrent requests in threads or tasks never
see each other's state. ``lowcode.init(site)`` opens a context; ``lowcode.destroy()``
closes it.
"""
import contextvars

from .utils import Obj

_state = contextvars.ContextVar("lowcode_state", default=None)


class State:
    __slots__ = ("site", "bench", "conf", "db", "user", "flags", "request", "session",
                 "cache", "lang", "__dict__")

    def __init__(self, site, bench, conf):
        self.site = site
        self.bench = bench
        self.conf = conf
        self.db = None
        self.user = "Guest"
        self.flags = Obj()  # transient flags: local.flags.in_install
        self.request = None
        self.session = None
        self.lang = conf.get("lang", "en")
        # Per request (or job, or command) memo: roles, user permissions, desk
        # preferences. It dies with the context, so nothing leaks between users or sites.
        self.cache = {}


class _Local:
    """Proxy: ``local.site``, ``local.db``... read the current State. (Never use
    ``local.__dict__``: that is the proxy's own, shared by every request; per-request
    memos go in ``local.cache``.)"""

    def __getattr__(self, name):
        state = _state.get()
        if state is None:
            raise RuntimeError(f"No site context: call lowcode.init(site) before using local.{name}")
        return getattr(state, name)

    def __setattr__(self, name, value):
        state = _state.get()
        if state is None:
            raise RuntimeError("No site context: call lowcode.init(site) first")
        setattr(state, name, value)

    def __bool__(self):
        return _state.get() is not None


local = _Local()


def get_state():
    return _state.get()


def set_state(state):
    return _state.set(state)


def reset_state(token):
    _state.reset(token)
