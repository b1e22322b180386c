"""Files on S3-compatible storage (lowcode/storage.py: S3Storage), through the real HTTP
API of a site whose ``file_storage`` names a bucket on an S3-compatible server on
loopback: moto's standalone server, started by the fixture below.

Moto does not check a presigned URL's expiry (it ignores query-string signatures), which
S3 and every S3-compatible server do; the fixture therefore puts a small gateway in front
of it that answers an expired presigned request as S3 does (403 AccessDenied, "Request has
expired") and forwards everything else unchanged."""
import datetime
import hashlib
import http.client
import os
import socket
import tarfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests

from lowcode import backups
from lowcode.storage import storage_for

from .test_api import error, ok, refresh
from .test_files import HTML, PNG, content, people, site_config, upload  # noqa: F401 - fixtures

pytestmark = pytest.mark.timeout(120)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _ExpiryGateway(BaseHTTPRequestHandler):
    """Forwards to moto; refuses a presigned request past X-Amz-Date + X-Amz-Expires."""
    upstream = None  # (host, port)
    protocol_version = "HTTP/1.1"  # answers boto3's "Expect: 100-continue" at once

    def _forward(self):
        query = parse_qs(urlsplit(self.path).query)
        if "X-Amz-Expires" in query:
            signed = datetime.datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(
                tzinfo=datetime.timezone.utc)
            if datetime.datetime.now(datetime.timezone.utc) > signed + datetime.timedelta(
                    seconds=int(query["X-Amz-Expires"][0])):
                body = b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
                self.send_response(403)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else None
        conn = http.client.HTTPConnection(*self.upstream, timeout=30)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() != "expect"}
            conn.request(self.command, self.path, body=data, headers=headers)
            r = conn.getresponse()
            payload = r.read()
            self.send_response(r.status)
            for key, value in r.getheaders():
                if key.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
        finally:
            conn.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture(scope="module")
def s3_endpoint():
    """http://127.0.0.1:<port> of an S3-compatible server (moto) behind the expiry gateway."""
    import logging
    from moto.server import ThreadedMotoServer
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server logs every request
    moto_port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
    server.start()
    handler = type("Gateway", (_ExpiryGateway,), {"upstream": ("127.0.0.1", moto_port)})
    gateway = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=gateway.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{gateway.server_address[1]}"
    finally:
        gateway.shutdown()
        gateway.server_close()
        server.stop()


@pytest.fixture
def bucket(ctx, s3_endpoint, site_config):  # noqa: F811 - site_config is the imported fixture
    """A fresh bucket the site stores its files in; ``bucket.keys()`` lists it through a
    separate client, ``bucket.configure(site={...}, **more)`` changes the site's
    file_storage (and other site_config keys)."""
    name = f"crm-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="test-key",
                      aws_secret_access_key="test-secret")
    s3.create_bucket(Bucket=name)
    settings = {"backend": "s3", "bucket": name, "endpoint_url": s3_endpoint, "region": "us-east-1",
                "access_key_id": "test-key", "secret_access_key": "test-secret", "prefix": "site-a/"}

    class Bucket:
        client = s3

        @staticmethod
        def configure(site=None, **more):
            settings.update(more)
            site_config(file_storage=settings, **(site or {}))

        @staticmethod
        def keys():
            return {o["Key"] for o in s3.list_objects_v2(Bucket=name).get("Contents", ())}

        @staticmethod
        def read(key):
            return s3.get_object(Bucket=name, Key=key)["Body"].read()
    Bucket.name = name
    Bucket.configure()
    return Bucket


def _file_row_count(ctx, file_name):
    refresh(ctx)
    return ctx.db.sql("SELECT COUNT(*) FROM `tabFile` WHERE `file_name`=%s", (file_name,))[0][0]


