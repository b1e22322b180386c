"""Several machines on one: network namespaces that this test creates, each with its own
address, web process and RQ worker, sharing one MariaDB and one Redis (private ones,
started by scripts/services.sh for this module, listening on the bridge's address).
Traffic never leaves this machine: the hosts reach each other and the services through
a bridge the test makes, and everything is removed afterwards.

What "any web process can serve any request" means, checked across hosts: a session
made on one host is valid on the other, a document written through one is read through
the other, the workers of both hosts take the jobs, each job run once, failed logins on
both hosts add up in Redis, and the schedulers of both hosts enqueue each due job once."""
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import pytest

import lowcode
from lowcode.context import local

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SERVICES = os.path.join(ROOT, "scripts", "services.sh")
SUBNET = "10.213.77"           # a private /24 of the bridge, unused on this machine
BRIDGE_ADDRESS = f"{SUBNET}.1"
HOSTS = {"a": f"{SUBNET}.2", "b": f"{SUBNET}.3"}
PORT = 8000                    # every host serves on its own address, so they share the port
SITE = "hosts.localhost"
TAG = uuid.uuid4().hex[:5]


def ip(*args, check=True):
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True, timeout=20)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def network():
    """A bridge with BRIDGE_ADDRESS here, and a namespace per host wired to it by a veth pair.
    Fails (never skips) when namespaces cannot be made: the test is about exactly that."""
    bridge = f"lcbr{TAG}"
    names = {h: f"lc{TAG}{h}" for h in HOSTS}
    try:
        ip("link", "add", bridge, "type", "bridge")
        ip("addr", "add", f"{BRIDGE_ADDRESS}/24", "dev", bridge)
        ip("link", "set", bridge, "up")
        for host, address in HOSTS.items():
            ns, outside = names[host], f"lcv{TAG}{host}"
            ip("netns", "add", ns)
            ip("link", "add", outside, "type", "veth", "peer", "name", "eth0", "netns", ns)
            ip("link", "set", outside, "master", bridge)
            ip("link", "set", outside, "up")
            ip("-n", ns, "addr", "add", f"{address}/24", "dev", "eth0")
            ip("-n", ns, "link", "set", "eth0", "up")
            ip("-n", ns, "link", "set", "lo", "up")
        yield names
    finally:
        for ns in names.values():
            ip("netns", "del", ns, check=False)  # takes the veth pair with it
        ip("link", "del", bridge, check=False)


