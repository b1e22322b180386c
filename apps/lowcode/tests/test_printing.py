"""Print formats and e-mail templates over HTTP, on both engines: the print view in
the user's calendar, the PDF download, the print permission, Jinja's sandbox
refusing escapes, the standard layout, and e-mail template rendering and preview.

Data set up through ``ctx`` is committed and ctx re-opened in a read transaction
before requests run (on SQLite a write transaction held here would block them)."""
import json
import time

import pytest

import lowcode
from lowcode.printing import TemplateError, render_email_template
from lowcode.testing.http import LoopbackHTTP, login

NOWRUZ = "2026-03-21"          # 1405/01/01 in the Jalali calendar
NOWRUZ_JALALI = "1405/01/01"


def settle(ctx, write=False):
    """Commit ctx's work; start a fresh transaction (a read one unless asked)."""
    ctx.db.commit()
    ctx.db.begin(write=write)


def ensure_role(role):
    if not lowcode.db.exists("Role", role):
        lowcode.get_doc({"doctype": "Role", "role_name": role}).insert()


def make_user(unique, tag, roles, calendar="Gregorian", language="en"):
    email = f"{tag}-{unique}@example.com"
    for role in roles:
        ensure_role(role)
    lowcode.get_doc({"doctype": "User", "email": email, "first_name": tag.title(), "calendar": calendar,
                     "language": language, "roles": [{"role": r} for r in roles]}).insert()
    return email


