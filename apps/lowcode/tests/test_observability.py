"""Operations endpoints and signals (lowcode/observability/): ping without the database,
the health checks, Prometheus metrics and who may read them, JSON request logs and the
request id carried into jobs."""
import json
import logging
import os
import re
import shutil
import socket
import uuid

import pytest
from prometheus_client import REGISTRY

import lowcode
from lowcode import jobs
from lowcode.database.mariadb import MariaDBDatabase
from lowcode.database.sqlite import SQLiteDatabase
from lowcode.observability import metrics
from lowcode.sites import read_json, write_json
from lowcode.testing.http import refresh, token

from .desk_helpers import make_user

from .private_redis import private_redis_url  # noqa: F401 - a fixture

JOB_LOGGER = "lowcode.tests.observed_job"


def noisy_job(word="hello"):
    """A job that logs: its record must carry the request id of the request that queued it."""
    logging.getLogger(JOB_LOGGER).info("observed job says %s", word)


def failing_job():
    raise RuntimeError("this job fails on purpose")


def closed_port():
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def site_copy(site, bench):
    """site_copy(**overrides) -> the name of a new site folder whose config is the test
    site's with ``overrides``: the same database unless they point it elsewhere."""
    made = []

    def make(**overrides):
        conf = read_json(os.path.join(bench, site, "site_config.json"))
        if conf.get("db_type", "sqlite") == "sqlite":
            conf["db_file"] = os.path.join(bench, site, conf.get("db_file") or "site.sqlite3")
        conf.update(overrides)
        name = f"obs{uuid.uuid4().hex[:8]}.localhost"
        os.makedirs(os.path.join(bench, name))
        made.append(name)
        write_json(os.path.join(bench, name, "site_config.json"), conf)
        return name
    yield make
    for name in made:
        shutil.rmtree(os.path.join(bench, name), ignore_errors=True)


def unreachable_database(site, bench):
    """Overrides that make a site's database unreachable without touching the real one."""
    conf = read_json(os.path.join(bench, site, "site_config.json"))
    if conf.get("db_type") == "mariadb":
        return {"db_port": closed_port()}
    return {"db_file": os.path.join(bench, "no-such-folder", "site.sqlite3")}


@pytest.fixture
def statements(monkeypatch):
    """Every connection opened and statement run by either engine while the test runs."""
    seen = []
    for cls in (SQLiteDatabase, MariaDBDatabase):
        execute, connect = cls._execute, cls.connect

        def counted_execute(self, query, values, _run=execute):
            seen.append(query)
            return _run(self, query, values)

        def counted_connect(self, _run=connect):
            seen.append("CONNECT")
            return _run(self)
        monkeypatch.setattr(cls, "_execute", counted_execute)
        monkeypatch.setattr(cls, "connect", counted_connect)
    return seen


@pytest.fixture
def live_worker(site, bench):
    """For a site with Redis: an RQ worker registration with a fresh heartbeat (RQ's own
    registry; no process pulls jobs from the shared queues)."""
    url = jobs.redis_url(read_json(os.path.join(bench, site, "site_config.json")))
    if not url:
        yield None
        return
    from rq import Worker
    from lowcode.caches import redis_client
    worker = Worker(["default"], connection=redis_client(url), name=f"obs-test-{uuid.uuid4().hex[:8]}")
    worker.register_birth()
    worker.heartbeat()
    try:
        yield worker
    finally:
        worker.register_death()


# -- ping --------------------------------------------------------------------------------------

def test_ping_answers_pong_without_database_or_session(site, client, statements):
    client.cookies["sid"] = "a-session-id-that-would-need-a-lookup"
    for send in (client.get, client.post):
        response = send("/api/method/ping")
        assert response.status_code == 200
        assert json.loads(response.content) == {"message": "pong"}
    assert statements == []  # no connection, no query, no session lookup
    assert client.get("/api/method/frappe.auth.get_logged_user").status_code == 403  # others still look
    assert statements  # (the counter does count)


# -- health ------------------------------------------------------------------------------------

