"""Fault: MariaDB restarted while `lowcode serve` takes writes. Requests caught by the restart
answer a clear 503 (JSON naming the database, Retry-After), never a 500; the same server
process serves the next ones without a restart of its own (web/middleware.py reopens a kept
connection the server dropped); every acknowledged document is stored once and whole.
The MariaDB is the test's own (scripts/services.sh in a private run directory)."""
import json
import os
import random
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid

import pytest

import lowcode
from lowcode import auth
from lowcode.installer import new_site

from .fault_helpers import (LOWCODE, PROBE, PrivateServices, free_port, half_written, make_probe_doctypes,
                            probe_doc, subprocess_env, wait_for)

PROBE_PATH = PROBE.replace(" ", "%20")


class Server:
    """A private MariaDB, a site on it with the probe DocTypes, and `lowcode serve` over it."""

    def __init__(self):
        self.services = PrivateServices()
        self.bench = tempfile.mkdtemp(prefix="lowcode-fault-bench-")
        self.site = f"fault{uuid.uuid4().hex[:6]}.localhost"
        self.proc = self.log = None
        self.sent = {}

    def start(self):
        self.services.services("start", "mariadb")
        new_site(self.site, bench=self.bench, db_type="mariadb", admin_password="admin",
                 **self.services.mariadb_root())
        with lowcode.site_context(self.site, bench=self.bench) as local:
            make_probe_doctypes()
            key, secret = auth.generate_keys("Administrator")
            local.db.commit()
        self.auth = f"token {key}:{secret}"
        self.port = free_port()
        self.log = open(os.path.join(self.bench, "serve.log"), "w")
        self.proc = subprocess.Popen([*LOWCODE, "--sites-path", self.bench, "serve", "--port", str(self.port),
                                      "--no-realtime"], env=subprocess_env(), stdout=subprocess.DEVNULL,
                                     stderr=self.log)  # a file: a full pipe would block the server
        wait_for(lambda: self.get(f"/api/resource/{PROBE_PATH}")[0] == 200, 30, "lowcode serve to answer")

    def request(self, method, path, payload=None):
        """(status, JSON body, headers); never raises for an HTTP error status."""
        data = json.dumps(payload).encode() if payload is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
                                     headers={"Host": self.site, "Authorization": self.auth,
                                              "Content-Type": "application/json", "Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                return r.status, json.loads(r.read() or b"null"), r.headers
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")
            return e.code, body, e.headers
        except OSError as e:
            return None, repr(e), None  # the server is not listening (yet), or it hung up

    def get(self, path):
        return self.request("GET", path)

    def post_probe(self, marker, rows):
        self.sent[marker] = rows  # every probe sent in the module, answered or not
        return self.request("POST", f"/api/resource/{PROBE_PATH}", probe_doc(marker, rows))

    def restart_mariadb(self, crash=False):
        """A clean restart, or (``crash``) mariadbd SIGKILLed and started again (crash recovery)."""
        if crash:
            with open(os.path.join(self.services.run_dir, "mariadb.pid")) as f:
                pid = int(f.read().strip())
            os.kill(pid, signal.SIGKILL)
            wait_for(lambda: not os.path.exists(f"/proc/{pid}"), 10, "mariadbd to die")
        else:
            self.services.services("stop", "mariadb")
        self.services.services("start", "mariadb")

    def close(self):
        try:
            if self.proc is not None and self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        finally:
            if self.log is not None:
                self.log.close()
            self.services.close()
            shutil.rmtree(self.bench, ignore_errors=True)


@pytest.fixture(scope="module")
def server():
    s = Server()
    try:
        s.start()
        yield s
    finally:
        s.close()


def _writer(server, results, stop):
    rng = random.Random()
    while not stop.is_set():
        marker, rows = uuid.uuid4().hex, rng.randint(1, 6)
        sent = time.monotonic()
        status, body, headers = server.post_probe(marker, rows)
        results.append({"marker": marker, "rows": rows, "status": status, "body": body, "sent": sent,
                        "retry_after": headers.get("Retry-After") if headers else None})


def _assert_clear_503(answer):
    assert answer["status"] == 503, answer
    assert answer["body"]["exc_type"] == "DatabaseUnavailableError", answer
    assert "database" in answer["body"]["message"].lower(), answer
    assert answer["retry_after"] and int(answer["retry_after"]) > 0, answer


@pytest.mark.parametrize("crash", [False, True], ids=["restart", "crash"])
def test_restart_under_traffic_503_then_served_by_the_same_process(server, crash):
    pid = server.proc.pid
    results, stop = [], threading.Event()
    writers = [threading.Thread(target=_writer, args=(server, results, stop)) for _ in range(3)]
    for w in writers:
        w.start()
    try:
        wait_for(lambda: sum(r["status"] == 200 for r in results) >= 20, 20, "writes before the restart")
        server.restart_mariadb(crash=crash)
        back = time.monotonic()
        wait_for(lambda: sum(r["status"] == 200 and r["sent"] > back for r in results) >= 30, 20,
                 "writes after the restart")
    finally:
        stop.set()
        for w in writers:
            w.join(timeout=30)
    assert server.proc.poll() is None and server.proc.pid == pid  # the same server process throughout
    statuses = {r["status"] for r in results}
    assert statuses <= {200, 503}, [(r["status"], r["body"], round(r["sent"] - back, 2)) for r in results
                                    if r["status"] not in (200, 503)][:5]
    failed = [r for r in results if r["status"] == 503]
    assert failed, "no request met the restart"
    for answer in failed:
        _assert_clear_503(answer)
    # Sent once the database was back: every one served (a kept connection is reopened, not a 503).
    assert all(r["status"] == 200 for r in results if r["sent"] > back)
    acknowledged = [r["marker"] for r in results if r["status"] == 200]
    with lowcode.site_context(server.site, bench=server.bench) as local:
        stored = local.db.sql(f"SELECT `name`, `expected` FROM `tab{PROBE}`")
        names = [name for name, _ in stored]
        assert len(names) == len(set(names))
        assert set(acknowledged) <= set(names), set(acknowledged) - set(names)
        assert all(expected == server.sent[name] for name, expected in stored)
        assert half_written(local.db) == []


def test_first_request_after_a_quiet_restart_is_served(server):
    """Every kept connection of the server is stale after a restart with no traffic: the
    request must still be served, not answered 503."""
    assert server.get(f"/api/resource/{PROBE_PATH}?limit_page_length=1")[0] == 200
    server.restart_mariadb()
    for _ in range(3):
        status, body, _ = server.post_probe(uuid.uuid4().hex, 2)
        assert status == 200, body
        assert server.get(f"/api/resource/{PROBE_PATH}?limit_page_length=1")[0] == 200


def test_database_down_answers_503_to_api_and_desk(server):
    """While the database is down: a clear 503 with Retry-After for an API call and for a
    browser opening the desk (never a 500 page), from the same server process."""
    server.services.services("stop", "mariadb")
    try:
        status, body, headers = server.get(f"/api/resource/{PROBE_PATH}")
        _assert_clear_503({"status": status, "body": body, "retry_after": headers.get("Retry-After")})
        req = urllib.request.Request(f"http://127.0.0.1:{server.port}/app/{PROBE_PATH.lower().replace('%20', '-')}",
                                     headers={"Host": server.site, "Authorization": server.auth,
                                              "Accept": "text/html,application/xhtml+xml"})
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(req, timeout=20)
        assert answer.value.code == 503 and int(answer.value.headers["Retry-After"]) > 0
        assert "Traceback" not in answer.value.read().decode(errors="replace")
    finally:
        server.services.services("start", "mariadb")
    assert server.get(f"/api/resource/{PROBE_PATH}")[0] == 200
    assert server.proc.poll() is None
