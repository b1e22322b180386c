"""Data Import over HTTP, browser-free: the desk page (mapping, preview with escaped cells
and marked errors, start, failed rows), the form's button, and the REST methods (template
download, preview, start by POST only, refusals)."""
import io
import json

import openpyxl

import lowcode
from lowcode.testing.http import csrf_header, error, login, ok, refresh, write
from lowcode.tests.desk_helpers import make_user

from .test_data_import import book, new_import, run_jobs  # noqa: F401 - the fixture

M = "/api/method/frappe.core.doctype.data_import.data_import."


def test_desk_page_maps_previews_escapes_and_imports(ctx, client, book, unique):
    rows = [["Title", "Colour", "Amount"], ["<script>alert(1)</script>", "red", "1"], ["fine", "blue", "x"]]
    imp = new_import(book, rows)
    admin = make_user(unique, "importadmin", ["System Manager"])
    csrf = login(ctx, client, admin)
    form = client.get(f"/app/data-import/{imp.name}").content.decode()
    assert f"/app/data-import-tool/{imp.name}" in form  # the form's "Preview and import" button
    assert "/data_import.js" in form  # its progress bar (doctype_js)
    page = client.get(f"/app/data-import-tool/{imp.name}")
    html = page.content.decode()
    assert page.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert 'id="unmapped"' in html and "Colour" in html
    assert 'class="table-danger"' in html and "&#39;x&#39; is not a number" in html
    assert "download_template?doctype=" in html and 'id="start-import"' in html
    # map Colour onto the title? no: skip it explicitly, keep the rest as suggested
    mapped = client.post(f"/app/data-import-tool/{imp.name}", {"csrf_token": csrf, "action": "map",
                                                                "map:Title": "title", "map:Colour": "__skip",
                                                                "map:Amount": "amount"})
    assert mapped.status_code == 302
    write(ctx)
    saved = json.loads(lowcode.db.get_value("Data Import", imp.name, "template_options"))
    assert saved["column_to_field_map"] == {"Title": "title", "Colour": None, "Amount": "amount"}
    refresh(ctx)
    started = client.post(f"/app/data-import-tool/{imp.name}", {"csrf_token": csrf, "action": "start"})
    assert started.status_code == 302
    write(ctx)
    run_jobs(ctx)
    refresh(ctx)
    html = client.get(f"/app/data-import-tool/{imp.name}").content.decode()
    assert 'id="import-log"' in html and "download_errored_template?data_import_name=" in html
    assert 'id="start-import"' not in html  # done: not offered again
    assert lowcode.db.get_value("Data Import", imp.name, "status") == "Partial Success"
    assert lowcode.db.exists(book, {"title": "<script>alert(1)</script>"})  # stored as text


def test_rest_methods(ctx, client, book, unique):
    imp = new_import(book, [["Title", "Amount"], ["a", "1"], ["b", "oops"]])
    admin = make_user(unique, "restimport", ["System Manager"])
    clerk = make_user(unique, "restclerk", ["Sales User"])
    csrf = login(ctx, client, admin)
    xlsx = client.get(M + "download_template", {"doctype": book, "file_type": "XLSX"})
    assert xlsx.status_code == 200 and "attachment" in xlsx["Content-Disposition"]
    assert [c.value for c in openpyxl.load_workbook(io.BytesIO(xlsx.content)).active[1]][:2] == ["Title", "Email"]
    preview = ok(client.get(M + "get_preview_from_template", {"data_import": imp.name}))["message"]
    assert [(e["row"], e["column"]) for e in preview["errors"]] == [(3, "Amount")]
    error(client.get(M + "form_start_import", {"data_import": imp.name}), 403)  # a write: POST only
    started = ok(client.post(M + "form_start_import", {"data_import": imp.name}, **csrf_header(csrf)))
    assert started["message"]["payload_count"] == 2
    write(ctx)
    run_jobs(ctx)
    refresh(ctx)
    status = ok(client.get(M + "get_import_status", {"data_import_name": imp.name}))["message"]
    assert (status["status"], status["success"], status["failed"]) == ("Partial Success", 1, 1)
    failed = client.get(M + "download_errored_template", {"data_import_name": imp.name, "file_type": "CSV"})
    assert failed.status_code == 200 and "oops" in failed.content.decode("utf-8-sig")
    csrf = login(ctx, client, clerk)
    error(client.get(M + "get_preview_from_template", {"data_import": imp.name}), 403)
    error(client.get(M + "download_template", {"doctype": book}), 403, mentions=book)
    error(client.post(M + "form_start_import", {"data_import": imp.name}, **csrf_header(csrf)), 403)
    login(ctx, client, admin)
    error(client.get(M + "download_template", {"doctype": book, "file_type": "PDF"}), 417, field="file_type")
