"""Rate limits (lowcode/rate_limit.py) on both engines: the REST API's per user and per
address limit from the site's ``rate_limit`` config (429 with Retry-After, System
Managers limited unless exempted), and that counters are shared by every web process
when the site has Redis (the MariaDB site): a second process is simulated by clearing
this process's memory, which a Redis counter survives and a memory one does not."""
import contextlib
import os

from lowcode import caches
from lowcode.sites import read_json, write_json
from lowcode.testing.http import error, ok, refresh, token, write

from .test_auth import PASSWORD, login, make_user, new_ip


@contextlib.contextmanager
def site_config(bench, site, **values):
    path = os.path.join(bench, site, "site_config.json")
    saved = read_json(path)
    write_json(path, dict(saved, **values))
    try:
        yield
    finally:
        write_json(path, saved)


def _second_process():
    """What another web process sees of this one's memory: nothing."""
    caches._memory.clear()


def test_api_limit_per_user_with_retry_after(ctx, client, bench, site, unique):
    user = make_user(unique, "limited")  # a System Manager: not exempt by default
    headers = token(user)
    refresh(ctx)
    with site_config(bench, site, rate_limit={"limit": 3, "window": 60}):
        for _ in range(3):
            ok(client.get("/api/resource/ToDo", **headers))
        if ctx.conf.get("redis_cache"):
            _second_process()  # the count lives in Redis: another process goes on from 3
        r = client.get("/api/resource/ToDo", **headers)
        error(r, 429, "TooManyRequestsError")
        assert 1 <= int(r["Retry-After"]) <= 60
        # the limit is per user: a colleague still gets in
        write(ctx)
        colleague = make_user(unique, "colleague")
        other = token(colleague)
        refresh(ctx)
        ok(client.get("/api/resource/ToDo", **other))
    ok(client.get("/api/resource/ToDo", **headers))  # no limit configured: none applies


def test_api_limit_per_address_for_guests_and_exempt_roles(ctx, client, bench, site, unique):
    ip = new_ip()
    user = make_user(unique, "exempt")
    headers = token(user)
    refresh(ctx)
    with site_config(bench, site, rate_limit={"limit": 2, "guest_limit": 2, "window": 60,
                                              "exempt_roles": ["System Manager"]}):
        for _ in range(2):
            client.get("/api/resource/ToDo", REMOTE_ADDR=ip)  # a Guest: 403, but counted
        error(client.get("/api/resource/ToDo", REMOTE_ADDR=ip), 429, "TooManyRequestsError")
        assert client.get("/api/resource/ToDo", REMOTE_ADDR=new_ip()).status_code == 403  # another address: not limited
        for _ in range(4):  # an exempt role is never limited
            ok(client.get("/api/resource/ToDo", REMOTE_ADDR=ip, **headers))
        # the desk is not the API: its pages are not counted
        assert client.get("/app", REMOTE_ADDR=ip).status_code != 429


def test_login_failures_are_shared_by_processes_with_redis(ctx, client, site, unique):
    user = make_user(unique, "shared")
    refresh(ctx)
    for attempt in range(5):
        error(login(client, user, f"wrong-{attempt}", ip=new_ip()), 401, "AuthenticationError")
    _second_process()
    r = login(client, user, PASSWORD, ip=new_ip())
    if ctx.conf.get("redis_cache"):
        error(r, 429, "TooManyRequestsError")  # another process sees the Redis counter
    else:
        ok(r)  # process memory: the counter went with the "process" (documented: one process without Redis)


def test_api_limit_per_address_for_users_too(ctx, client, bench, site, unique):
    """``ip_limit``: two users from one address share its count; from another, they do not."""
    ip = new_ip()
    first, second = make_user(unique, "first"), make_user(unique, "second")
    headers = [token(first), token(second)]
    refresh(ctx)
    with site_config(bench, site, rate_limit={"limit": 10, "ip_limit": 3, "window": 60}):
        for h in (headers[0], headers[1], headers[0]):
            ok(client.get("/api/resource/ToDo", REMOTE_ADDR=ip, **h))
        error(client.get("/api/resource/ToDo", REMOTE_ADDR=ip, **headers[1]), 429, "TooManyRequestsError")
        ok(client.get("/api/resource/ToDo", REMOTE_ADDR=new_ip(), **headers[1]))
