"""The document archive (lowcode/archive.py, desk/views/archive.py) over HTTP on both
engines: a folder restricted to a role is hidden, with its files, from a user outside
the role on the archive page, in search, over REST, in previews and on download; uploads
go into a folder (private, the upload allow-list applies); moves and renames are the
owner's; an HTML file is previewed as escaped text and downloaded, never run."""
import json
import os
from urllib.parse import urlencode

from django.core.files.uploadedfile import SimpleUploadedFile

import lowcode
from lowcode.api.files import save_file
from lowcode.tests.desk_helpers import commit, ensure_role, login, make_user


def text(response):
    return b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()


def folder(name, parent=None, roles=()):
    return lowcode.get_doc({"doctype": "File", "is_folder": 1, "file_name": name, "folder": parent,
                            "roles": [{"role": r} for r in roles]}).insert().name


def world(unique):
    w = type("World", (), {})()
    w.role = f"Board {unique}"
    ensure_role(w.role)
    w.insider = make_user(unique, "insider", ["Sales User", w.role])
    w.outsider = make_user(unique, "outsider", ["Sales User"])
    w.open = folder(f"Open {unique}")
    w.secret = folder(f"Secret {unique}", roles=[w.role])
    w.open_file = save_file(f"plan-{unique}.txt", b"open plan", private=True, folder=w.open)
    w.secret_file = save_file(f"salaries-{unique}.txt", b"secret numbers", private=True, folder=w.secret)
    with_user = lowcode.local.user
    lowcode.set_user(w.insider)
    try:
        w.inner = folder(f"Inner {unique}", parent=w.secret)  # takes the secret folder's role
    finally:
        lowcode.set_user(with_user)
    return w


def test_a_restricted_folder_is_hidden_from_other_roles_everywhere(ctx, client, unique):
    w = world(unique)
    commit(ctx)
    login(ctx, client, w.outsider)
    top = text(client.get("/app/archive"))
    assert f"Open {unique}" in top and f"Secret {unique}" not in top
    found = text(client.get("/app/archive?" + urlencode({"q": unique})))
    assert f"plan-{unique}.txt" in found and f"Open {unique}" in found
    for hidden in (f"salaries-{unique}", f"Secret {unique}", f"Inner {unique}"):
        assert hidden not in found
    assert client.get("/app/archive?" + urlencode({"folder": w.secret})).status_code == 403
    assert client.get(f"/app/archive/preview/{w.secret_file.name}").status_code == 403
    assert client.get(w.secret_file.file_url).status_code == 403
    download = client.get(w.open_file.file_url)
    assert download.status_code == 200 and text(download) == "open plan"
    rest = client.get("/api/resource/File?" + urlencode({"filters": json.dumps([["file_name", "like", f"%{unique}%"]]),
                                                         "limit_page_length": 0}))
    assert {r["name"] for r in json.loads(rest.content)["data"]} == {w.open, w.open_file.name}
    # The insider sees the folder, its subfolder and its file, and downloads it.
    login(ctx, client, w.insider)
    inside = text(client.get("/app/archive?" + urlencode({"folder": w.secret})))
    assert f"salaries-{unique}.txt" in inside and f"Inner {unique}" in inside
    assert text(client.get(w.secret_file.file_url)) == "secret numbers"
    assert f"salaries-{unique}.txt" in text(client.get("/app/archive?" + urlencode({"q": unique})))


