"""A real server for tests and benchmarks: uvicorn in a subprocess, run the way
``lowcode serve`` runs it (the WSGI application; see lowcode/cli.py), on a free
loopback port, with its output in a log file."""
import os
import signal
import socket
import subprocess
import sys
import time


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent():
    """In the server's process, before exec: Linux sends it SIGTERM should the process
    that started it die without cleaning up, so no server is ever left over."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class UvicornServer:
    """``start()`` returns once ``ready()`` says so; ``stop()`` always ends it."""

    def __init__(self, bench, log_path, port=None, extra_args=()):
        self.bench, self.log_path = bench, log_path
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra_args = list(extra_args)
        self.proc = None
        self._log = None

    def ready(self):
        """True once the server answers; subclasses may ask for more."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def start(self, timeout=60):
        env = dict(os.environ, LOWCODE_SITES=self.bench, PYTHONUNBUFFERED="1")
        self._log = open(self.log_path, "ab")
        cmd = self.command()
        # Its own session: stopping it can never touch anything else.
        self.proc = subprocess.Popen(cmd, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True,
                                     preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {self.proc.returncode}: {self.log()}")
            if self.ready():
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"uvicorn did not answer on {self.url} within {timeout}s: {self.log()}")

    def command(self):
        return [sys.executable, "-m", "uvicorn", "--interface", "wsgi", "lowcode.web.wsgi:application",
                "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning", *self.extra_args]

    def log(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def stop(self):
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None
