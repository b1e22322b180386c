"""Caches: Redis when the site is configured with ``redis_cache``, process memory
otherwise. Keys are prefixed with the site so sites never share entries.

The metadata version lives in the site database (a row of ``tabSeries``), not in the
cache: it changes in the same transaction as the metadata, so no process can see
the new version before the new definitions are committed.

Redis stopped: the cache is bypassed, never fatal. Every call catches the connection
errors (short socket timeouts make a dead Redis cost milliseconds), the first failure
logs one warning for the outage and opens a breaker that skips Redis for
BREAKER_SECONDS, and reads miss (callers read the database), writes and deletes are
dropped. A delete dropped during the outage would leave a stale entry behind, so the
first call for a site that met the outage, once Redis answers again, deletes the
site's keys before anything else. Counters (``incr``/``counter``: rate limits and
login throttling) fall back to process memory meanwhile: limits stay, per process."""
import logging
import pickle
import threading
import time

from .context import local

log = logging.getLogger("lowcode.caches")
META_VERSION_KEY = "__meta_version__"
CONNECT_TIMEOUT = 0.25    # seconds: a stopped Redis refuses at once, an unreachable host costs this
SOCKET_TIMEOUT = 0.5      # seconds per call on the request path: a hung Redis, not a busy one (answers in ~1 ms)
BREAKER_SECONDS = 5.0     # after a failure, Redis is not asked again for this long
_redis_clients = {}
_fast_clients = {}
_health = {}              # url -> _Health
_memory = {}
_memory_lock = threading.Lock()


class RedisUnavailable(Exception):
    """Redis did not answer (stopped, unreachable, timed out) or the breaker is open."""


class _Health:
    """One Redis server's state in this process: the breaker, whether an outage is
    being logged, and the sites (key prefixes) whose keys must go when it is back."""

    def __init__(self):
        self.down_until = 0.0
        self.in_outage = False
        self.stale_prefixes = set()


def _redis_errors():
    import redis
    return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def guarded(url, call, prefix=None):
    """``call(client)`` on the fast client of ``url``, or RedisUnavailable. ``prefix``
    (a site's) is remembered as stale when the call fails, and its keys are deleted at
    the first call that finds Redis back."""
    health = _health.setdefault(url, _Health())
    if health.down_until > time.monotonic():
        if prefix is not None:
            health.stale_prefixes.add(prefix)
        raise RedisUnavailable(url)
    client = fast_client(url)
    try:
        if prefix is not None and prefix in health.stale_prefixes:
            _delete_prefix(client, prefix)  # deletes dropped in the outage: nothing stale survives it
            health.stale_prefixes.discard(prefix)
        result = call(client)
    except _redis_errors() as e:
        health.down_until = time.monotonic() + BREAKER_SECONDS
        if prefix is not None:
            health.stale_prefixes.add(prefix)
        if not health.in_outage:
            health.in_outage = True
            log.warning("Redis at %s is unavailable (%s): caches bypassed, counters in process memory, "
                        "jobs run in this process until it is back", _safe(url), e)
        raise RedisUnavailable(url) from e
    if health.in_outage:
        health.in_outage = False
        log.warning("Redis at %s is back", _safe(url))
    return result


def _safe(url):
    """The URL without a password, for logs."""
    scheme, sep, rest = url.partition("://")
    return scheme + sep + rest.rpartition("@")[2]


def _delete_prefix(client, full_prefix):
    batch = []
    for key in client.scan_iter(match=full_prefix + "*", count=500):
        batch.append(key)
        if len(batch) == 500:
            client.delete(*batch)
            batch = []
    if batch:
        client.delete(*batch)


