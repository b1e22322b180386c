"""`lowcode start` for real: a subprocess on its own bench (SQLite, no Redis) in tmp, on free
loopback ports; and the process manager's endings (clean, killed after the grace period,
given up) with small stand-in children. Each is bounded in time."""
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

import lowcode
from conftest import create_site
from lowcode import sites
from tests.server import _die_with_parent, free_port

from .private_redis import private_redis_url  # noqa: F401 - a fixture

WAIT = 25  # seconds any one step may take


class Running:
    """A command in its own session, its output collected line by line."""

    def __init__(self, argv, env=None):
        self.lines = []
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     stdin=subprocess.DEVNULL, start_new_session=True, env=env,
                                     preexec_fn=_die_with_parent)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def output(self):
        return "\n".join(self.lines)

    def wait_for(self, predicate, what, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = predicate()
            if found:
                return found
            if self.proc.poll() is not None and not predicate():
                break
            time.sleep(0.1)
        raise AssertionError(f"{what}: not seen within {timeout}s\n{self.output()[-4000:]}")

    def spawned(self, name):
        """The pids supervisor reported for ``name``, in order."""
        prefix = f"INFO spawned: '{name}' with pid "
        return [int(line.split(prefix, 1)[1]) for line in self.lines if prefix in line]

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)  # only when a test failed half-way
            self.proc.wait(timeout=10)


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def processes_naming(text):
    """Pids of every process whose command line mentions ``text``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if text.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def descendants(root):
    """Pids of every process under ``root`` now (uvicorn's workers are grandchildren)."""
    parents = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                parents[int(pid)] = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            pass
    found, todo = set(), [root]
    while todo:
        current = todo.pop()
        children = [pid for pid, parent in parents.items() if parent == current]
        found.update(children)
        todo.extend(children)
    return found


def ping(port, site):
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/method/ping", headers={"Host": site})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.read().decode()
    except OSError:
        return None


def test_start_without_redis_runs_web_jobs_and_scheduler_restarts_and_stops(tmp_path):
    bench = str(tmp_path / "bench")
    os.makedirs(bench)
    site = create_site(bench, "sqlite", apps=())
    sites.update_common_config({"socketio_port": free_port()}, bench)
    port = free_port()
    start = Running([sys.executable, "-m", "lowcode", "--sites-path", bench, "start", "--port", str(port),
                     "--scheduler-interval", "1", "--grace", "5"],
                    env=dict(os.environ, LOWCODE_SITES=bench))
    try:
        start.wait_for(lambda: ping(port, site), "the web process answering ping")
        assert ping(port, site) == '{"message": "pong"}'
        first = start.spawned("web")
        assert len(first) == 1 and "Starting web" in start.output()

        # The scheduler ticks in the web process: every job that never ran is stamped at
        # once; a job made due again is stamped again by a later tick.
        def stamps():
            with lowcode.site_context(site, bench=bench) as local:
                return dict(local.db.sql("SELECT `name`, `last_execution` FROM `tabScheduled Job Type`"))
        start.wait_for(lambda: stamps() and all(stamps().values()), "every Scheduled Job Type stamped")
        job = sorted(stamps())[0]
        with lowcode.site_context(site, bench=bench) as local:
            local.db.sql("UPDATE `tabScheduled Job Type` SET `last_execution`='2000-01-01 00:00:00', "
                         "`frequency`='Hourly' WHERE `name`=%s", (job,))
            local.db.commit()
        start.wait_for(lambda: str(stamps()[job]) > "2001", f"{job} stamped again")

        # A child killed outright is restarted, and the log says which.
        os.kill(first[0], signal.SIGKILL)
        start.wait_for(lambda: len(start.spawned("web")) == 2, "web spawned again")
        assert "exited: web (terminated by SIGKILL; not expected)" in start.output()
        start.wait_for(lambda: ping(port, site), "the new web process answering ping")
        pids = start.spawned("web")
        assert not alive(pids[0]) and alive(pids[1])

        # Ctrl+C: every child stops on SIGTERM, nothing is left, the exit status says clean.
        start.proc.send_signal(signal.SIGINT)
        assert start.proc.wait(timeout=WAIT) == 0, start.output()
        assert "stopped: web (terminated by SIGTERM)" in start.output()
        assert "every process stopped cleanly" in start.output()
        assert not any(alive(pid) for pid in pids)
        assert processes_naming(bench) == []
    finally:
        start.stop()


def test_start_with_redis_runs_every_process_and_stops_them_all(tmp_path, private_redis_url):
    import redis
    bench = str(tmp_path / "bench")
    os.makedirs(bench)
    site = create_site(bench, "sqlite", apps=(), redis=private_redis_url)
    realtime_port = free_port()
    sites.update_common_config({"socketio_port": realtime_port}, bench)
    port = free_port()
    start = Running([sys.executable, "-m", "lowcode", "--sites-path", bench, "start", "--port", str(port),
                     "--scheduler-interval", "1"], env=dict(os.environ, LOWCODE_SITES=bench))
    try:
        names = ("web", "worker", "scheduler", "realtime")  # defaults: 2 web processes, 1 worker
        start.wait_for(lambda: all(start.spawned(name) for name in names), "every process spawned")
        start.wait_for(lambda: ping(port, site), "the web processes answering ping")
        # The scheduler enqueues into Redis; a worker runs the job.
        start.wait_for(lambda: "enqueued lowcode." in start.output(), "the scheduler enqueueing")
        start.wait_for(lambda: "Job OK" in start.output(), "a worker running a scheduled job")
        assert [line for line in start.lines if "Job OK" in line][0].startswith("worker ")
        start.wait_for(lambda: _listening(realtime_port), "the realtime service listening")

        realtime = start.spawned("realtime")[0]
        os.kill(realtime, signal.SIGKILL)
        start.wait_for(lambda: len(start.spawned("realtime")) == 2, "realtime spawned again")
        start.wait_for(lambda: _listening(realtime_port), "the new realtime service listening")
        web_processes = descendants(start.spawned("web")[0])
        assert len(web_processes) >= 2  # uvicorn's two workers under the web process
        everything = descendants(start.proc.pid) | web_processes

        start.proc.send_signal(signal.SIGTERM)
        assert start.proc.wait(timeout=WAIT) == 0, start.output()
        assert "every process stopped cleanly" in start.output()
        assert not [pid for pid in everything if alive(pid)]
        assert redis.Redis.from_url(private_redis_url).ping()  # only the stack stopped
    finally:
        start.stop()


def _listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def test_start_refuses_what_needs_redis(tmp_path):
    from lowcode import stack
    from lowcode.exceptions import CommandError
    bench = str(tmp_path / "bench")
    os.makedirs(os.path.join(bench, "s.localhost"))
    sites.write_json(os.path.join(bench, "s.localhost", "site_config.json"), {"db_type": "sqlite"})
    with pytest.raises(CommandError, match="several web processes need Redis"):
        stack.programs(bench, web_processes=2)
    with pytest.raises(CommandError, match="--workers needs Redis"):
        stack.programs(bench, workers=1)
    assert [name for name, _, _ in stack.programs(bench)] == ["web"]

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    sites.update_common_config({"socketio_port": taken.getsockname()[1]}, bench)
    try:
        with pytest.raises(CommandError, match=r"\(--port\) is not free"):
            stack.check_ports(bench, "127.0.0.1", taken.getsockname()[1])
        stack.check_ports(bench, "127.0.0.1", free_port())  # no Redis: the realtime port may be taken

        sites.write_json(os.path.join(bench, "s.localhost", "site_config.json"),
                         {"db_type": "sqlite", "redis_cache": "redis://127.0.0.1:1/0"})
        with pytest.raises(CommandError, match=r"\(socketio_port\) is not free"):
            stack.check_ports(bench, "127.0.0.1", free_port())
    finally:
        taken.close()
    full = stack.programs(bench, workers=3, scheduler_interval=5)
    assert [(name, n) for name, _, n in full] == [("web", 1), ("worker", 3), ("scheduler", 1), ("realtime", 1)]
    web_argv = full[0][1]
    assert web_argv[web_argv.index("--workers") + 1] == "2"  # two web processes by default with Redis
    assert full[2][1][-2:] == ["--interval", "5"]


def run_stack(tmp_path, children, grace=1, retries=2):
    """`stack.run` in a subprocess (it takes over signals) over stand-in children."""
    code = (f"import sys; from lowcode import stack; "
            f"sys.exit(stack.run({children!r}, grace={grace}, directory={str(tmp_path)!r}, retries={retries}))")
    return Running([sys.executable, "-c", code])


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace_period(tmp_path):
    stubborn = ("import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                "print('stubborn ready', flush=True); time.sleep(120)")
    polite = "import time; print('polite ready', flush=True); time.sleep(120)"
    running = run_stack(tmp_path, [("stubborn", [sys.executable, "-c", stubborn], 1),
                                   ("polite", [sys.executable, "-c", polite], 2)])
    try:
        running.wait_for(lambda: "stubborn    | stubborn ready" in running.output(), "stubborn's output")
        running.wait_for(lambda: running.output().count("| polite ready") == 2, "two polite processes")
        pids = running.spawned("stubborn") + running.spawned("polite-0") + running.spawned("polite-1")
        assert len(pids) == 3
        running.proc.send_signal(signal.SIGTERM)
        assert running.proc.wait(timeout=WAIT) == 2, running.output()
        assert "killing 'stubborn'" in running.output() and "SIGKILL" in running.output()
        assert "killed stubborn after the 1 s grace period" in running.output()
        assert not any(alive(pid) for pid in pids)
    finally:
        running.stop()


def test_a_child_that_keeps_dying_is_retried_with_back_off_then_the_stack_stops(tmp_path):
    running = run_stack(tmp_path, [("broken", [sys.executable, "-c", "raise SystemExit(3)"], 1),
                                   ("fine", [sys.executable, "-c", "import time; time.sleep(120)"], 1)])
    try:
        assert running.proc.wait(timeout=WAIT) == 1, running.output()
        out = running.output()
        assert len(running.spawned("broken")) == 3  # the first start and two retries
        assert "exited: broken (exit status 3; not expected)" in out
        assert "gave up: broken entered FATAL state" in out and "gave up on broken" in out
        assert not any(alive(pid) for pid in running.spawned("fine"))
    finally:
        running.stop()