def test_health_200_on_a_good_site_guest_sees_status_only(site, client, live_worker):
    response = client.get("/api/method/lowcode.health")
    assert response.status_code == 200, response.content
    assert json.loads(response.content) == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


def test_health_details_for_system_manager(ctx, client, unique, live_worker):
    manager = make_user(unique, "health", ["System Manager"])
    clerk = make_user(unique, "clerk", ["Sales User"])
    manager_headers, clerk_headers = token(manager), token(clerk)
    refresh(ctx)
    data = json.loads(client.get("/api/method/lowcode.health", **manager_headers).content)
    assert data["status"] == "ok" and data["failed"] == []
    assert data["checks"]["database"]["ok"] is True
    if jobs.redis_url(ctx.conf):
        assert data["checks"]["redis"]["ok"] is True
        workers = data["checks"]["workers"]
        assert workers["ok"] is True and workers["alive"] >= 1
        assert set(workers["queues"]) == set(jobs.QUEUES)
        assert {"length", "oldest_age_seconds", "failed"} <= set(workers["queues"]["default"])
    else:
        assert set(data["checks"]) == {"database"}
    assert json.loads(client.get("/api/method/lowcode.health", **clerk_headers).content) == {"status": "ok"}


def test_health_503_names_the_unreachable_database(site, bench, client, site_copy, live_worker):
    name = site_copy(health_token="h-secret", **unreachable_database(site, bench))
    response = client.get("/api/method/lowcode.health", HTTP_HOST=name, HTTP_AUTHORIZATION="Bearer h-secret")
    assert response.status_code == 503
    data = json.loads(response.content)
    assert data["status"] == "error" and data["failed"] == ["database"]
    assert data["checks"]["database"]["ok"] is False and data["checks"]["database"]["error"]
    # a guest, or a wrong token, learns only that it is down
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer wrong"}):
        guest = client.get("/api/method/lowcode.health", HTTP_HOST=name, **headers)
        assert guest.status_code == 503 and json.loads(guest.content) == {"status": "error"}


def test_health_503_names_redis_when_its_port_is_closed(site, client, site_copy):
    name = site_copy(health_token="h-secret", redis_cache=f"redis://127.0.0.1:{closed_port()}/0")
    response = client.get("/api/method/lowcode.health", HTTP_HOST=name, HTTP_AUTHORIZATION="Bearer h-secret")
    assert response.status_code == 503
    data = json.loads(response.content)
    assert data["failed"] == ["redis"] and data["checks"]["database"]["ok"] is True
    assert "workers" not in data["checks"]  # no queue to ask while its Redis is down
    assert json.loads(client.get("/api/method/lowcode.health", HTTP_HOST=name).content) == {"status": "error"}


# -- metrics -----------------------------------------------------------------------------------

def test_metrics_label_routes_not_names(ctx, client, unique):
    user = make_user(unique, "metrics", ["System Manager"])
    headers = token(user)
    refresh(ctx)
    assert client.get(f"/api/resource/User/{user}", **headers).status_code == 200
    assert client.get("/api/method/frappe.client.get_count", {"doctype": "User"}, **headers).status_code == 200
    assert client.get(f"/api/method/no_such_app.secret_{unique}", **headers).status_code == 404
    response = client.get("/metrics")  # the test client comes from 127.0.0.1
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert 'route="/api/resource/<doctype>/<name>"' in text
    assert 'route="/api/method/frappe.client.get_count"' in text
    assert 'route="/api/method/<dotted>"' in text  # an unknown method's name is no label
    assert "lowcode_http_request_duration_seconds_bucket" in text and 'status="2xx"' in text
    labels = re.findall(r'="([^"]*)"', text)
    assert not [v for v in labels if user in v or unique in v]  # no document or method name became a series
    assert "lowcode_queue_length" in text and "lowcode_workers_alive" in text


def test_route_labels_are_url_patterns():
    assert metrics.route_label(r"^api/resource/(?P<doctype>[^/]+)/(?P<name>.+?)/?$") == \
        "/api/resource/<doctype>/<name>"
    assert metrics.route_label(r"^api(?:/(?P<rest>.*))?$") == "/api/<rest>"
    assert metrics.route_label("app/<str:route>/<path:name>") == "/app/<route>/<name>"


