"""Several schedulers (hosts) on one site: each due job is enqueued exactly once, counted as
RQ jobs in a private Redis, on both engines; and ``lowcode.lock`` keeps a second holder
out on each backend (Redis, MariaDB's GET_LOCK when Redis is down, SQLite's file lock)."""
import datetime
import threading
import time
import uuid

import pytest

import lowcode
from lowcode import caches, scheduler
from lowcode.locks import LockTimeoutError, lock
from lowcode.testing.pytest_plugin import ENGINES, create_site, drop_site

from .private_redis import private_redis  # noqa: F401 - a fixture

SCHEDULERS = 2
NOW = datetime.datetime(2024, 3, 15, 10, 30)


@pytest.fixture(scope="module", params=ENGINES)
def redis_site(request, bench, private_redis):  # noqa: F811
    """A site with only the engine (quick to make) whose cache and queues are the private Redis."""
    name = create_site(bench, request.param, apps=(), redis=private_redis.url)
    yield name
    drop_site(bench, name)


def _queued_jobs(url, methods):
    """The RQ jobs in the queues whose payload names one of ``methods``."""
    from rq import Queue
    found = []
    connection = caches.redis_client(url)
    for name in ("default", "long"):
        for job in Queue(name, connection=connection).get_jobs():
            method = job.args[0]["method"]
            if method in methods:
                found.append(method)
    return found


def test_two_schedulers_enqueue_each_due_job_once(bench, redis_site, private_redis, monkeypatch):  # noqa: F811
    tag = uuid.uuid4().hex[:6]
    methods = [f"x{tag}.every_tick", f"x{tag}.hourly", f"x{tag}.daily_never_ran"]
    with lowcode.site_context(redis_site, bench=bench) as local:
        local.db.sql("UPDATE `tabScheduled Job Type` SET `stopped`=1")  # only ours are due
        for method, frequency, last in zip(methods, ("All", "Hourly", "Daily"),
                                           ("2024-03-15 10:29:00", "2024-03-15 09:59:00", None)):
            lowcode.get_doc({"doctype": "Scheduled Job Type", "method": method, "frequency": frequency,
                             "last_execution": last}).insert()
        local.db.commit()

    # Both schedulers read the due jobs before either claims one: the worst interleaving.
    both_read = threading.Barrier(SCHEDULERS, timeout=30)
    claim = scheduler._claim

    def claim_after_both_read(job, stamp):
        if not getattr(local_thread, "waited", False):
            local_thread.waited = True
            both_read.wait()
        return claim(job, stamp)
    local_thread = threading.local()
    monkeypatch.setattr(scheduler, "_claim", claim_after_both_read)

    results, errors = [], []

    def run_scheduler():
        try:
            with lowcode.site_context(redis_site, bench=bench) as local:
                enqueued = scheduler.tick(now=NOW)
                local.db.commit()  # sends the jobs to RQ
                results.append(enqueued)
        except Exception as e:  # noqa: BLE001 - reported by the assertion below
            errors.append(e)
    threads = [threading.Thread(target=run_scheduler) for _ in range(SCHEDULERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert sorted(m for enqueued in results for m in enqueued) == sorted(methods)
    assert sorted(_queued_jobs(private_redis.url, methods)) == sorted(methods)
    with lowcode.site_context(redis_site, bench=bench) as local:
        assert lowcode.db.count("Scheduled Job Type", {"method": ["in", methods],
                                                       "last_execution": str(NOW)}) == len(methods)
        local.db.sql("DELETE FROM `tabScheduled Job Type` WHERE `method` IN (%s, %s, %s)", tuple(methods))
        local.db.sql("UPDATE `tabScheduled Job Type` SET `stopped`=0")
        local.db.commit()


def _second_holder_refused(site, bench, name):
    """True when another thread (its own site context and connection) cannot take ``name`` now."""
    refused = []

    def other():
        with lowcode.site_context(site, bench=bench):
            try:
                with lock(name, blocking_timeout=0):
                    refused.append(False)
            except LockTimeoutError:
                refused.append(True)
    t = threading.Thread(target=other)
    t.start()
    t.join(timeout=30)
    return refused == [True]


@pytest.mark.parametrize("redis_down", [False, True], ids=["redis", "redis-down"])
def test_lock_keeps_a_second_holder_out(bench, redis_site, private_redis, redis_down):  # noqa: F811
    name = f"test-lock-{uuid.uuid4().hex[:6]}"
    health = caches._health.setdefault(private_redis.url, caches._Health())
    try:
        if redis_down:  # the breaker open: Redis is skipped, the database's lock serves
            health.down_until = time.monotonic() + 60
        with lowcode.site_context(redis_site, bench=bench):
            with lock(name, timeout=30) as held:
                expected = "_RedisLock" if not redis_down else (
                    "_MariaDBLock" if redis_site.endswith("-mariadb.localhost") else "_FileLock")
                assert type(held).__name__ == expected
                assert _second_holder_refused(redis_site, bench, name)
            assert not _second_holder_refused(redis_site, bench, name)  # released
    finally:
        health.down_until = 0.0
        health.stale_prefixes.clear()


def test_lock_without_redis(ctx, site, bench, unique):
    """The shared sites: SQLite without Redis (a file lock), MariaDB with the shared Redis."""
    name = f"test-lock-{unique}"
    with lock(name):
        assert _second_holder_refused(site, bench, name)
    assert not _second_holder_refused(site, bench, name)