@pytest.fixture(scope="module")
def services(network):
    """Private MariaDB and Redis listening on 127.0.0.1 and on the bridge's address."""
    run_dir = tempfile.mkdtemp(prefix="lc-hosts-run-")
    env = dict(os.environ, LOWCODE_RUN_DIR=run_dir, LOWCODE_MARIADB_PORT=str(free_port()),
               LOWCODE_REDIS_PORT=str(free_port()), LOWCODE_SERVICES_EXTRA_BIND=BRIDGE_ADDRESS,
               LOWCODE_MARIADB_BUFFER_POOL="64M")
    try:
        subprocess.run(["bash", SERVICES, "start", "mariadb", "redis"], env=env, check=True, timeout=180,
                       capture_output=True)
        yield {"mariadb_port": int(env["LOWCODE_MARIADB_PORT"]), "redis_port": int(env["LOWCODE_REDIS_PORT"])}
    finally:
        subprocess.run(["bash", SERVICES, "stop", "mariadb", "redis"], env=env, timeout=120, capture_output=True)
        shutil.rmtree(run_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def stack(network, services):
    """The site (MariaDB and Redis reached at the bridge's address), then a web process and an
    RQ worker inside each host's namespace. Yields {"bench", "token": (key, secret)}."""
    from lowcode import installer
    bench = tempfile.mkdtemp(prefix="lc-hosts-bench-")
    redis = f"redis://{BRIDGE_ADDRESS}:{services['redis_port']}/0"
    procs, logs = [], []
    try:
        installer.new_site(SITE, bench=bench, db_type="mariadb", admin_password="admin",
                           db_root_username="lowcode_root", db_root_password="lowcode_root_pw",
                           db_host="127.0.0.1", db_port=services["mariadb_port"],
                           extra_config={"redis_cache": redis, "redis_queue": redis})
        conf_path = os.path.join(bench, SITE, "site_config.json")
        with open(conf_path) as f:
            conf = json.load(f)
        conf["db_host"] = BRIDGE_ADDRESS  # the hosts reach MariaDB over the bridge, as another machine would
        with open(conf_path, "w") as f:
            json.dump(conf, f)
        with lowcode.site_context(SITE, bench=bench):
            from lowcode import auth
            token = auth.generate_keys("Administrator")
            local.db.commit()
        env = dict(os.environ, LOWCODE_SITES=bench, PYTHONUNBUFFERED="1",
                   PYTHONPATH=os.pathsep.join([os.path.join(ROOT, "apps"), ROOT, os.environ.get("PYTHONPATH", "")]))
        cli = [sys.executable, "-c", "from lowcode.cli import main; main()"]
        for host, ns in network.items():
            log = open(os.path.join(bench, f"host-{host}.log"), "ab")
            logs.append(log)
            host_env = dict(env, LOWCODE_TEST_HOST=host)
            for args in (["serve", "--host", HOSTS[host], "--port", str(PORT), "--no-realtime"],
                         ["--site", SITE, "worker", "--queue", "default"]):
                procs.append(subprocess.Popen(["ip", "netns", "exec", ns, *cli, *args], env=host_env, stdout=log,
                                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                              start_new_session=True))
        for host in HOSTS:
            _wait_for(host, bench)
        yield {"bench": bench, "token": token}
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, 15)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, 9)
        for log in logs:
            log.close()
        shutil.rmtree(bench, ignore_errors=True)  # the site's database goes with the private MariaDB


def request(host, method, path, body=None, headers=None):
    """(status, headers, parsed body) of a request to a host's web process, from here."""
    conn = http.client.HTTPConnection(HOSTS[host], PORT, timeout=30)
    try:
        sent = {"Host": SITE, "Accept": "application/json", **(headers or {})}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=sent)
        resp = conn.getresponse()
        raw = resp.read()
        return resp.status, resp.headers, (json.loads(raw) if raw else None)
    finally:
        conn.close()