class MemoryCache:
    def __init__(self, prefix):
        self.prefix = prefix

    def get(self, key):
        item = _memory.get(self.prefix + key)
        if item is None:
            return None
        value, expires = item
        if expires and expires < time.monotonic():
            _memory.pop(self.prefix + key, None)
            return None
        return value

    def set(self, key, value, ttl=None):
        _memory[self.prefix + key] = (value, time.monotonic() + ttl if ttl else None)

    def delete(self, *keys):
        for key in keys:
            _memory.pop(self.prefix + key, None)

    def incr(self, key, ttl=None, amount=1):
        with _memory_lock:
            value = (self.get(key) or 0) + amount
            self.set(key, value, ttl)
            return value

    def delete_prefix(self, prefix):
        full = self.prefix + prefix
        for key in [k for k in list(_memory) if k.startswith(full)]:
            _memory.pop(key, None)

    def counter(self, key):
        """The current value of an ``incr`` counter (0 when none)."""
        return self.get(key) or 0


class RedisCache:
    """The site's keys in Redis; every call bypasses Redis while it is down (see above)."""

    def __init__(self, url, prefix):
        self.url = url
        self.prefix = prefix

    def _run(self, call, default=None):
        try:
            return guarded(self.url, call, self.prefix)
        except RedisUnavailable:
            return default

    def get(self, key):
        raw = self._run(lambda c: c.get(self.prefix + key))
        if raw is None:
            return None
        return int(raw) if raw.isdigit() else pickle.loads(raw)  # incr() stores a plain integer

    def set(self, key, value, ttl=None):
        data = pickle.dumps(value)
        self._run(lambda c: c.set(self.prefix + key, data, ex=ttl))

    def delete(self, *keys):
        if keys:
            MemoryCache(self.prefix).delete(*keys)  # counters kept in memory during an outage go too
            self._run(lambda c: c.delete(*(self.prefix + k for k in keys)))

    def incr(self, key, ttl=None, amount=1):
        def call(client):
            pipe = client.pipeline()
            pipe.incr(self.prefix + key, amount)
            if ttl:
                pipe.expire(self.prefix + key, ttl)
            return pipe.execute()[0]
        try:
            return guarded(self.url, call, self.prefix)
        except RedisUnavailable:  # rate limits hold per process meanwhile (fail open across processes)
            return MemoryCache(self.prefix).incr(key, ttl, amount)

    def counter(self, key):
        try:
            raw = guarded(self.url, lambda c: c.get(self.prefix + key), self.prefix)
        except RedisUnavailable:
            return MemoryCache(self.prefix).counter(key)
        return int(raw) if raw is not None and raw.isdigit() else 0

    def delete_prefix(self, prefix):
        self._run(lambda c: _delete_prefix(c, self.prefix + prefix))


def redis_client(url):
    """A client with redis-py's default (blocking) timeouts: RQ workers' long polls."""
    client = _redis_clients.get(url)
    if client is None:
        import redis
        client = redis.Redis.from_url(url)
        _redis_clients[url] = client
    return client


def fast_client(url):
    """A client for the request path (cache, counters, locks, enqueueing): short connect
    and socket timeouts, so a Redis that is down or hung costs milliseconds (then the breaker
    skips it). Site config ``redis_socket_timeout`` (seconds) overrides SOCKET_TIMEOUT."""
    client = _fast_clients.get(url)
    if client is None:
        import redis
        timeout = float((local.conf.get("redis_socket_timeout") if local else None) or SOCKET_TIMEOUT)
        client = redis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=timeout)
        _fast_clients[url] = client
    return client


def cache():
    """The current site's cache."""
    url = local.conf.get("redis_cache")
    prefix = f"{local.site}|"
    if url:
        return RedisCache(url, prefix)
    return MemoryCache(prefix)


def get_meta_version():
    try:
        rows = local.db.sql("SELECT `current` FROM `tabSeries` WHERE `name`=%s", (META_VERSION_KEY,))
    except Exception as e:  # noqa: BLE001
        if local.db.is_missing_table(e):
            return 0
        raise
    return rows[0][0] if rows else 0


def bump_meta_version():
    return local.db.next_series_value(META_VERSION_KEY)


PERM_VERSION_KEY = "__perm_version__"


