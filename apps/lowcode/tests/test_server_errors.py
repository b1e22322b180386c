"""An unexpected exception in a request never reaches the client as a bare 500 or a
traceback: a clear JSON error (409 for a value already taken, 503 with Retry-After
for a lock wait or a lost connection, 500 otherwise) with a trace id, and a log line
with the same trace id and the traceback. Real errors, raised by whitelisted methods of
a throw-away app against the site's real database."""
import logging
import re

import pytest

from lowcode import installer

from .test_api import api_user, body, refresh, write  # noqa: F401 - api_user is a fixture

API = '''
import lowcode
from lowcode import database
from lowcode.context import local


@lowcode.whitelist(methods=["POST"])
def attribute():
    return lowcode.db.no_such_helper("x")  # app code calling what the engine lacks


@lowcode.whitelist(methods=["POST"])
def duplicate(key):
    for _ in range(2):
        local.db.sql("INSERT INTO `tabSeries` (`name`, `current`) VALUES (%s, 1)", (key,))


@lowcode.whitelist(methods=["POST"])
def missing_table():
    return lowcode.db.sql("SELECT * FROM `tabNo Such Table`")


@lowcode.whitelist(methods=["POST"])
def missing_column():
    return lowcode.db.sql("SELECT `no_such_column` FROM `tabUser`")


@lowcode.whitelist(methods=["POST"])
def lock_wait():
    """A second connection waits for a row this request holds, and gives up."""
    local.db.sql("UPDATE `tabUser` SET `modified`=`modified` WHERE `name`='Administrator'")
    other = database.connect(local.conf, local.site_path)
    try:
        if other.db_type == "sqlite":
            other.conn.execute("PRAGMA busy_timeout=50")
        else:
            other.sql("SET SESSION innodb_lock_wait_timeout=1")
        other.begin()
        other.sql("UPDATE `tabUser` SET `modified`=`modified` WHERE `name`='Administrator'")
    finally:
        other.close()


@lowcode.whitelist(methods=["POST"])
def connection_lost():
    local.db.conn.close()
    return lowcode.db.sql("SELECT 1")
'''


@pytest.fixture
def app_methods(ctx, client, temp_app, unique, api_user):
    """The methods' URL prefix, and a client sending an API token."""
    app = temp_app(hooks=f'desk_pages = {{"broken-{unique}": "tmpapp_{unique}_0.pages.broken"}}\n')
    app.write("api.py", API)
    app.write("pages.py", "def broken(request, name=None):\n    return request.no_such_attribute\n")
    write(ctx)
    installer.install_app(app.name)
    refresh(ctx)
    client.defaults.update(api_user[1])
    return f"/api/method/{app.name}.api."


def _trace(response, status, exc_type, caplog, exc_name):
    data = body(response)
    assert response.status_code == status, (response.status_code, data)
    assert data["exc_type"] == exc_type, data
    trace = data["trace_id"]
    assert re.fullmatch(r"[0-9a-f]{16}", trace) and trace in data["message"]
    text = response.content.decode()
    assert "Traceback" not in text and "File \"" not in text and "SELECT" not in text, text
    lines = [r for r in caplog.records if trace in r.getMessage()]
    assert len(lines) == 1, caplog.text
    assert lines[0].exc_info and exc_name in (None, lines[0].exc_info[0].__name__), lines[0].exc_info
    assert "Traceback" in caplog.text
    return data


def test_unexpected_errors_answer_json_with_a_trace_id(ctx, client, app_methods, unique, caplog):
    caplog.set_level(logging.INFO, logger="lowcode")
    data = _trace(client.post(app_methods + "attribute"), 500, "InternalServerError", caplog, "AttributeError")
    assert "no_such_helper" not in data["message"]  # the cause stays in the log
    _trace(client.post(app_methods + "missing_table"), 500, "DatabaseError", caplog, "OperationalError"
           if ctx.db.db_type == "sqlite" else "ProgrammingError")
    data = _trace(client.post(app_methods + "missing_column"), 500, "DatabaseError", caplog,
                  "OperationalError")
    assert "migrate" in data["message"]


def test_duplicate_is_409_and_nothing_is_written(ctx, client, app_methods, unique, caplog):
    key = f"dup-{unique}"
    data = _trace(client.post(app_methods + "duplicate", {"key": key}), 409, "DuplicateEntryError", caplog,
                  "IntegrityError")
    assert "already exists" in data["message"]
    refresh(ctx)
    assert not ctx.db.sql("SELECT 1 FROM `tabSeries` WHERE `name`=%s", (key,))


def test_lock_wait_and_lost_connection_are_503_with_retry_after(ctx, client, app_methods, caplog):
    r = client.post(app_methods + "lock_wait")
    _trace(r, 503, "QueryTimeoutError", caplog, "OperationalError")
    assert int(r["Retry-After"]) > 0
    r = client.post(app_methods + "connection_lost")
    _trace(r, 503, "DatabaseUnavailableError", caplog, None)  # the driver's own error class
    assert int(r["Retry-After"]) > 0
    # the broken connection was dropped: the next request works
    assert client.post(app_methods + "no_such_method").status_code in (404, 403)
    assert client.get("/api/method/ping").json()["message"] == "pong"


def test_desk_page_shows_the_trace_id(ctx, client, app_methods, unique, caplog):
    from .desk_helpers import login
    login(ctx, client, "Administrator")
    r = client.get(f"/app/broken-{unique}", HTTP_ACCEPT="text/html")
    text = r.content.decode()
    assert r.status_code == 500 and 'id="error-page"' in text and "no_such_attribute" not in text
    trace = re.search(r'id="error-trace">[^<]*<code dir="ltr">([0-9a-f]{16})</code>', text).group(1)
    assert any(trace in rec.getMessage() and rec.exc_info[0] is AttributeError for rec in caplog.records)