def test_metrics_refused_to_other_addresses_without_token(site, client, site_copy):
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.7").status_code == 403
    # through a proxy on this host every client would look local: a forwarded request is not
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 403
    name = site_copy(metrics_token="m-secret", metrics_allowed_addresses=["198.51.100.0/24"])
    assert client.get("/metrics", HTTP_HOST=name, REMOTE_ADDR="203.0.113.7",
                      HTTP_AUTHORIZATION="Bearer m-secret").status_code == 200
    assert client.get("/metrics", HTTP_HOST=name, REMOTE_ADDR="203.0.113.7",
                      HTTP_AUTHORIZATION="Bearer m-wrong").status_code == 403
    assert client.get("/metrics", HTTP_HOST=name, REMOTE_ADDR="198.51.100.9").status_code == 200


def test_failed_job_counted_by_method(site, bench):
    method = f"{__name__}.failing_job"
    labels = {"method": method, "queue": "short"}
    before = REGISTRY.get_sample_value("lowcode_jobs_failed_total", labels) or 0
    payload = {"site": site, "bench": bench, "method": method, "user": "Administrator", "kwargs": {},
               "job_name": method, "queue": "short"}
    with pytest.raises(RuntimeError):
        jobs.execute_job(payload)  # what a worker runs
    assert REGISTRY.get_sample_value("lowcode_jobs_failed_total", labels) == before + 1
    assert REGISTRY.get_sample_value("lowcode_job_duration_seconds_count", labels) >= 1


# -- logs and the request id --------------------------------------------------------------------

def _request_lines(caplog):
    return [r for r in caplog.records if r.name == "lowcode.request"]


def test_request_line_and_request_id_round_trip(ctx, client, unique, caplog):
    user = make_user(unique, "logs", ["System Manager"])
    headers = token(user)
    refresh(ctx)
    caplog.set_level(logging.INFO, logger="lowcode")
    rid = f"lb-{unique}-1"
    response = client.get("/api/method/frappe.client.get_count",
                          {"doctype": "User", "api_secret": f"s3cret{unique}"}, HTTP_X_REQUEST_ID=rid, **headers)
    assert response.status_code == 200 and response["X-Request-ID"] == rid
    line = _request_lines(caplog)[-1]
    assert (line.request_id, line.method, line.route, line.status, line.user, line.site) == \
        (rid, "GET", "/api/method/frappe.client.get_count", 200, user, ctx.site)
    assert line.duration_ms > 0
    formatted = logging.getLogger("lowcode").handlers[0].formatter.format(line)
    assert json.loads(formatted)["request_id"] == rid  # the configured handler writes JSON
    assert f"s3cret{unique}" not in formatted and headers["HTTP_AUTHORIZATION"].split(":")[1] not in formatted
    # a login's password, a reset link's key and a cookie appear in no line of any logger
    client.cookies["sid"] = f"cookie{unique}"
    client.post("/api/method/login", {"usr": user, "pwd": f"pw{unique}"})
    client.get(f"/update-password?key=key{unique}")
    json_lines = [logging.getLogger("lowcode").handlers[0].formatter.format(r) for r in caplog.records]
    assert not [line for line in json_lines if f"pw{unique}" in line or f"key{unique}" in line
                or f"cookie{unique}" in line]
    assert [r.route for r in _request_lines(caplog)][-2:] == ["/api/method/login", "/update-password"]
    del client.cookies["sid"]
    # an id that is too long or unsafe is replaced by one of ours
    for bad in ("x" * 200, "a b", "evil\"quote"):
        made = client.get("/api/method/ping", HTTP_X_REQUEST_ID=bad)["X-Request-ID"]
        assert made != bad and len(made) == 32
    assert client.get("/api/method/ping")["X-Request-ID"]


