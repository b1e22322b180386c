"""Redis stopped: the desk and the API keep working from the database, enqueued jobs are
not lost, and nothing cached before or during the outage is served stale once Redis is
back. The test runs its OWN redis-server (never the shared one) on a free loopback port,
stops and starts it, and always kills it at the end."""
import os
import time
import uuid

import pytest

import lowcode
from lowcode import caches, meta
from lowcode.testing.http import ok
from lowcode.testing.pytest_plugin import ENGINES, create_site, drop_site

from .private_redis import private_redis  # noqa: F401 - a fixture

MAX_SECONDS = 0.5  # what any request may cost while Redis is down


@pytest.fixture(scope="module", params=ENGINES)
def redis_site(request, bench, private_redis):  # noqa: F811
    """A site with only the engine (quick to make) whose cache and queues are the private Redis."""
    name = create_site(bench, request.param, apps=(), redis=private_redis.url)
    yield name
    drop_site(bench, name)


@pytest.fixture
def quick_breaker(monkeypatch):
    monkeypatch.setattr(caches, "BREAKER_SECONDS", 0.2)


def _client(bench, site):
    from django.test import Client
    os.environ["LOWCODE_SITES"] = bench
    return Client(HTTP_HOST=site, raise_request_exception=False)


def _timed(call, extra=0.0):
    started = time.monotonic()
    response = call()
    elapsed = time.monotonic() - started
    assert elapsed < MAX_SECONDS + extra, f"{elapsed:.3f} s while Redis is down"
    return response


def _hashing_seconds():
    """What a login spends hashing the password (Argon2, by design slow; more on a busy
    machine), measured now: a login may take that on top of MAX_SECONDS."""
    from django.contrib.auth.hashers import check_password
    from lowcode.auth import _dummy_hash
    started = time.monotonic()
    check_password("x", _dummy_hash())
    return time.monotonic() - started


def _login(client):
    response = client.post("/api/method/login", {"usr": "Administrator", "pwd": "admin"})
    assert response.status_code == 200, response.content
    return response


def _forget_process_memory():
    """What a second web process would have: no memoised metadata of its own."""
    meta._cache.clear()
    meta._cache_version.clear()


def mark_job(name):
    """An enqueued job: leaves a ToDo behind as proof that it ran."""
    lowcode.get_doc({"doctype": "ToDo", "description": name, "allocated_to": "Administrator"}).insert(
        ignore_permissions=True)


def test_desk_and_api_work_while_redis_is_down_and_nothing_is_stale_after(bench, redis_site, private_redis,
                                                                          quick_breaker):
    client = _client(bench, redis_site)
    _login(client)
    created = ok(client.post("/api/resource/ToDo", {"description": "before the outage",
                                                    "allocated_to": "Administrator"},
                             content_type="application/json"))["data"]
    assert client.get("/api/resource/ToDo").status_code == 200
    leaver = _client(bench, redis_site)
    _login(leaver)
    assert leaver.get("/api/resource/ToDo").status_code == 200  # its session is now cached in Redis
    assert any(b"session:" in k for k in private_redis.keys())
    with lowcode.site_context(redis_site, bench=bench):
        lowcode.get_meta("ToDo")  # the definition is shared through Redis too
    assert any(b"|meta:" in k for k in private_redis.keys())

    private_redis.stop()
    try:
        # A new login, the session check, list, getdoc and save: from the database.
        during = _client(bench, redis_site)
        _timed(lambda: _login(during), extra=2 * _hashing_seconds())
        listed = ok(_timed(lambda: during.get("/api/resource/ToDo")))["data"]
        assert created["name"] in [row["name"] for row in listed]
        got = ok(_timed(lambda: client.get(f"/api/resource/ToDo/{created['name']}")))["data"]
        assert got["description"] == "before the outage"
        saved = _timed(lambda: client.put(f"/api/resource/ToDo/{created['name']}",
                                          '{"description": "during the outage"}', content_type="application/json"))
        assert ok(saved)["data"]["description"] == "during the outage"
        # Logging out while Redis is down: its cached session cannot be deleted now.
        sid = leaver.cookies["sid"].value
        _timed(lambda: leaver.post("/api/method/logout"))
        leaver.cookies["sid"] = sid  # the ended session's cookie, kept by whoever stole it
        # Metadata changed during the outage (a Custom Field on ToDo).
        field = f"custom_outage_{uuid.uuid4().hex[:6]}"
        with lowcode.site_context(redis_site, bench=bench) as local:
            lowcode.get_doc({"doctype": "Custom Field", "dt": "ToDo", "fieldname": field, "label": "Outage",
                             "fieldtype": "Data"}).insert()
            # A job enqueued while Redis is down runs in this process after the commit: not lost.
            marker = f"job during the outage {uuid.uuid4().hex[:6]}"
            lowcode.enqueue(f"{__name__}.mark_job", name=marker)
            local.db.commit()
            assert lowcode.db.exists("ToDo", {"description": marker})
    finally:
        private_redis.start()
    time.sleep(0.3)  # the breaker's (shortened) pause

    # Redis is back and empty of nothing it should not hold: the session ended during the
    # outage is gone, the new field is in the definition another process reads.
    assert leaver.get("/api/resource/ToDo").status_code == 403
    assert client.get(f"/api/resource/ToDo/{created['name']}").status_code == 200
    _forget_process_memory()
    with lowcode.site_context(redis_site, bench=bench):
        assert lowcode.get_meta("ToDo").get_field(field) is not None
    assert any(b"session:" in k for k in private_redis.keys())  # and Redis is used again


def test_a_session_deleted_during_the_outage_is_not_served_by_redis_afterwards(bench, redis_site, private_redis,
                                                                              quick_breaker):
    """The stale-entry case on its own: the entry survives in Redis (a server stopped
    after saving it, restarted with it), the delete was dropped; the first call after the
    outage deletes the site's keys before reading."""
    with lowcode.site_context(redis_site, bench=bench):
        c = caches.cache()
        c.set("probe", "old")
        assert c.get("probe") == "old"
    # Simulate "Redis unreachable" for this process only: the breaker opens on a failure.
    health = caches._health.setdefault(private_redis.url, caches._Health())
    health.down_until = time.monotonic() + 0.2
    with lowcode.site_context(redis_site, bench=bench):
        caches.cache().delete("probe")  # dropped: the breaker is open
        assert caches.cache().get("probe") is None  # bypassed, not stale
    time.sleep(0.25)
    with lowcode.site_context(redis_site, bench=bench):
        assert caches.cache().get("probe") is None  # the site's keys went before this read


def test_counters_fall_back_to_process_memory(bench, redis_site, private_redis, quick_breaker):
    with lowcode.site_context(redis_site, bench=bench):
        key = f"count-{uuid.uuid4().hex[:6]}"
        assert caches.cache().incr(key, ttl=60) == 1
        caches._health.setdefault(private_redis.url, caches._Health()).down_until = time.monotonic() + 0.2
        assert caches.cache().incr(key, ttl=60) == 1  # Redis skipped: memory counts from scratch
        assert caches.cache().incr(key, ttl=60) == 2
        assert caches.cache().counter(key) == 2