def test_uploads_are_objects_and_private_downloads_are_signed_redirects(ctx, client, people, bucket, unique):
    dt, docname = people["dt"], people["doc"]
    public = ok(upload(client, people["seller"], f"logo-{unique}.png", PNG, private=False))["message"]
    secret_bytes = b"PK\x03\x04 deal sheet " + uuid.uuid4().bytes * 1000
    private = ok(upload(client, people["seller"], f"deal-{unique}.xlsx", secret_bytes, doctype=dt,
                        docname=docname))["message"]
    assert public["file_url"] == f"/files/logo-{unique}.png" and public["is_private"] == 0
    assert private["file_url"] == f"/private/files/deal-{unique}.xlsx" and private["is_private"] == 1
    assert {f"site-a/public/files/logo-{unique}.png", f"site-a/private/files/deal-{unique}.xlsx"} <= bucket.keys()
    assert bucket.read(f"site-a/private/files/deal-{unique}.xlsx") == secret_bytes
    # nothing on the site's disk
    assert not os.path.exists(os.path.join(ctx.site_path, "private", "files", f"deal-{unique}.xlsx"))

    # A reader of the document gets a short-lived signed address, never a permanent one.
    r = client.get(private["file_url"], **people["reader"])
    assert r.status_code == 302 and r["Cache-Control"] == "private, no-store"
    location = r["Location"]
    query = parse_qs(urlsplit(location).query)
    assert location.startswith(bucket.client.meta.endpoint_url) and query["X-Amz-Expires"] == ["300"]
    assert "X-Amz-Signature" in query and "test-secret" not in location
    got = requests.get(location, timeout=10)
    assert got.status_code == 200
    assert hashlib.sha256(got.content).hexdigest() == hashlib.sha256(secret_bytes).hexdigest()
    assert got.headers["Content-Type"] == "application/octet-stream"
    assert got.headers["Content-Disposition"] == f'attachment; filename="deal-{unique}.xlsx"'

    # Someone without permission: 403 and no address.
    r = client.get(private["file_url"], **people["outsider"])
    error(r, 403, "PermissionError")
    assert "Location" not in r and bucket.name.encode() not in r.content and b"X-Amz" not in r.content

    # Images and PDFs shown inline are streamed from the bucket by the server (the desk's
    # CSP loads them from its own origin only), with the same headers as a local file.
    pdf = b"%PDF-1.4 offer " + uuid.uuid4().bytes * 100
    offer = ok(upload(client, people["seller"], f"offer-{unique}.pdf", pdf, doctype=dt, docname=docname))["message"]
    error(client.get(offer["file_url"], **people["outsider"]), 403, "PermissionError")
    for url, data, ctype, h in ((offer["file_url"], pdf, "application/pdf", people["reader"]),
                                (public["file_url"], PNG, "image/png", {})):
        r = client.get(url, **h)
        assert r.status_code == 200 and content(r) == data
        assert r["Content-Type"] == ctype and r["Content-Disposition"].startswith("inline")
        assert r["X-Content-Type-Options"] == "nosniff" and "sandbox" in r["Content-Security-Policy"]
    # The same public bytes are stored once; a missing object is a 404.
    again = ok(upload(client, people["seller"], f"logo-{unique}.png", PNG, private=False))["message"]
    assert again["file_url"] == public["file_url"]
    assert client.get(f"/files/none-{unique}.png").status_code == 404
    assert client.get(f"/private/files/none-{unique}.pdf", **people["admin"]).status_code == 404


def test_a_signed_address_expires(ctx, client, people, bucket, unique):
    bucket.configure(signed_url_seconds=1)
    f = ok(upload(client, people["seller"], f"memo-{unique}.txt", b"memo"))["message"]
    r = client.get(f["file_url"], **people["seller"])
    assert r.status_code == 302 and parse_qs(urlsplit(r["Location"]).query)["X-Amz-Expires"] == ["1"]
    assert requests.get(r["Location"], timeout=10).content == b"memo"
    time.sleep(2.1)
    late = requests.get(r["Location"], timeout=10)
    assert late.status_code == 403 and b"expired" in late.content
    # a new request gets a new address
    assert requests.get(client.get(f["file_url"], **people["seller"])["Location"], timeout=10).content == b"memo"


def test_uploads_a_browser_would_run_are_downloads_from_the_bucket(ctx, client, people, bucket, unique):
    bucket.configure(site={"allowed_file_extensions": ["html", "svg", "png", "txt"]})
    svg = b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"
    for private in (False, True):
        for name, data in ((f"page-{unique}.html", HTML), (f"pic-{unique}.svg", svg),
                           (f"fake-{unique}.png", HTML)):
            f = ok(upload(client, people["seller"], name, data, private=private))["message"]
            r = client.get(f["file_url"], **people["seller"])
            assert r.status_code == 302, name
            got = requests.get(r["Location"], timeout=10)
            assert got.content == data
            assert got.headers["Content-Type"] == "application/octet-stream", name
            assert got.headers["Content-Disposition"].startswith("attachment"), name
            # the object itself carries the safe type too, should its address ever leak unsigned
            key = f"site-a/{'private' if private else 'public'}/files/{f['file_name']}"
            head = bucket.client.head_object(Bucket=bucket.name, Key=key)
            assert head["ContentType"] == "application/octet-stream"


