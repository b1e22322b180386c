"""Rate limits: fixed-window counters in the site's cache (Redis when configured, so every
web process counts together; process memory without Redis, and while Redis is down:
limits then hold per process, logged once by caches).

One counter per (name, who, window): INCR + EXPIRE in one pipeline (``caches.RedisCache.incr``).
A fixed window is one key per window, so an answer's Retry-After is simply the time
left in it.

``check_api(request)`` is the REST API's limit (``/api/*``), from the site config::

    "rate_limit": {"limit": 300, "window": 60,      # requests per window per user (or API token's user)
                   "guest_limit": 60,               # per address for Guest (default: limit)
                   "ip_limit": 0,                   # per address for everyone, users too (default: none)
                   "exempt_roles": []}              # roles not limited (none by default: System Managers too)

No ``rate_limit`` in the config: no API limit. Login throttling (``auth.check_login``)
and the public forms' per-address limits (service_app) count in the same cache."""
import time

from .caches import cache
from .context import local
from .exceptions import TooManyRequestsError


def hit(name, who, limit, window, message=None):
    """Count one request of ``who`` under ``name`` in the current ``window`` (seconds);
    TooManyRequestsError (``message``, else an English one) with ``retry_after`` (seconds
    left in the window) past ``limit``."""
    now = time.time()
    slot = int(now // window)
    count = cache().incr(f"rl:{name}:{who}:{slot}", ttl=window + 1)
    if count > limit:
        error = TooManyRequestsError(message or f"Too many requests: at most {limit} per {window} seconds; "
                                     "try again later")
        error.retry_after = max(1, int((slot + 1) * window - now + 0.999))
        raise error
    return count


def api_settings():
    """The site's ``rate_limit`` config, or None (no limit)."""
    conf = local.conf.get("rate_limit")
    if not conf:
        return None
    limit = int(conf.get("limit") or 0)
    if limit <= 0:
        return None
    return {"limit": limit, "window": int(conf.get("window") or 60),
            "guest_limit": int(conf.get("guest_limit") or limit), "ip_limit": int(conf.get("ip_limit") or 0),
            "exempt_roles": set(conf.get("exempt_roles") or ())}


def check_api(request):
    """Count an /api request of the authenticated user (per user, whatever their address)
    or of a Guest (per address); 429 with Retry-After past the site's limit."""
    settings = api_settings()
    if settings is None or not request.path.startswith("/api/"):
        return
    address = request.META.get("REMOTE_ADDR") or "unknown"
    if local.user == "Guest":
        hit("api", "ip:" + address, settings["guest_limit"], settings["window"])
        return
    if settings["exempt_roles"]:
        from .permissions import get_roles
        if get_roles() & settings["exempt_roles"]:
            return
    if settings["ip_limit"]:  # many accounts (or tokens) used from one address
        hit("api-address", address, settings["ip_limit"], settings["window"])
    hit("api", "user:" + local.user, settings["limit"], settings["window"])
