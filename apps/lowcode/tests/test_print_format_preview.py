"""The Print Format form's live preview over HTTP, on both engines: the draft template
renders on a chosen record and nothing is saved; the record must be printable by the
user and previewing needs the right to edit print formats; template errors answer
with a message naming the line, never a 500."""
import lowcode

from .test_printing import add_format, ensure_role, login, make_user, printable, settle  # noqa: F401 - fixture

URL = "/app/print-format-preview"


def preview(client, csrf, doctype, name, html, **extra):
    return client.post(URL, dict({"doc_type": doctype, "preview_name": name, "html": html}, **extra),
                       HTTP_X_FRAPPE_CSRF_TOKEN=csrf, HTTP_ACCEPT="application/json")


def designer(ctx, unique):
    """A System Manager (who may edit print formats), not Administrator."""
    return make_user(unique, "designer", ["System Manager"])


def test_preview_renders_the_draft_without_saving(ctx, client, printable, unique):
    doctype, name, _users = printable
    user = designer(ctx, unique)
    add_format(ctx, doctype, f"Stored {unique}", "<p>stored version</p>")
    csrf = login(ctx, client, user)
    before = lowcode.get_all("Print Format", fields=["name", "html", "modified"], order_by="name asc")

    r = preview(client, csrf, doctype, name, "<h1>Draft {{ doc.title }}</h1><p>{{ doc['items'][1].item_name }}</p>",
                custom_css=".x { color: red }</style><script>bad()</script>", page_size="A5")
    assert r.status_code == 200, r.content[:2000]
    page = r.json()["html"]
    assert "<h1>Draft Order &lt;b&gt;bold&lt;/b&gt; سفارش</h1>" in page  # values escaped by the sandbox
    assert "<p>Gadget</p>" in page  # child rows too
    assert "size: A5" in page
    assert "</style><script>" not in page  # the custom CSS cannot close its <style>
    assert "print-toolbar" not in page  # the page alone, as printed
    settle(ctx)
    assert lowcode.get_all("Print Format", fields=["name", "html", "modified"], order_by="name asc") == before

    # The panel: a chooser of the DocType's records, holding the latest one, and the frame.
    panel = client.get(URL, {"doc_type": doctype})
    assert panel.status_code == 200
    text = panel.content.decode()
    assert f'data-link="{doctype}"' in text and f'value="{name}"' in text
    assert 'id="pf-frame"' in text and "sandbox" in text and 'form="pf-no-form"' in text

    # The Print Format form loads the preview's script.
    form = client.get("/app/print-format/new")
    assert form.status_code == 200 and b"print_format_form" in form.content


def test_template_errors_name_the_line(ctx, client, printable, unique):
    doctype, name, _users = printable
    csrf = login(ctx, client, designer(ctx, unique))
    r = preview(client, csrf, doctype, name, "<p>ok</p>\n{% if %}\n")
    assert r.status_code == 417, r.content[:1000]
    assert "line 2" in r.json()["error"]
    r = preview(client, csrf, doctype, name, "<p>ok</p>\n\n{{ doc.title.missing.deeper() }}")
    assert r.status_code == 417, r.content[:1000]
    assert "line 3" in r.json()["error"], r.json()
    r = preview(client, csrf, doctype, name, "{{ doc.__class__ }}")
    assert r.status_code == 417 and "not allowed" in r.json()["error"]


def test_preview_reads_the_record_with_the_users_permissions(ctx, client, printable, make_doctype, unique):
    doctype, name, users = printable
    # A DocType the designer may not read: its record is not previewed.
    ensure_role(f"Other {unique}")
    hidden = make_doctype([{"fieldname": "title", "fieldtype": "Data", "label": "Title"}],
                          permissions=[{"role": f"Other {unique}", "read": 1, "print": 1}])
    other = lowcode.get_doc({"doctype": hidden, "title": "top-secret-title"}).insert(ignore_permissions=True).name
    user = designer(ctx, unique)
    settle(ctx, write=True)
    csrf = login(ctx, client, user)
    r = preview(client, csrf, hidden, other, "{{ doc.title }}")
    assert r.status_code == 403, r.content[:1000]
    assert "top-secret-title" not in r.content.decode()
    panel = client.get(URL, {"doc_type": hidden}).content.decode()
    assert other not in panel  # no latest record offered either
    # A field of a permission level the designer may not read prints empty.
    r = preview(client, csrf, doctype, name, "[{{ doc.secret }}]")
    assert r.status_code == 200 and "hidden-level-1" not in r.json()["html"]

    # A user who may print but not edit print formats cannot run templates here.
    csrf = login(ctx, client, users["gregorian"])
    r = preview(client, csrf, doctype, name, "{{ doc.title }}")
    assert r.status_code == 403 and "Order" not in r.content.decode()
    assert client.get(URL, {"doc_type": doctype}).status_code == 403
    # Missing record and missing DocType name the parameter.
    csrf = login(ctx, client, user)
    r = preview(client, csrf, "", name, "x")
    assert r.status_code == 417 and r.json()["field"] == "doc_type"
    r = preview(client, csrf, doctype, "", "x")
    assert r.status_code == 417 and r.json()["field"] == "name"
