"""HTTP test helpers for the engine's and the apps' tests (and a partner's): log a test
client in, call the API with a token or CSRF header, and read answers as JSON that
must carry no Python traceback.

The tests run in a site context (``ctx``) while the requests use their own database
connection, so a test commits before a request must see its data (``refresh``): it then
holds only a read transaction, since a write one would block every request that writes on
SQLite; ``write`` starts a write transaction again.

    csrf = login(ctx, client, user)
    data = ok(post_json(client, "/api/resource/Lead", {"first_name": "Sara"}, **csrf_header(csrf)))
    error(client.get("/api/resource/Lead/nope", **token("Administrator")), 404, "DoesNotExistError")

``LoopbackHTTP`` is the other side: a real server on 127.0.0.1 for what the engine calls
out to (an SMS gateway, a webhook receiver).
"""
import json
import re
import threading
from http.server import ThreadingHTTPServer

from lowcode import auth

# A traceback frame: ``File "/path/x.py", line 12`` (quotes escaped inside JSON); no
# answer may show one.
_FRAME = re.compile(r'File \\?"[^"\n]+?\\?", line \d+')


# -- transactions ------------------------------------------------------------------------------

def refresh(ctx):
    """Commit what ctx did and continue in a read transaction, so requests see our data
    and we see theirs."""
    ctx.db.commit()
    ctx.db.begin(write=False)


def write(ctx):
    """Back to a write transaction in ctx after refresh()."""
    ctx.db.commit()
    ctx.db.begin()


# -- logging in ----------------------------------------------------------------------------------

def login(ctx, client, user):
    """Give ``client`` a desk session of ``user`` (its ``sid`` cookie); returns the CSRF
    token that POSTs from the desk send (``csrf_header``)."""
    ctx.db.commit()  # a read snapshot older than the server's last write cannot write
    session = auth.start_session(user, desk=True)
    refresh(ctx)
    client.cookies["sid"] = session.sid
    return session.csrf_token


def csrf_header(csrf_token):
    """The header a desk request carries its CSRF token in (Frappe's name)."""
    return {"HTTP_X_FRAPPE_CSRF_TOKEN": csrf_token}


def token(user):
    """Headers authenticating as ``user`` with a new API key and secret (``token key:secret``)."""
    key, secret = auth.generate_keys(user)
    return {"HTTP_AUTHORIZATION": f"token {key}:{secret}"}


# -- requests --------------------------------------------------------------------------------------

def post_json(client, path, payload, **headers):
    return client.post(path, json.dumps(payload), content_type="application/json", **headers)


def put_json(client, path, payload, **headers):
    return client.put(path, json.dumps(payload), content_type="application/json", **headers)


# -- answers ----------------------------------------------------------------------------------------

def body(response):
    """The JSON body of a response; no response may carry a Python traceback."""
    text = response.content.decode("utf-8")
    assert "Traceback" not in text and not _FRAME.search(text), text[:2000]
    try:
        return json.loads(text)
    except ValueError:
        raise AssertionError(f"not JSON ({response.status_code}): {text[:500]}")


def ok(response):
    """The JSON body of a 200 answer."""
    data = body(response)
    assert response.status_code == 200, (response.status_code, data)
    return data


def error(response, status, exc_type=None, field=None, mentions=None):
    """An error answer: the status, a JSON body with exc_type and a readable message
    (naming the field at fault when there is one, and each word of ``mentions``)."""
    data = body(response)
    assert response.status_code == status, (response.status_code, data)
    assert data.get("exc_type"), data
    assert isinstance(data.get("message"), str) and data["message"], data
    if exc_type:
        assert data["exc_type"] == exc_type, data
    if field:
        assert data.get("field") == field, data
    for word in ([mentions] if isinstance(mentions, str) else mentions or []):
        assert word.lower() in data["message"].lower(), (word, data)
    return data


# -- a server the engine calls ------------------------------------------------------------------------

class LoopbackHTTP:
    """A real HTTP server on 127.0.0.1 with the test's request handler, on a free port
    (``.port``), serving from a thread until ``close()``."""

    def __init__(self, handler):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.timeout = 5
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
