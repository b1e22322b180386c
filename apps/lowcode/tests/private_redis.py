"""A redis-server of one test module only (never the shared one), for tests that stop and
start Redis or count what lands in it: loopback, a free port, killed at the end even
when the test fails. ``from .private_redis import private_redis`` (one per module, to stop
and start) or ``private_redis_url`` (one per test) makes the fixture."""
import contextlib
import shutil
import socket
import subprocess
import tempfile
import time

import pytest


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    """A redis-server of this test only, on loopback, stopped and started at will; it saves its
    keys when stopped (as a production Redis does), so entries from before an outage come back."""

    def __init__(self):
        self.port = _free_port()
        self.dir = tempfile.mkdtemp(prefix="lowcode-redis-")
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "3600 1", "--appendonly", "no",
             "--dir", self.dir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the private redis-server did not start")

    def stop(self):
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def keys(self):
        import redis
        return redis.Redis.from_url(self.url).keys("*")


@contextlib.contextmanager
def running():
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def private_redis():
    with running() as server:
        yield server


@pytest.fixture
def private_redis_url():
    """The URL of a redis-server of this test alone (its jobs and workers must not touch the
    shared Redis's queues, which other tests fill)."""
    with running() as server:
        yield server.url


