"""``/api/method/lowcode.health``: is this site able to serve? A GET that never writes.

Checks the site's database (``SELECT 1`` on a connection of its own), its Redis servers
(``PING``) when configured, and, with a job queue in Redis, that some RQ worker is
registered with a recent heartbeat; it reports queue lengths and the oldest queued
job's age beside them. 200 when every check passes, else 503 naming what failed.

Guests (a load balancer, anyone) get the overall status only; a System Manager, or a
caller sending ``Authorization: Bearer <health_token>`` (site config), gets each check's
result. The token lets monitoring see details even when the database, which a login
needs, is down."""
import datetime
import functools
import hmac
import time

from ..jobs import QUEUES, queue_name, redis_url
from ..sites import get_site_config, list_sites

# A hung server must not hang the check: the load balancer's own timeout is a few seconds.
REDIS_TIMEOUT = 2


def check_site(site, bench):
    """{check: result}: each check's outcome (``ok`` plus what it found)."""
    conf = get_site_config(site, bench)
    checks = {"database": _timed(_check_database)}
    urls = _site_redis_urls(conf)
    for label, url in urls.items():
        checks[label] = _timed(lambda: _client(url).ping() and {})
    queue_url = redis_url(conf)
    if queue_url and checks.get(_label_of(urls, queue_url), {}).get("ok"):
        checks["workers"] = _timed(lambda: _check_workers(queue_url))
    return checks


def _timed(check):
    started = time.perf_counter()
    try:
        result = {"ok": True, **(check() or {})}
    except Exception as e:  # noqa: BLE001 - a failed check is the answer, never a 500
        result = {"ok": False, "error": f"{type(e).__name__}: {e}"[:300]}
    if result.pop("failed", False):
        result["ok"] = False
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def _check_database():
    """A connection of its own (not the request pool's), read-only, closed at once."""
    import lowcode
    from ..context import local
    db = lowcode.connect()
    try:
        db.set_read_only(True)
        db.sql("SELECT 1")
        db.rollback()
    finally:
        db.close()
        local.db = None
    return {}


def _site_redis_urls(conf):
    """{"redis": url} or, when cache and queue are different servers, one check each."""
    cache_url, queue_url = conf.get("redis_cache"), conf.get("redis_queue")
    if cache_url and queue_url and cache_url != queue_url:
        return {"redis_cache": cache_url, "redis_queue": queue_url}
    url = cache_url or queue_url
    return {"redis": url} if url else {}


def _label_of(urls, url):
    return next(label for label, u in urls.items() if u == url)


def _check_workers(url):
    stats = queue_stats(url)
    alive = live_workers(url)
    result = {"alive": alive, "queues": stats}
    if not alive:
        result.update(failed=True, error="no RQ worker with a recent heartbeat listens to the queues")
    return result


@functools.lru_cache(maxsize=64)
def _client(url):
    """A client with short timeouts, for checks and scrapes only."""
    import redis
    return redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT)


def queue_stats(url):
    """{queue: {length, oldest_age_seconds, failed}} for the engine's queues on ``url``."""
    from rq import Queue
    conn = _client(url)
    now = datetime.datetime.now(datetime.timezone.utc)
    stats = {}
    for name in QUEUES:
        q = Queue(queue_name(name, url), connection=conn)
        oldest = None
        first = q.get_job_ids(0, 1)  # a queue is FIFO (at_front jobs aside): its head waited longest
        job = q.fetch_job(first[0]) if first else None
        if job is not None and job.enqueued_at is not None:
            enqueued = job.enqueued_at if job.enqueued_at.tzinfo else job.enqueued_at.replace(
                tzinfo=datetime.timezone.utc)
            oldest = round(max(0.0, (now - enqueued).total_seconds()), 3)
        stats[name] = {"length": q.count, "oldest_age_seconds": oldest, "failed": q.failed_job_registry.count}
    return stats


def live_workers(url):
    """RQ workers listening to one of the engine's queues whose last heartbeat is
    younger than their time-to-live (an idle worker beats once per TTL)."""
    from rq import Worker
    names = {queue_name(q, url) for q in QUEUES}
    now = datetime.datetime.now(datetime.timezone.utc)
    alive = 0
    for worker in Worker.all(connection=_client(url)):
        beat = worker.last_heartbeat
        if beat is None or not names & set(worker.queue_names()):
            continue
        beat = beat if beat.tzinfo else beat.replace(tzinfo=datetime.timezone.utc)
        if (now - beat).total_seconds() <= worker.worker_ttl + 60:
            alive += 1
    return alive


def bench_redis_urls(bench):
    """The distinct job-queue Redis servers of the bench's sites (for metrics)."""
    urls = {redis_url(get_site_config(site, bench)) for site in list_sites(bench)}
    return sorted(u for u in urls if u)


def bearer_matches(conf, key, header):
    """``Authorization: Bearer <token>`` against the config's ``key`` (constant time);
    False when the config sets none."""
    scheme, _, value = (header or "").partition(" ")
    token = conf.get(key)
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(),
                                                                              str(token).encode())