def test_deleting_a_file_deletes_its_object_and_a_failed_upload_leaves_none(ctx, client, people, bucket, unique,
                                                                          make_doctype):
    f = ok(upload(client, people["seller"], f"gone-{unique}.txt", b"bye"))["message"]
    key = f"site-a/private/files/gone-{unique}.txt"
    assert key in bucket.keys()
    ok(client.delete(f"/api/resource/File/{f['name']}", **people["seller"]))
    assert key not in bucket.keys()
    assert client.get(f["file_url"], **people["admin"]).status_code == 404

    # The bytes are stored, then the request fails (the attachment field takes no URL):
    # the transaction rolls back and the object is deleted again.
    dt = make_doctype([{"fieldname": "count", "fieldtype": "Int", "label": "Count"}])
    import lowcode
    doc = lowcode.get_doc({"doctype": dt, "count": 1}).insert()
    ctx.db.commit()
    r = upload(client, people["admin"], f"broken-{unique}.txt", b"half", doctype=dt, docname=doc.name,
               fieldname="count")
    error(r, 417, "DataError", field="count")  # after its bytes were stored
    assert f"site-a/private/files/broken-{unique}.txt" not in bucket.keys()
    assert _file_row_count(ctx, f"broken-{unique}.txt") == 0


def test_reads_of_stored_files_come_from_the_bucket(ctx, client, people, bucket, unique):
    """The archive preview, Data Import and PDF images read a file through read_stored."""
    from lowcode.api.files import read_stored
    f = ok(upload(client, people["seller"], f"leads-{unique}.csv", b"first_name\nAda\n"))["message"]
    assert read_stored(f["file_url"]) == b"first_name\nAda\n"
    assert read_stored(f["file_url"], 5) == b"first"
    with pytest.raises(FileNotFoundError):
        read_stored(f"/private/files/none-{unique}.csv")
    # An empty file is stored and served (it has no first bytes to look at).
    empty = ok(upload(client, people["seller"], f"empty-{unique}.txt", b""))["message"]
    r = client.get(empty["file_url"], **people["seller"])
    assert r.status_code == 302 and requests.get(r["Location"], timeout=10).content == b""


def test_backup_with_files_reads_the_bucket(ctx, client, people, bench, bucket, unique):
    f = ok(upload(client, people["seller"], f"kept-{unique}.txt", b"kept bytes"))["message"]
    paths = backups.take_backup(bench, ctx.site, with_files=True)
    with tarfile.open(paths[-1]) as tar:
        member = tar.extractfile(f"private/files/{f['file_name']}")
        assert member.read() == b"kept bytes"
    for p in paths:
        os.remove(p)


def test_the_secret_may_be_given_encrypted_with_the_sites_key(ctx, bucket):
    from cryptography.fernet import Fernet
    key = Fernet.generate_key().decode()
    conf = {"encryption_key": key, "file_storage": {
        "backend": "s3", "bucket": bucket.name, "endpoint_url": bucket.client.meta.endpoint_url,
        "region": "us-east-1", "access_key_id": "test-key",
        "secret_access_key": Fernet(key.encode()).encrypt(b"plain-secret").decode()}}
    store = storage_for(conf, ctx.site_path, ctx.site)
    assert store.client._request_signer._credentials.secret_key == "plain-secret"
    store.save(True, f"enc-{uuid.uuid4().hex[:6]}.txt", b"x")  # the client works
    conf["encryption_key"] = Fernet.generate_key().decode()
    from lowcode.exceptions import FileStorageUnavailable
    with pytest.raises(FileStorageUnavailable) as e:
        storage_for(conf, ctx.site_path, ctx.site)
    assert "plain-secret" not in str(e.value) and "cannot be decrypted" in str(e.value)



def test_a_bucket_out_of_reach_is_a_clear_503_keeping_nothing(ctx, client, people, bucket, unique):
    bucket.configure(endpoint_url=f"http://127.0.0.1:{_free_port()}", secret_access_key="very-secret-value")
    r = upload(client, people["seller"], f"lost-{unique}.txt", b"lost")
    body = error(r, 503, "FileStorageUnavailable")
    assert bucket.name in body["message"] and "very-secret-value" not in r.content.decode()
    assert _file_row_count(ctx, f"lost-{unique}.txt") == 0