def get_versions():
    """(metadata version, permissions version) in one round trip: every request reads
    them, so other processes' changes are seen at the next request."""
    try:
        rows = dict(local.db.sql("SELECT `name`, `current` FROM `tabSeries` WHERE `name` IN (%s, %s)",
                                 (META_VERSION_KEY, PERM_VERSION_KEY)))
    except Exception as e:  # noqa: BLE001
        if local.db.is_missing_table(e):
            return 0, 0
        raise
    return rows.get(META_VERSION_KEY, 0), rows.get(PERM_VERSION_KEY, 0)


def bump_perm_version():
    """A user's roles or User Permissions changed: processes drop their memos of them."""
    return local.db.next_series_value(PERM_VERSION_KEY)


# -- small maps every document event reads ------------------------------------------------------
# (e.g. which DocTypes have webhooks or notifications): kept in the site's cache until the
# configuration changes, and memoised for the request so a save with several events asks
# Redis once, not once per event.

MAP_SECONDS = 600  # a map is read again at least this often: a delete lost with a process in a Redis outage


def cached_map(key, load):
    """The value under ``key``: the request's memo, else the site cache, else ``load()``."""
    found = local.cache.get(key)
    if found is not None:
        return found
    c = cache()
    found = c.get(key)
    if found is None:
        found = load()
        c.set(key, found, ttl=MAP_SECONDS)
    local.cache[key] = found
    return found


def forget_map(key):
    """The configuration behind ``key`` changed: forget it now, and again when the
    transaction ends (a map read meanwhile may hold uncommitted rows, or miss them after
    a rollback)."""
    def forget():
        cache().delete(key)
        local.cache.pop(key, None)
    forget()
    local.db.after_commit(forget)
    local.db.after_rollback(forget)


# -- records memoised for the request or job ------------------------------------------------------
# What every save of a document reads but hardly ever changes (a Single's settings, the enabled
# rules of a DocType, that a linked record exists): read once per request or job (a Data Import
# of 100k leads is one job) instead of once per document. The memo dies with the context, and
# any write of a record of the DocType through the document path (insert, save, delete, rename)
# or lowcode.db (set_value, delete) forgets that DocType's entries, and nothing of it is kept
# again until the transaction ends (a rollback may undo what was read meanwhile): the writer and
# whatever runs after it read the new state. Raw SQL writes are not seen: write through those.

_RECORD_MEMO = "_record_memo"
_RECORD_MEMO_PENDING = "_record_memo_pending"


def memo_records(doctype, key, load):
    """``load()``'s value, kept for the request or job under (``doctype``, ``key``) until a
    record of ``doctype`` is written (``forget_records``). ``load`` must read only records of
    ``doctype``. A None result is not kept, nor anything read after a write of ``doctype`` in
    the transaction (until it ends: a rollback may undo what was read)."""
    if doctype in local.cache.get(_RECORD_MEMO_PENDING, ()):
        return load()
    memo = local.cache.setdefault(_RECORD_MEMO, {}).setdefault(doctype, {})
    if key in memo:
        return memo[key]
    found = load()
    if found is not None:
        memo[key] = found
    return found


def forget_records(doctype):
    """A record of ``doctype`` was written: its memoised values are read again, now and
    when the transaction (or the savepoint it sits in) ends."""
    memo = local.cache.get(_RECORD_MEMO)
    if memo:
        memo.pop(doctype, None)
    pending = local.cache.setdefault(_RECORD_MEMO_PENDING, set())
    if doctype in pending:  # the callbacks are queued already (one pair per DocType, not per write)
        return
    pending.add(doctype)

    def forget():  # the transaction ended: what is read from now on may be kept again
        (local.cache.get(_RECORD_MEMO) or {}).pop(doctype, None)
        pending.discard(doctype)
    local.db.after_commit(forget)
    local.db.after_rollback(forget)


def forgettable_doctypes():
    """The DocTypes with memoised records (a rename, which moves links in many, forgets them all)."""
    return list(local.cache.get(_RECORD_MEMO) or ())
