"""The REST side of the benchmark: a real uvicorn server in a subprocess, and a
keep-alive HTTP/1.1 client from the standard library (http.client), so the figures
include the socket, the ASGI server, Django, the middleware and JSON encoding, and
depend on no extra package."""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from urllib.parse import quote, urlencode


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """uvicorn serving the bench (LOWCODE_SITES) the way ``lowcode serve`` does: the WSGI
    application (see lowcode/cli.py serve), without access logs."""

    def __init__(self, bench, log_path, port=None):
        self.bench = bench
        self.log_path = log_path
        self.port = port or free_port()
        self.proc = None
        self._log = None

    def start(self, timeout=60):
        env = dict(os.environ, LOWCODE_SITES=self.bench)
        self._log = open(self.log_path, "ab")
        cmd = [sys.executable, "-m", "uvicorn", "--interface", "wsgi", "lowcode.web.wsgi:application", "--host", "127.0.0.1",
               "--port", str(self.port), "--no-access-log", "--log-level", "warning", "--timeout-keep-alive", "60"]
        self.proc = subprocess.Popen(cmd, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {self.proc.returncode}; see {self.log_path}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"uvicorn did not listen on port {self.port} within {timeout}s; see {self.log_path}")

    def cpu_seconds(self):
        """User + system CPU the server process has used so far (Linux /proc)."""
        try:
            with open(f"/proc/{self.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, AttributeError, IndexError, ValueError):
            return None

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


class Client:
    """One keep-alive connection; every request sends the site's Host and the API token."""

    def __init__(self, port, site, api_key, api_secret):
        self.port = port
        self.headers = {"Host": site, "Authorization": f"token {api_key}:{api_secret}",
                        "Accept": "application/json", "Connection": "keep-alive"}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.reconnects = 0
        self.requests = 0

    def request(self, method, path, body=None):
        """(status, parsed JSON body). Retries once if the server closed the idle connection."""
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.requests += 1
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                raw = resp.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.reconnects += 1
                if attempt == 2:
                    raise
        try:
            return resp.status, json.loads(raw) if raw else None
        except ValueError:
            return resp.status, raw.decode("utf-8", "replace")

    def close(self):
        self.conn.close()


def query_string(**params):
    """Frappe-style arguments: lists and objects travel as JSON text."""
    return urlencode({k: v if isinstance(v, (str, int)) else json.dumps(v) for k, v in params.items()},
                     quote_via=quote)


def resource_path(doctype, **params):
    path = "/api/resource/" + quote(doctype)
    return path + "?" + query_string(**params) if params else path


def method_path(dotted, **params):
    path = "/api/method/" + dotted
    return path + "?" + query_string(**params) if params else path