def test_request_id_carried_into_the_jobs_it_enqueues(ctx, client, unique, caplog):
    user = make_user(unique, "jobs", ["System Manager"])
    headers = token(user)
    failed = lowcode.get_doc({"doctype": "Failed Job", "method": f"{__name__}.noisy_job", "queue": "short",
                              "kwargs": json.dumps({"word": unique}), "run_as": user, "status": "Failed"}).insert()
    refresh(ctx)
    caplog.set_level(logging.INFO, logger="lowcode")
    caplog.set_level(logging.INFO, logger=JOB_LOGGER)
    rid = f"rq-{unique}"
    response = client.post("/api/method/lowcode.jobs.retry", {"name": failed.name}, HTTP_X_REQUEST_ID=rid, **headers)
    assert response.status_code == 200, response.content
    url = jobs.redis_url(ctx.conf)
    if url:  # sent to Redis: run it as a worker would, from the queued payload
        from rq import Queue
        from lowcode.caches import redis_client
        queue = Queue(jobs.queue_name("short", url), connection=redis_client(url))
        queued = [j for j in queue.get_jobs() if j.args and j.args[0].get("request_id") == rid]
        assert len(queued) == 1
        payload = queued[0].args[0]
        queued[0].delete()
        jobs.execute_job(payload)
    said = [r for r in caplog.records if r.name == JOB_LOGGER and unique in r.getMessage()]
    assert [r.request_id for r in said] == [rid]
    ended = [r for r in caplog.records if r.name == "lowcode.jobs" and getattr(r, "job", None) == failed.method]
    assert ended and ended[-1].request_id == rid and ended[-1].status == "finished"


def test_worker_job_metrics_summed_from_one_file_per_worker(site, bench, site_copy, private_redis_url, tmp_path):
    """A real `lowcode worker` (RQ forks a work horse per job) in multiprocess mode: the
    failure is counted, and the horses write to their worker's file, not one per job."""
    import subprocess
    import sys
    from prometheus_client import CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector
    name = site_copy(redis_cache=private_redis_url)
    with lowcode.site_context(name, bench=bench):
        for _ in range(3):
            jobs.enqueue(f"{__name__}.noisy_job", word="from a worker")
        jobs.enqueue(f"{__name__}.failing_job")
        lowcode.local.db.commit()  # sent to Redis now
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "LOWCODE_SITES": bench}
    cli = [sys.executable, "-c", "from lowcode.cli import main; main()"]
    run = subprocess.run(cli + ["--site", name, "worker", "--burst"], env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    files = sorted(p.name for p in metrics_dir.iterdir())
    assert files and all("_worker-" in f for f in files), files  # 4 jobs, 4 horses, one worker's files
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(metrics_dir))
    failing = {"method": f"{__name__}.failing_job", "queue": "default"}
    noisy = {"method": f"{__name__}.noisy_job", "queue": "default"}
    assert registry.get_sample_value("lowcode_jobs_failed_total", failing) == 1
    assert registry.get_sample_value("lowcode_job_duration_seconds_count", noisy) == 3
    assert '"job finished"' in run.stderr or "job finished" in run.stderr  # its JSON lines


def test_health_503_names_workers_when_none_listens(site, bench, client, site_copy, private_redis_url):
    name = site_copy(health_token="h-secret", redis_cache=private_redis_url)
    with lowcode.site_context(name, bench=bench):
        jobs.enqueue(f"{__name__}.noisy_job", queue="long", word="waiting")
        lowcode.local.db.commit()  # queued in this Redis, where no worker listens
    data = json.loads(client.get("/api/method/lowcode.health", HTTP_HOST=name,
                                 HTTP_AUTHORIZATION="Bearer h-secret").content)
    assert data["status"] == "error" and data["failed"] == ["workers"]
    long_queue = data["checks"]["workers"]["queues"]["long"]
    assert long_queue["length"] == 1 and long_queue["oldest_age_seconds"] >= 0
    assert data["checks"]["redis"]["ok"] is True
    scrape = client.get("/metrics").content.decode()  # summed over the bench's Redis servers
    assert float(re.search(r'^lowcode_queue_length\{queue="long"\} (\S+)$', scrape, re.M).group(1)) >= 1