def test_upload_move_and_rename_in_folders(ctx, client, unique):
    w = world(unique)
    other = folder(f"Other {unique}")
    commit(ctx)
    csrf = login(ctx, client, w.outsider)
    assert client.get("/app/archive/upload").status_code == 405
    sent = client.post("/app/archive/upload", {"csrf_token": csrf, "folder": w.open,
                                               "file": SimpleUploadedFile(f"notes-{unique}.txt", b"my notes")})
    assert sent.status_code == 303 and sent["Location"] == "/app/archive?" + urlencode({"folder": w.open})
    commit(ctx)
    mine = lowcode.get_all("File", filters={"file_name": f"notes-{unique}.txt"}, fields=["name", "folder", "is_private",
                                                                                         "owner"])
    assert mine == [{"name": mine[0]["name"], "folder": w.open, "is_private": 1, "owner": w.outsider}]
    # Into a folder the user may not read, or a type the site refuses: nothing written.
    refused = client.post("/app/archive/upload", {"csrf_token": csrf, "folder": w.secret,
                                                  "file": SimpleUploadedFile(f"x-{unique}.txt", b"x")})
    assert refused.status_code == 403
    page = client.post("/app/archive/upload", {"csrf_token": csrf, "folder": w.open,
                                               "file": SimpleUploadedFile(f"page-{unique}.html", b"<script>")})
    assert page.status_code == 417 and "may not be uploaded" in text(page)
    commit(ctx)
    assert not lowcode.get_all("File", filters=[["file_name", "in", [f"x-{unique}.txt", f"page-{unique}.html"]]])
    # Their own file: moved and renamed; someone else's: refused.
    name = mine[0]["name"]
    assert client.post("/app/archive/move", {"csrf_token": csrf, "name": name, "target": other}).status_code == 303
    assert client.post("/app/archive/rename", {"csrf_token": csrf, "name": name,
                                               "file_name": f"renamed-{unique}.txt"}).status_code == 303
    assert client.post("/app/archive/move", {"csrf_token": csrf, "name": w.open_file.name,
                                             "target": other}).status_code == 403
    commit(ctx)
    assert lowcode.db.get_value("File", name, "folder") == other
    assert lowcode.db.get_value("File", name, "file_name") == f"renamed-{unique}.txt"
    assert lowcode.db.get_value("File", w.open_file.name, "folder") == w.open
    listing = text(client.get("/app/archive?" + urlencode({"folder": other})))
    assert f"renamed-{unique}.txt" in listing


def test_a_folder_cannot_go_inside_itself(ctx, unique):
    top = folder(f"Top {unique}")
    inner = folder(f"Inner {unique}", parent=top)
    doc = lowcode.get_doc("File", top)
    doc.folder = inner
    try:
        doc.save()
        raise AssertionError("a folder went inside its own subfolder")
    except lowcode.ValidationError as e:
        assert e.field == "folder"


def test_an_html_file_is_previewed_as_text_and_never_served_as_a_page(ctx, client, unique):
    open_folder = folder(f"Pages {unique}")
    name = f"page-{unique}.html"
    # An HTML file from before the site refused them: written as the upload path would.
    stored = os.path.join(ctx.site_path, "private", "files", name)
    os.makedirs(os.path.dirname(stored), exist_ok=True)
    with open(stored, "wb") as f:
        f.write(b"<h1>Hi</h1><script>alert(1)</script>")
    doc = lowcode.get_doc({"doctype": "File", "file_name": name, "file_url": "/private/files/" + name,
                           "folder": open_folder, "content_type": "text/html"})
    doc.flags.stored_by_server = True
    doc.insert()
    user = make_user(unique, "viewer", ["Sales User"])
    commit(ctx)
    login(ctx, client, user)
    page = client.get(f"/app/archive/preview/{doc.name}")
    html = text(page)
    assert page.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    download = client.get("/private/files/" + name)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/octet-stream"
    assert download["Content-Disposition"].startswith("attachment")
    assert "sandbox" in download["Content-Security-Policy"] and download["X-Content-Type-Options"] == "nosniff"


def test_images_and_pdfs_are_previewed_inline(ctx, client, unique):
    shelf = folder(f"Scans {unique}")
    png = save_file(f"logo-{unique}.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 32, private=True, folder=shelf)
    pdf = save_file(f"offer-{unique}.pdf", b"%PDF-1.4\n%%EOF\n", private=True, folder=shelf)
    user = make_user(unique, "looker", ["Sales User"])
    commit(ctx)
    login(ctx, client, user)
    image = text(client.get(f"/app/archive/preview/{png.name}"))
    assert f'<img class="img-fluid" src="{png.file_url}"' in image
    document = text(client.get(f"/app/archive/preview/{pdf.name}"))
    assert f'type="application/pdf" data="{pdf.file_url}"' in document
    shown = client.get(pdf.file_url)  # inline, but sandboxed
    assert shown["Content-Type"] == "application/pdf" and "sandbox" in shown["Content-Security-Policy"]
