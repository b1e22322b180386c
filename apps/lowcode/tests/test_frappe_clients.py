"""Published Frappe clients against the real server, on both engines: frappe-js-sdk (npm,
run by node: apps/lowcode/tests/clients/frappe_js_sdk_run.js) and pyfrappeclient (PyPI,
the Frappe team's frappe-client packaged), each doing what an integration does - log in
with a password or an API key, list with filters, insert, update, read, count, call a
method, upload a file, delete, log out - with the results checked here.

The server is uvicorn running the WSGI application, as ``lowcode serve`` runs it, on the
session's bench; requests name the site in their Host header."""
import json
import os
import shutil
import subprocess

import pytest

import lowcode
from lowcode import auth
from tests.server import UvicornServer

from .test_api import PASSWORD, make_user, refresh

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
JS_RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "clients", "frappe_js_sdk_run.js")


@pytest.fixture(scope="module")
def live(site, bench, tmp_path_factory):
    """The site served over HTTP for this module (one server per engine)."""
    server = UvicornServer(bench, str(tmp_path_factory.mktemp("server") / "server.log"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def integrator(ctx, unique):
    """A Sales Manager with a password and an API key: (email, key, secret)."""
    user = make_user(unique, "client", roles=("Sales Manager", "Sales User"))
    key, secret = auth.generate_keys(user)
    refresh(ctx)
    return user, key, secret


def test_frappe_js_sdk(ctx, live, site, integrator, unique):
    assert shutil.which("node"), "node is needed (make install puts it on the machine)"
    assert os.path.isdir(os.path.join(ROOT, "node_modules", "frappe-js-sdk")), \
        "frappe-js-sdk is missing: run make install (npm ci)"
    user, key, secret = integrator
    args = {"url": live.url, "host": site, "user": user, "password": PASSWORD, "key": key, "secret": secret,
            "tag": unique}
    run = subprocess.run(["node", JS_RUNNER, json.dumps(args)], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert run.stdout, (run.returncode, run.stderr[-2000:], live.log())
    out = json.loads(run.stdout)
    assert run.returncode == 0 and "error" not in out, (out, run.stderr[-2000:], live.log())

    # before logging in, Guest: 403 PermissionError (what the SDK's apps take as "log in")
    assert out["guest"]["httpStatus"] == 403 and out["guest"]["exc_type"] == "PermissionError", out["guest"]
    assert out["login"]["message"] == "Logged In" and out["loggedUser"] == user
    lead = out["created"]["name"]
    assert out["created"]["first_name"] == f"Sdk {unique}"
    assert out["listed"] == [{"name": lead, "first_name": f"Sdk {unique}"}]
    assert out["updated"] == "Buyer" and out["fetched"] == "Buyer"
    assert out["count"] == 1 and out["called"] == 1
    assert out["value"] == {"first_name": f"Sdk {unique}"}
    assert out["ping"] == "pong"
    assert out["uploaded"] == {"file_url": f"/private/files/sdk-{unique}.txt", "attached_to_name": lead}
    assert out["deleted"]["message"] == "ok"
    # the Lead's attachment went with it: File record, bytes, download (Frappe's delete_doc)
    assert out["downloadBefore"] == 200 and out["downloadAfter"] == 404
    assert out["missing"]["httpStatus"] == 404 and out["missing"]["exc_type"] == "DoesNotExistError"
    assert out["afterLogout"]["httpStatus"] == 403
    # token auth
    assert out["tokenUser"] == user and out["tokenCount"] == 0
    assert out["badToken"]["httpStatus"] == 401 and out["badToken"]["exc_type"] == "AuthenticationError"
    refresh(ctx)
    assert not lowcode.db.exists("Lead", lead)
    assert not lowcode.db.exists("File", {"file_url": out["uploaded"]["file_url"]})
    assert not os.path.exists(os.path.join(ctx.site_path, "private", "files", f"sdk-{unique}.txt"))


def test_pyfrappeclient(ctx, live, site, integrator, unique):
    from frappeclient import FrappeClient
    from frappeclient.frappeclient import FrappeException
    user, key, secret = integrator

    def connect():
        c = FrappeClient(live.url)
        c.session.headers["Host"] = site  # the site, as a browser would name it
        return c

    c = connect()
    assert c.login(user, PASSWORD)["message"] == "Logged In"  # POST / cmd=login
    lead = c.insert({"doctype": "Lead", "first_name": f"Py {unique}", "email_id": f"py-{unique}@example.com"})
    name = lead["name"]
    listed = c.get_list("Lead", fields=["name", "first_name"], filters=[["email_id", "=", f"py-{unique}@example.com"]])
    assert listed == [{"name": name, "first_name": f"Py {unique}"}]
    assert any(row["name"] == name for row in c.get_list("Lead", filters={"email_id": f"py-{unique}@example.com"}))
    updated = c.update({"doctype": "Lead", "name": name, "job_title": "Buyer"})  # PUT data=<json>
    assert updated["job_title"] == "Buyer"
    assert c.get_doc("Lead", name)["job_title"] == "Buyer"
    assert c.get_value("Lead", "job_title", {"name": name}) == {"job_title": "Buyer"}
    c.set_value("Lead", name, "job_title", "Owner")
    assert c.insert_comment("Lead", name, user, "Called back")["content"] == "Called back"
    c.logout()  # GET /?cmd=logout
    with pytest.raises(FrappeException) as gone:
        c.get_doc("Lead", name)
    assert "PermissionError" in str(gone.value)

    # API key and secret (Basic), a delete through cmd=frappe.client.delete
    k = connect()
    k.authenticate(key, secret)
    assert k.get_doc("Lead", name)["job_title"] == "Owner"
    k.delete("Lead", name)
    refresh(ctx)
    assert not lowcode.db.exists("Lead", name)