def _wait_for(host, bench, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if request(host, "GET", "/api/method/ping")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    with open(os.path.join(bench, f"host-{host}.log"), errors="replace") as f:
        raise RuntimeError(f"host {host} did not answer within {timeout}s:\n{f.read()[-3000:]}")


def token_header(stack):
    key, secret = stack["token"]
    return {"Authorization": f"token {key}:{secret}"}


def test_a_session_made_on_one_host_works_on_the_other(stack):
    status, headers, _ = request("a", "POST", "/api/method/login", {"usr": "Administrator", "pwd": "admin"})
    assert status == 200
    sid = next(c.split(";")[0] for c in headers.get_all("Set-Cookie") if c.startswith("sid="))
    status, _, body = request("b", "GET", "/api/method/frappe.auth.get_logged_user", headers={"Cookie": sid})
    assert (status, body["message"]) == (200, "Administrator")
    # logged out on b: refused on a too
    status, _, _ = request("b", "POST", "/api/method/logout", {}, headers={"Cookie": sid})
    assert status == 200
    status, _, _ = request("a", "GET", "/api/method/frappe.auth.get_logged_user", headers={"Cookie": sid})
    assert status in (401, 403)


def test_a_document_written_on_one_host_is_read_on_the_other(stack):
    title = f"written on a {uuid.uuid4().hex[:6]}"
    status, _, body = request("a", "POST", "/api/resource/Role", {"role_name": title}, headers=token_header(stack))
    assert status == 200, body
    status, _, body = request("b", "GET", f"/api/resource/Role/{title.replace(' ', '%20')}",
                              headers=token_header(stack))
    assert status == 200 and body["data"]["role_name"] == title
    # and changed on b, seen on a (no host keeps a stale copy)
    status, _, _ = request("b", "PUT", f"/api/resource/Role/{title.replace(' ', '%20')}", {"desk_access": 0},
                           headers=token_header(stack))
    assert status == 200
    status, _, body = request("a", "GET", f"/api/resource/Role/{title.replace(' ', '%20')}",
                              headers=token_header(stack))
    assert body["data"]["desk_access"] == 0


def record_host(key):
    """A job for the hosts' workers: counts its runs under ``key`` and which host ran it."""
    local.db.next_series_value(f"hosts-job:{key}")
    local.db.next_series_value(f"hosts-ran:{os.environ.get('LOWCODE_TEST_HOST', '?')}")


def test_jobs_run_once_on_the_workers_of_either_host(stack):
    from lowcode.jobs import enqueue
    keys = [f"{TAG}-{i}" for i in range(40)]
    with lowcode.site_context(SITE, bench=stack["bench"]):
        for key in keys:
            enqueue(record_host, queue="default", key=key)
        local.db.commit()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = local.db.sql("SELECT `name`, `current` FROM `tabSeries` WHERE `name` LIKE 'hosts-job:%%'")
            local.db.commit()
            if len(done) == len(keys):
                break
            time.sleep(0.3)
        ran = dict(local.db.sql("SELECT `name`, `current` FROM `tabSeries` WHERE `name` LIKE 'hosts-ran:%%'"))
        local.db.commit()
    assert sorted(done) == sorted((f"hosts-job:{k}", 1) for k in keys)  # every job, once
    assert sum(ran.values()) == len(keys) and set(ran) <= {"hosts-ran:a", "hosts-ran:b"}, ran


def test_failed_logins_on_both_hosts_add_up(stack):
    """The login throttle counts in Redis: failures on either host lock the user on both."""
    from lowcode.auth import MAX_FAILED_LOGINS
    user = f"locked-{TAG}@example.com"
    with lowcode.site_context(SITE, bench=stack["bench"]):
        from lowcode.auth import set_password
        lowcode.get_doc({"doctype": "User", "email": user, "first_name": "Locked"}).insert()
        set_password(user, "Right-Horse-42!")
        local.db.commit()
    assert request("b", "POST", "/api/method/login", {"usr": user, "pwd": "Right-Horse-42!"})[0] == 200
    for i in range(MAX_FAILED_LOGINS):
        status, _, _ = request("a" if i % 2 else "b", "POST", "/api/method/login", {"usr": user, "pwd": "wrong"})
        assert status == 401
    status, _, _ = request("a", "POST", "/api/method/login", {"usr": user, "pwd": "Right-Horse-42!"})
    assert status == 429  # locked: the failures of both hosts counted together


def test_schedulers_on_both_hosts_enqueue_each_due_job_once(stack, network):
    """Two `lowcode scheduler --once`, one on each host, started together: every due job is
    claimed by one of them (scheduler.tick's conditional UPDATE), so it is enqueued once."""
    with lowcode.site_context(SITE, bench=stack["bench"]):
        local.db.sql("UPDATE `tabScheduled Job Type` SET `last_execution`=NULL WHERE `stopped`=0")
        due = sorted(local.db.sql("SELECT `method` FROM `tabScheduled Job Type` WHERE `stopped`=0", pluck=True))
        local.db.commit()
    env = dict(os.environ, LOWCODE_SITES=stack["bench"],
               PYTHONPATH=os.pathsep.join([os.path.join(ROOT, "apps"), ROOT, os.environ.get("PYTHONPATH", "")]))
    cli = [sys.executable, "-c", "from lowcode.cli import main; main()", "--site", SITE, "scheduler", "--once"]
    procs = [subprocess.Popen(["ip", "netns", "exec", ns, *cli], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for ns in network.values()]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    enqueued = sorted(line.split("enqueued ", 1)[1].strip() for out in outputs for line in out.splitlines()
                      if f"{SITE}: enqueued " in line)
    assert due and enqueued == due, outputs