@pytest.fixture
def printable(ctx, make_doctype, unique):
    """A DocType with a child table, one document, and three users: a Jalali printer,
    a Gregorian printer, and a reader without the print permission."""
    printer, reader = f"Printer {unique}", f"Reader {unique}"
    for role in (printer, reader):
        ensure_role(role)
    child = make_doctype([
        {"fieldname": "item_name", "fieldtype": "Data", "label": "Item Name", "in_list_view": 1},
        {"fieldname": "qty", "fieldtype": "Int", "label": "Qty", "in_list_view": 1},
    ], istable=1, permissions=[])
    doctype = make_doctype([
        {"fieldname": "title", "fieldtype": "Data", "label": "Title", "reqd": 1},
        {"fieldname": "due", "fieldtype": "Date", "label": "Due"},
        {"fieldname": "column_break_a", "fieldtype": "Column Break"},
        {"fieldname": "secret", "fieldtype": "Data", "label": "Secret", "permlevel": 1},
        {"fieldname": "section_items", "fieldtype": "Section Break", "label": "Lines"},
        {"fieldname": "items", "fieldtype": "Table", "label": "Items", "options": child},
    ], permissions=[
        {"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1, "print": 1},
        {"role": printer, "read": 1, "print": 1},
        {"role": reader, "read": 1},
    ], title_field="title")
    doc = lowcode.get_doc({"doctype": doctype, "title": "Order <b>bold</b> سفارش", "due": NOWRUZ,
                           "secret": "hidden-level-1",
                           "items": [{"item_name": "Widget", "qty": 3}, {"item_name": "Gadget", "qty": 5}]}).insert()
    users = {"jalali": make_user(unique, "jalali", [printer], calendar="Jalali"),
             "gregorian": make_user(unique, "greg", [printer]),
             "reader": make_user(unique, "reader", [reader])}
    settle(ctx, write=True)
    return doctype, doc.name, users


def add_format(ctx, doctype, name, html, **extra):
    settle(ctx, write=True)
    lowcode.get_doc(dict({"doctype": "Print Format", "print_format_name": name, "doc_type": doctype,
                          "html": html}, **extra)).insert()
    settle(ctx)


def printview(client, doctype, name, **args):
    return client.get("/printview", dict({"doctype": doctype, "name": name}, **args))


# -- the print view --------------------------------------------------------------------------------

def test_standard_layout_shows_values_in_the_users_calendar(ctx, client, printable):
    doctype, name, users = printable
    settle(ctx)
    login(ctx, client, users["jalali"])
    r = printview(client, doctype, name)
    html = r.content.decode()
    assert r.status_code == 200, html[:500]
    assert NOWRUZ_JALALI in html and NOWRUZ not in html
    assert "Order &lt;b&gt;bold&lt;/b&gt; سفارش" in html  # escaped, never markup
    assert "Widget" in html and "Gadget" in html and "Lines" in html  # the child table, as a table
    assert "hidden-level-1" not in html  # a permission level the user may not read
    assert r["Content-Security-Policy"].startswith("default-src 'self'")

    login(ctx, client, users["gregorian"])
    html = printview(client, doctype, name).content.decode()
    assert NOWRUZ in html and NOWRUZ_JALALI not in html


def test_print_direction_follows_the_document_language(ctx, client, printable):
    doctype, name, users = printable
    settle(ctx)
    login(ctx, client, users["gregorian"])
    assert 'dir="rtl"' in printview(client, doctype, name, _lang="fa").content.decode().split("<head>")[0]
    assert 'dir="ltr"' in printview(client, doctype, name).content.decode().split("<head>")[0]


def test_custom_format_runs_in_the_sandbox_with_helpers(ctx, client, printable, unique):
    doctype, name, users = printable
    add_format(ctx, doctype, f"Fancy {unique}",
               "<p id='t'>{{ doc.title }}</p><p id='d'>{{ format(doc.due, 'due') }}|{{ jalali(doc.due) }}</p>"
               "{% for row in doc.items %}<i>{{ row.item_name }}={{ format(row.qty, 'qty') }}</i>{% endfor %}"
               "<p id='m'>{{ meta.name }}</p><p id='s'>[{{ doc.secret }}]</p>",
               custom_css=".x{color:red}</style><script>alert(1)</script>")
    login(ctx, client, users["gregorian"])
    r = printview(client, doctype, name, format=f"Fancy {unique}")
    html = r.content.decode()
    assert r.status_code == 200, html[:500]
    assert "<p id='t'>Order &lt;b&gt;bold&lt;/b&gt; سفارش</p>" in html  # autoescaped
    assert f"<p id='d'>{NOWRUZ}|{NOWRUZ_JALALI}</p>" in html
    assert "<i>Widget=3</i><i>Gadget=5</i>" in html  # doc.items is the child table, not dict.items
    assert f"<p id='m'>{doctype}</p>" in html
    assert "<p id='s'>[]</p>" in html  # unreadable permission level: not given to the template
    assert "</style><script>" not in html  # custom CSS cannot close its <style>


def test_default_format_is_used_and_only_one_is_default(ctx, client, printable, unique):
    doctype, name, users = printable
    add_format(ctx, doctype, f"First {unique}", "<p>first format</p>", is_default=1)
    add_format(ctx, doctype, f"Second {unique}", "<p>second format</p>", is_default=1)
    assert lowcode.get_value("Print Format", f"First {unique}", "is_default") == 0
    login(ctx, client, users["gregorian"])
    assert "second format" in printview(client, doctype, name).content.decode()
    assert "Widget" in printview(client, doctype, name, format="Standard").content.decode()
    r = printview(client, doctype, name, format="No Such Format")
    assert r.status_code == 404


def test_print_needs_the_print_permission(ctx, client, printable):
    doctype, name, users = printable
    settle(ctx)
    login(ctx, client, users["reader"])
    assert client.get(f"/api/resource/{doctype}/{name}").status_code == 200  # may read it...
    assert printview(client, doctype, name).status_code == 403            # ...but not print it
    r = client.get("/api/method/frappe.utils.print_format.download_pdf", {"doctype": doctype, "name": name})
    assert r.status_code == 403
    assert json.loads(r.content)["exc_type"] == "PermissionError"


def test_pdf_download_is_a_pdf(ctx, client, printable, unique):
    doctype, name, users = printable
    settle(ctx)
    login(ctx, client, users["jalali"])
    r = client.get("/api/method/frappe.utils.print_format.download_pdf",
                   {"doctype": doctype, "name": name, "_lang": "fa"})
    assert r.status_code == 200, r.content[:300]
    assert r["Content-Type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    assert f'filename="{name}.pdf"' in r["Content-Disposition"]


def test_pdf_does_not_fetch_outside_urls(ctx, client, printable, unique):
    """A print format naming another address still prints, but the server never
    fetches it: only the site's public files and data: URLs are loaded."""
    import http.server
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the stdlib's name
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = LoopbackHTTP(Handler)
    try:
        port = server.port
        add_format(ctx, doctype := printable[0], f"Remote {unique}",
                   f"<img src='http://127.0.0.1:{port}/x.png'>"
                   f"<link rel='stylesheet' href='http://127.0.0.1:{port}/s.css'>"
                   "<img src='file:///etc/passwd'>{{ doc.title }}")
        login(ctx, client, printable[2]["gregorian"])
        r = client.get("/api/method/frappe.utils.print_format.download_pdf",
                       {"doctype": doctype, "name": printable[1], "format": f"Remote {unique}"})
        assert r.status_code == 200 and r.content.startswith(b"%PDF")
        assert hits == []
    finally:
        server.close()


@pytest.mark.parametrize("template", [
    "{{ ''.__class__.__mro__ }}",
    "{{ doc.__class__ }}",
    "{% for c in ''.__class__.__mro__[1].__subclasses__() %}{{ c }}{% endfor %}",
    "{{ doc.items.__class__.__base__ }}",
    "{{ now.__globals__ }}",
    "{{ 9 ** 999999 }}",
    "{{ 'x' * 100000000 }}",
])
def test_sandbox_refuses_escapes(ctx, client, printable, unique, template):
    doctype, name, users = printable
    add_format(ctx, doctype, f"Evil {unique}", "<p>before</p>" + template)
    login(ctx, client, users["gregorian"])
    r = printview(client, doctype, name, format=f"Evil {unique}")
    html = r.content.decode()
    assert r.status_code == 417, html[:500]
    assert "not allowed" in html
    assert "<p>before</p>" not in html and "&lt;class" not in html and "<class" not in html
    r = client.get("/api/method/frappe.utils.print_format.download_pdf",
                   {"doctype": doctype, "name": name, "format": f"Evil {unique}"})
    assert r.status_code == 417
    body = json.loads(r.content)
    assert body["exc_type"] == "TemplateError" and "not allowed" in body["message"]


RUNAWAY = {
    "nested loops": ("{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}", "too long"),
    "macro in loops": ("{% macro f() %}{% for i in range(1000) %}{% endfor %}{% endmacro %}"
                       "{% for x in range(100000) %}{{ f() }}{% endfor %}", "too long"),
    "center method": ("{{ 'x'.center(100000000) }}", "not allowed"),
    "center filter": ("{{ 'x'|center(100000000) }}", "not allowed"),
    "ljust": ("{{ 'x'.ljust(99999999) }}", "not allowed"),
    "printf width": ("{{ '%099999999d' % 1 }}", "not allowed"),
    "format filter": ("{{ '%099999999d'|format(1) }}", "not allowed"),
    "str.format width": ("{{ '{:>99999999}'.format(1) }}", "not allowed"),
    "str.format field width": ("{{ '{:>{w}}'.format(1, w=99999999) }}", "not allowed"),
    "doubling with ~": ("{% set a = 'x' * 100000 %}{% set b = a ~ a %}{% set c = b ~ b %}{% set d = c ~ c %}"
                        "{% set e = d ~ d %}{% set f = e ~ e %}{% set g = f ~ f %}{{ g|length }}", "too large"),
    "doubling with +": ("{% set a = 'x' * 100000 %}{% set b = a + a %}{% set c = b + b %}{% set d = c + c %}"
                        "{% set e = d + d %}{% set f = e + e %}{% set g = f + f %}{{ g|length }}", "too large"),
    "replace": ("{{ ('x' * 100000).replace('x', 'y' * 1000) }}", "too large"),
    "output": ("{% for i in range(100000) %}{% for j in range(100) %}xxxxxxxxxxxxxxxxxxxx{% endfor %}"
               "{% endfor %}", "too large"),
    "map over shared text": ("{% set a = 'x' * 100000 %}{{ ([" + ",".join(["a"] * 300) + "]|map('upper')|list)|length }}",
                             "too large"),
    "huge integer": ("{% set a = 9 ** 100 %}{% set b = a * a %}{% set c = b * b %}{% set d = c * c %}{% set e = d * d %}"
                     "{% set f = e * e %}{% set g = f * f %}{% set h = g * g %}{% set i = h * h %}{% set j = i * i %}{{ j > 1 }}",
                     "not allowed"),
}


@pytest.mark.parametrize("name", list(RUNAWAY))
def test_runaway_templates_stop_with_a_clear_error(ctx, monkeypatch, name):
    """Every admin render (print, e-mail, preview) has a deadline and size limits: a
    template that would hang the worker or fill its memory stops with a 417."""
    from lowcode import printing, sandbox
    monkeypatch.setattr(sandbox, "MAX_SECONDS", 0.5)
    source, message = RUNAWAY[name]
    started = time.monotonic()
    with pytest.raises(TemplateError) as e:
        printing.render(source, printing.template_context())
    assert message in e.value.message and e.value.http_status == 417
    assert time.monotonic() - started < 3


def test_ordinary_templates_are_not_limited(ctx):
    from lowcode import printing
    source = ("{% for i in range(2000) %}{{ '%5.2f'|format(i) }} {{ 'ab'.center(6) }} {{ '{:>4}'.format(i) }}"
              "{{ ('r' ~ i)|upper }}{{ [i, i]|join(',') }}{{ 'x' * 3 }}{% endfor %}")
    out = printing.render(source, printing.template_context())
    assert out.count("R1999") == 1 and "1999.00" in out and len(out) > 40_000
    # links printed from values go through the same safe_url as the desk's
    assert printing.render('<a href="{{ u|safe_url }}">', {"u": " JavaScript:alert(1)"}) == '<a href="">'
    assert printing.render('<a href="{{ u|safe_url }}">', {"u": "https://x.example/a"}) == '<a href="https://x.example/a">'


def test_runaway_print_format_and_preview_answer_417(ctx, client, printable, unique, monkeypatch):
    from lowcode import printing, sandbox
    monkeypatch.setattr(sandbox, "MAX_SECONDS", 0.5)
    doctype, name, users = printable
    add_format(ctx, doctype, f"Slow {unique}", "<p>x</p>" + RUNAWAY["nested loops"][0])
    login(ctx, client, users["gregorian"])
    r = printview(client, doctype, name, format=f"Slow {unique}")
    assert r.status_code == 417 and "took too long" in r.content.decode()
    settle(ctx, write=True)
    csrf = login(ctx, client, make_user(unique, "tpleditor", ["System Manager"]))
    form = {"subject": "S", "response": RUNAWAY["center method"][0], "preview_doctype": doctype, "preview_name": name}
    r = client.post("/app/email-template-editor/__preview", form, HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 417 and "not allowed" in r.content.decode()
    r = client.post("/app/email-template-editor/__preview", dict(form, response=RUNAWAY["output"][0]),
                    HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 417 and "too large" in r.content.decode()


def test_a_reader_cannot_run_templates_through_the_editor(ctx, client, printable, unique):
    """A user who may only read e-mail templates gets no rendering: neither through the
    preview nor through a refused save that shows the editor again."""
    doctype, name, users = printable
    csrf = login(ctx, client, users["reader"])
    form = {"subject": "S", "response": "<i>{{ 7 * 6 }}</i>", "preview_doctype": doctype, "preview_name": name}
    r = client.post("/app/email-template-editor/__preview", form, HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 403 and "<i>42</i>" not in r.content.decode()
    r = client.post("/app/email-template-editor/new", dict(form, template_name=f"Nope {unique}"),
                    HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 403 and "<i>42</i>" not in r.content.decode() and "42" not in r.content.decode()


def test_print_format_with_a_syntax_error_is_refused(ctx, printable, unique):
    doctype, _name, _users = printable
    with pytest.raises(lowcode.ValidationError) as e:
        lowcode.get_doc({"doctype": "Print Format", "print_format_name": f"Broken {unique}", "doc_type": doctype,
                         "html": "<p>\n{% for x in %}</p>"}).insert()
    assert e.value.field == "html" and "line 2" in e.value.message
    assert not lowcode.db.exists("Print Format", f"Broken {unique}")


# -- e-mail templates -----------------------------------------------------------------------------

def test_render_email_template(ctx, printable, unique):
    doctype, name, _users = printable
    lowcode.get_doc({"doctype": "Email Template", "template_name": f"Reminder {unique}", "reference_doctype": doctype,
                     "subject": "Due {{ format(doc.due, 'due') }}: {{ doc.title }}",
                     "response": "<p>Dear customer, {{ doc.title }} has {{ doc.items|length }} lines.</p>"}).insert()
    doc = lowcode.get_doc(doctype, name)
    subject, html = render_email_template(f"Reminder {unique}", doc)
    assert subject == f"Due {NOWRUZ}: Order <b>bold</b> سفارش"  # plain text: not escaped
    assert html == "<p>Dear customer, Order &lt;b&gt;bold&lt;/b&gt; سفارش has 2 lines.</p>"

    lowcode.get_doc({"doctype": "Email Template", "template_name": f"Evil {unique}", "subject": "x",
                     "response": "{{ doc.__class__.__init__.__globals__ }}"}).insert()
    with pytest.raises(TemplateError) as e:
        render_email_template(f"Evil {unique}", doc)
    assert "not allowed" in e.value.message and e.value.http_status == 417

    lowcode.get_doc({"doctype": "Email Template", "template_name": f"Loop {unique}", "subject": "x",
                     "response": "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}"}).insert()
    with pytest.raises(TemplateError):
        render_email_template(f"Loop {unique}", doc)

    with pytest.raises(lowcode.ValidationError) as e:
        lowcode.get_doc({"doctype": "Email Template", "template_name": f"Bad {unique}", "subject": "{{ doc.x",
                         "response": "ok"}).insert()
    assert e.value.field == "subject"


def test_email_template_editor_previews_only_readable_documents(ctx, client, printable, make_doctype, unique):
    doctype, name, users = printable
    ensure_role(f"Hidden {unique}")
    hidden = make_doctype([{"fieldname": "title", "fieldtype": "Data", "label": "Title"}],
                          permissions=[{"role": f"Hidden {unique}", "read": 1}])
    secret = lowcode.get_doc({"doctype": hidden, "title": "top secret title"}).insert().name
    editor = make_user(unique, "editor", ["System Manager"])
    lowcode.get_doc({"doctype": "Email Template", "template_name": f"Hello {unique}", "reference_doctype": doctype,
                     "subject": "About {{ doc.title }}", "response": "<p>{{ doc.title }}</p>"}).insert()
    settle(ctx)

    # The editor page renders, with a preview against a chosen document.
    csrf = login(ctx, client, editor)
    r = client.get(f"/app/email-template-editor/Hello {unique}", {"preview_doctype": doctype, "preview_name": name})
    page = r.content.decode()
    assert r.status_code == 200, page[:500]
    assert "About Order &lt;b&gt;bold&lt;/b&gt; سفارش" in page
    assert 'sandbox title=' in page  # the message shows in a sandboxed frame

    # The editor previews a document they may read, not one they may not.
    form = {"subject": "S {{ doc.title }}", "response": "<b>{{ doc.title }}</b>", "preview_doctype": doctype,
            "preview_name": name}
    r = client.post("/app/email-template-editor/__preview", form, HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 200 and "S Order &lt;b&gt;bold&lt;/b&gt; سفارش" in r.content.decode()
    r = client.post("/app/email-template-editor/__preview", dict(form, preview_doctype=hidden, preview_name=secret),
                    HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 403 and "top secret title" not in r.content.decode()
    r = client.post("/app/email-template-editor/__preview", dict(form, response="{{ ''.__class__ }}"),
                    HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 417 and "not allowed" in r.content.decode()

    # Previewing runs any template: it needs the right to write e-mail templates.
    csrf = login(ctx, client, users["reader"])
    r = client.post("/app/email-template-editor/__preview", form, HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 403 and "S Order" not in r.content.decode()


def test_email_template_editor_saves_through_the_doctype(ctx, client, unique):
    editor = make_user(unique, "editor", ["System Manager"])
    settle(ctx)
    csrf = login(ctx, client, editor)
    r = client.post("/app/email-template-editor/new", {"template_name": f"Welcome {unique}", "subject": "Hi",
                                                       "response": "<p>{% if %}</p>"}, HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 417 and "Message" in r.content.decode()
    r = client.post("/app/email-template-editor/new", {"template_name": f"Welcome {unique}", "subject": "Hi",
                                                       "response": "<p>Welcome</p>"}, HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 302 and r["Location"].endswith(f"/app/email-template-editor/Welcome%20{unique}")
    settle(ctx)
    assert lowcode.get_value("Email Template", f"Welcome {unique}", "response") == "<p>Welcome</p>"
