"""The REST side of the benchmark: a real uvicorn server in a subprocess, and a
keep-alive HTTP/1.1 client from the standard library (http.client), so the figures
include the socket, the ASGI server, Django, the middleware and JSON encoding, and
depend on no extra package."""
import http.client
import json
import os
import sys
import time
from urllib.parse import quote, urlencode

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from tests.server import UvicornServer  # noqa: E402 - the repository root is on the path now


class Server(UvicornServer):
    """The bench's server, without access logs, holding keep-alive connections open."""

    def __init__(self, bench, log_path, port=None):
        super().__init__(bench, log_path, port, extra_args=["--no-access-log", "--timeout-keep-alive", "60"])

    def cpu_seconds(self):
        """User + system CPU the server process has used so far (Linux /proc)."""
        try:
            with open(f"/proc/{self.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, AttributeError, IndexError, ValueError):
            return None


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

    def timed_get(self, path):
        """(body, seconds) of a GET that must answer 200; anything else stops the run."""
        t0 = time.perf_counter()
        status, body = self.request("GET", path)
        elapsed = time.perf_counter() - t0
        if status != 200:
            raise RuntimeError(f"{path} returned {status}: {str(body)[:300]}")
        return body, elapsed

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
