"""Files over HTTP on both engines, as an attacker with a low role would try them: a
File record pointing at someone else's private file, uploads a browser would run
(html, svg, a page named .png), oversized uploads, names colliding with other
content, and the bytes of deleted files."""
import json
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

import lowcode
from lowcode.sites import read_json, write_json

from .test_api import error, make_user, ok, refresh, token, write

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
HTML = b"<html><script>fetch('/api/method/frappe.auth.get_logged_user')</script></html>"


@pytest.fixture
def site_config(ctx):
    """set(**values) writes keys into the site's site_config.json (read per request);
    the file is restored after the test."""
    path = os.path.join(ctx.site_path, "site_config.json")
    original = read_json(path)

    def set_values(**values):
        write_json(path, dict(original, **values))
        ctx.conf.update(values)
    yield set_values
    write_json(path, original)


@pytest.fixture
def people(ctx, make_doctype, unique):
    """A DocType a seller writes and a reader reads; an outsider has no role at all."""
    seller_role, reader_role = f"FSeller {unique}", f"FReader {unique}"
    seller = make_user(unique, "fseller", roles=(seller_role,))
    reader = make_user(unique, "freader", roles=(reader_role,))
    outsider = make_user(unique, "foutsider", roles=())
    dt = make_doctype([{"fieldname": "title", "fieldtype": "Data", "label": "Title"}], permissions=[
        {"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1},
        {"role": seller_role, "read": 1, "write": 1, "create": 1},
        {"role": reader_role, "read": 1}])
    doc = lowcode.get_doc({"doctype": dt, "title": "deal"}).insert()
    out = {"dt": dt, "doc": doc.name, "seller": token(seller), "reader": token(reader),
           "outsider": token(outsider), "admin": token(make_user(unique, "fadmin"))}
    refresh(ctx)
    return out


def upload(client, headers, name, content, private=True, **extra):
    data = {"file": SimpleUploadedFile(name, content), "is_private": "1" if private else "0"}
    data.update(extra)
    return client.post("/api/method/upload_file", data, **headers)


def content(response):
    return b"".join(response.streaming_content)


def file_path(ctx, url):
    folder = "private" if url.startswith("/private/") else "public"
    return os.path.join(ctx.site_path, folder, "files", url.rsplit("/", 1)[1])


def test_a_file_record_cannot_point_at_someone_elses_file(ctx, client, people, unique):
    secret = ok(upload(client, people["admin"], f"payroll-{unique}.csv", b"name,salary\nceo,1000000\n"))["message"]
    url = secret["file_url"]
    h = people["outsider"]
    error(client.get(url, **h), 403, "PermissionError")
    # Uploading the same name and content gets a file of one's own, not the secret one.
    guess = ok(upload(client, h, f"payroll-{unique}.csv", b"name,salary\nceo,1000000\n"))["message"]
    assert guess["file_url"] != url
    error(client.get(url, **h), 403, "PermissionError")

    # A forged record: no File may name a stored path it did not store, in any spelling.
    for forged in (url, url.upper(), "/files/../private/files/" + url.rsplit("/", 1)[1], " " + url,
                   "javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,<script>x</script>",
                   "//evil.example.com/x", "file:///etc/passwd"):
        r = client.post("/api/resource/File", json.dumps({"file_url": forged, "file_name": "x.csv"}),
                        content_type="application/json", **h)
        error(r, 417, field="file_url")
    error(client.get(url, **h), 403, "PermissionError")
    refresh(ctx)
    assert ctx.db.sql("SELECT COUNT(*) FROM `tabFile` WHERE `file_url`=%s", (url,))[0][0] == 1

    # An external address is fine (and never private); turning it into the secret path is not.
    mine = ok(client.post("/api/resource/File", json.dumps({"file_url": "https://example.com/a.pdf",
                                                            "is_private": 1}),
                          content_type="application/json", **h))["data"]
    assert mine["is_private"] == 0
    error(client.put(f"/api/resource/File/{mine['name']}", json.dumps({"file_url": url}),
                     content_type="application/json", **h), 417, field="file_url")
    error(client.get(url, **h), 403, "PermissionError")

    # My own upload: its record may be edited, but its path and stored facts stay.
    own = ok(upload(client, h, f"mine-{unique}.txt", b"my notes"))["message"]
    r = ok(client.put(f"/api/resource/File/{own['name']}", json.dumps(
        {"file_name": "renamed.txt", "is_private": 0, "content_hash": "x", "file_url": own["file_url"]}),
        content_type="application/json", **h))["data"]
    assert r["file_url"] == own["file_url"] and r["is_private"] == 1 and r["content_hash"] == own["content_hash"]
    assert content(client.get(own["file_url"], **h)) == b"my notes"
    error(client.get(own["file_url"], **people["reader"]), 403)


def test_private_files_follow_the_document_they_are_attached_to(ctx, client, people, unique):
    dt, name = people["dt"], people["doc"]
    attached = ok(upload(client, people["seller"], f"offer-{unique}.pdf", b"%PDF-1.4 offer", doctype=dt,
                         docname=name))["message"]
    assert attached["attached_to_name"] == name
    for who, status in (("seller", 200), ("reader", 200), ("admin", 200), ("outsider", 403)):
        assert client.get(attached["file_url"], **people[who]).status_code == status, who

    # Attaching needs write on the document: a reader cannot, by upload or by record.
    error(upload(client, people["reader"], f"sneak-{unique}.txt", b"x", doctype=dt, docname=name), 403)
    error(client.post("/api/resource/File", json.dumps({"file_url": "https://example.com/x.pdf",
                                                        "attached_to_doctype": dt, "attached_to_name": name}),
                      content_type="application/json", **people["reader"]), 403)
    # nor move their own file onto it
    own = ok(upload(client, people["reader"], f"own-{unique}.txt", b"x"))["message"]
    error(client.put(f"/api/resource/File/{own['name']}", json.dumps({"attached_to_doctype": dt,
                                                                      "attached_to_name": name}),
                     content_type="application/json", **people["reader"]), 403)
    # unattached private files: the owner and System Managers only
    assert client.get(own["file_url"], **people["reader"]).status_code == 200
    assert client.get(own["file_url"], **people["admin"]).status_code == 200
    error(client.get(own["file_url"], **people["seller"]), 403)


def test_uploads_are_never_served_as_active_content(ctx, client, people, unique, site_config):
    h = people["seller"]
    # Types a browser runs are refused by the default allow-list, in any case.
    for name, data in ((f"page-{unique}.html", HTML), (f"img-{unique}.SVG", b"<svg onload=alert(1)/>"),
                       (f"app-{unique}.js", b"alert(1)"), (f"noext-{unique}", b"x"), (f"x-{unique}.xhtml", HTML)):
        error(upload(client, h, name, data), 417, field="file")
    # A site may allow them; they are then downloads, never pages of the site.
    site_config(allowed_file_extensions=["html", "svg", "png", "pdf", "txt"])
    for private in (False, True):
        page = ok(upload(client, h, f"page-{unique}.html", HTML, private=private))["message"]
        r = client.get(page["file_url"], **h)
        assert r.status_code == 200 and content(r) == HTML
        assert r["Content-Disposition"].startswith("attachment")
        assert r["Content-Type"] == "application/octet-stream"
        assert r["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in r["Content-Security-Policy"]
    # A page named like an image is not shown either (it is not a PNG).
    fake = ok(upload(client, h, f"x-{unique}.html.png", HTML, private=False))["message"]
    r = client.get(fake["file_url"])
    assert r["Content-Disposition"].startswith("attachment") and r["X-Content-Type-Options"] == "nosniff"
    # Real images and PDFs are shown inline, still sandboxed and unsniffed.
    for name, data, ctype in ((f"p-{unique}.png", PNG, "image/png"), (f"d-{unique}.pdf", b"%PDF-1.4\n", "application/pdf")):
        f = ok(upload(client, h, name, data, private=False))["message"]
        r = client.get(f["file_url"])
        assert r["Content-Type"] == ctype and r["Content-Disposition"].startswith("inline")
        assert r["X-Content-Type-Options"] == "nosniff" and "sandbox" in r["Content-Security-Policy"]
    # Not on the list: refused even though it was allowed by default.
    error(upload(client, h, f"sheet-{unique}.csv", b"a,b"), 417, field="file")
    # Path tricks in the name end in the files folder, under a plain name.
    f = ok(upload(client, h, f"../../../site_config-{unique}.txt", b"x", private=False))["message"]
    assert f["file_url"] == f"/files/site_config-{unique}.txt"


def test_upload_size_limit_is_a_clean_413(ctx, client, people, unique, site_config):
    h = people["seller"]
    big = b"x" * (25 * 1024 * 1024 + 1)
    r = upload(client, h, f"big-{unique}.txt", big)
    error(r, 413, "MaxFileSizeReachedError", field="file")
    site_config(max_file_size=1000)
    error(upload(client, h, f"small-{unique}.txt", b"x" * 1001), 413, "MaxFileSizeReachedError", field="file")
    ok(upload(client, h, f"fits-{unique}.txt", b"x" * 1000))
    refresh(ctx)
    assert ctx.db.sql("SELECT COUNT(*) FROM `tabFile` WHERE `file_name` IN (%s, %s)",
                      (f"big-{unique}.txt", f"small-{unique}.txt"))[0][0] == 0
    folder = os.path.join(ctx.site_path, "private", "files")
    assert not os.path.exists(os.path.join(folder, f"small-{unique}.txt"))


def test_same_name_never_overwrites_other_content(ctx, client, people, unique):
    h = people["seller"]
    first = ok(upload(client, h, f"notes-{unique}.txt", b"first", private=False))["message"]
    same = ok(upload(client, h, f"notes-{unique}.txt", b"first", private=False))["message"]
    assert same["file_url"] == first["file_url"]  # the same bytes are stored once
    # Someone planted a file under the short-suffix name the next upload would take.
    import hashlib
    digest = hashlib.sha256(b"second").hexdigest()
    planted = os.path.join(ctx.site_path, "public", "files", f"notes-{unique}-{digest[:6]}.txt")
    with open(planted, "wb") as f:
        f.write(b"planted")
    second = ok(upload(client, h, f"notes-{unique}.txt", b"second", private=False))["message"]
    assert second["file_url"] not in (first["file_url"], f"/files/notes-{unique}-{digest[:6]}.txt")
    assert content(client.get(second["file_url"])) == b"second"
    assert content(client.get(first["file_url"])) == b"first"
    with open(planted, "rb") as f:
        assert f.read() == b"planted"


@pytest.mark.parametrize("private", [False, True], ids=["public", "private"])
def test_deleting_a_file_removes_its_bytes_after_commit(ctx, client, people, unique, private):
    h = people["seller"]
    f = ok(upload(client, h, f"gone-{unique}.txt", b"bye", private=private))["message"]
    path = file_path(ctx, f["file_url"])
    assert os.path.exists(path)
    # A delete that rolls back keeps them.
    write(ctx)
    lowcode.get_doc("File", f["name"]).delete()
    assert os.path.exists(path)
    ctx.db.rollback()
    assert os.path.exists(path)
    ctx.db.begin(write=False)
    # Once the delete commits, the bytes go.
    ok(client.delete(f"/api/resource/File/{f['name']}", **h))
    assert not os.path.exists(path)
    error(client.get(f["file_url"], **h), 404)


def test_shared_bytes_stay_while_a_file_names_them(ctx, client, people, unique):
    h = people["seller"]
    # Public uploads of the same content share their bytes.
    a = ok(upload(client, h, f"twice-{unique}.txt", b"same", private=False))["message"]
    b = ok(upload(client, h, f"twice-{unique}.txt", b"same", private=False))["message"]
    assert a["file_url"] == b["file_url"]
    path = file_path(ctx, a["file_url"])
    ok(client.delete(f"/api/resource/File/{a['name']}", **h))
    assert os.path.exists(path) and content(client.get(b["file_url"])) == b"same"
    ok(client.delete(f"/api/resource/File/{b['name']}", **h))
    assert not os.path.exists(path)
    # Private ones never do: each upload has its own.
    c = ok(upload(client, h, f"twice-{unique}.txt", b"same"))["message"]
    d = ok(upload(client, h, f"twice-{unique}.txt", b"same"))["message"]
    assert c["file_url"] != d["file_url"]
    ok(client.delete(f"/api/resource/File/{c['name']}", **h))
    assert not os.path.exists(file_path(ctx, c["file_url"])) and os.path.exists(file_path(ctx, d["file_url"]))
    # An external file has no bytes here; deleting it touches nothing.
    ext = ok(client.post("/api/resource/File", json.dumps({"file_url": f"https://example.com/files/twice-{unique}.txt"}),
                         content_type="application/json", **h))["data"]
    ok(client.delete(f"/api/resource/File/{ext['name']}", **h))
    assert os.path.exists(file_path(ctx, d["file_url"]))


def test_upload_file_with_only_an_http_file_url_links_that_address(ctx, client, people, unique):
    """Frappe's upload_file with ``file_url`` and no file: a File pointing at that http(s)
    address, attached to the record when the caller may write it; a local path or another
    scheme is refused naming file_url, and nothing is written."""
    url = f"https://cdn.example.com/brochures/{unique}.pdf"
    made = ok(client.post("/api/method/upload_file", {"file_url": url, "doctype": people["dt"],
                                                      "docname": people["doc"]}, **people["seller"]))["message"]
    assert made["file_url"] == url and made["file_name"] == f"{unique}.pdf" and not made["is_private"]
    assert made["attached_to_name"] == people["doc"]
    before = lowcode.get_count("File")
    for bad in ("/private/files/secret.csv", "/files/x.png", "file:///etc/passwd", "javascript:alert(1)",
                "https://"):
        r = client.post("/api/method/upload_file", {"file_url": bad}, **people["seller"])
        assert r.status_code in (400, 417) and "file_url" in json.dumps(r.json()), (bad, r.content[:300])
    # a reader may not attach to the record
    error(client.post("/api/method/upload_file", {"file_url": url, "doctype": people["dt"],
                                                  "docname": people["doc"]}, **people["reader"]), 403)
    refresh(ctx)
    assert lowcode.get_count("File") == before


def test_deleting_a_record_deletes_its_attachments(ctx, client, unique):
    """Frappe's delete_doc takes the File records attached to a document along, and their
    bytes unless another File still names them; a renamed document keeps its attachments.
    Over REST, as a Frappe client does it (create a Lead, upload_file onto it, DELETE)."""
    h = token(make_user(unique, "attacher", roles=("Sales Manager",)))
    refresh(ctx)

    def new_lead(tag):
        return ok(client.post("/api/resource/Lead", json.dumps({"first_name": f"{tag} {unique}"}),
                              content_type="application/json", **h))["data"]["name"]

    def attach(lead, name, data, private):
        return ok(upload(client, h, name, data, private=private, doctype="Lead", docname=lead))["message"]

    def files_of(lead):
        refresh(ctx)
        return lowcode.get_all("File", filters={"attached_to_doctype": "Lead", "attached_to_name": lead},
                               pluck="name")

    lead = new_lead("Keep")
    private = attach(lead, f"notes-{unique}.txt", b"private notes", True)
    public = attach(lead, f"logo-{unique}.png", PNG + unique.encode(), False)
    assert content(client.get(private["file_url"], **h)) == b"private notes"
    assert len(files_of(lead)) == 2

    # Renamed, the Lead keeps its attachments (and their downloads).
    renamed = ok(client.post("/api/method/frappe.client.rename_doc", json.dumps(
        {"doctype": "Lead", "old_name": lead, "new_name": f"{lead}-R"}), content_type="application/json", **h))
    lead = renamed["message"]
    assert sorted(files_of(lead)) == sorted([private["name"], public["name"]])
    assert content(client.get(private["file_url"], **h)) == b"private notes"

    # Another Lead holds the same public bytes (one more File naming them).
    other = new_lead("Other")
    shared = attach(other, f"logo-{unique}.png", PNG + unique.encode(), False)
    assert shared["file_url"] == public["file_url"]

    ok(client.delete(f"/api/resource/Lead/{lead}", **h))
    assert files_of(lead) == []
    assert not lowcode.db.exists("File", private["name"]) and not lowcode.db.exists("File", public["name"])
    assert not os.path.exists(file_path(ctx, private["file_url"]))
    error(client.get(private["file_url"], **h), 404)
    # The shared bytes stay while the other Lead's File names them ...
    assert content(client.get(public["file_url"])) == PNG + unique.encode()
    # ... and go with the last one.
    ok(client.delete(f"/api/resource/Lead/{other}", **h))
    assert files_of(other) == [] and not os.path.exists(file_path(ctx, public["file_url"]))
    error(client.get(public["file_url"]), 404)


def test_a_rolled_back_delete_keeps_the_attachments(ctx, client, people, unique):
    """The attachments go in the deleting transaction, the bytes after its commit: a delete
    that rolls back leaves the File and its file as they were."""
    h = people["admin"]
    f = ok(upload(client, h, f"kept-{unique}.txt", b"kept", doctype=people["dt"], docname=people["doc"]))["message"]
    path = file_path(ctx, f["file_url"])
    write(ctx)
    lowcode.delete_doc(people["dt"], people["doc"])
    assert not lowcode.db.exists("File", f["name"]) and os.path.exists(path)
    ctx.db.rollback()
    ctx.db.begin(write=False)
    assert lowcode.db.exists("File", f["name"]) and os.path.exists(path)
    assert content(client.get(f["file_url"], **h)) == b"kept"
