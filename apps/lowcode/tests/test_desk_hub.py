"""The Settings hub (/app/build), global search finding its tools, and workflows whose
state field is a Select, over HTTP on both engines: each role sees only the tools it
may use (links, navigation, search, in English and Persian), and saving a workflow
extends a Select state field's options (a Property Setter) while a Data
field needs nothing."""
from urllib.parse import quote

import pytest

import lowcode
from lowcode import workflow as workflow_engine
from lowcode.desk.views.hub import _allowed
from lowcode.meta import get_meta

from .desk_helpers import as_user, commit, ensure_role, login, make_user
from .test_desk_customize import text, write

ADMIN_TOOLS = {"/app/customize-form", "/app/doctype-builder", "/app/workflow-builder", "/app/permission-manager",
               "/app/user-permissions", "/app/print-format", "/app/email-template", "/app/number-card",
               "/app/workspace", "/app/user", "/app/role", "/app/email-account", "/app/sms-settings",
               "/app/telephony-settings", "/app/notification", "/app/webhook", "/app/archive",
               "/app/translation"}
ADMIN_TOOLS |= {"/app/system-settings", "/app/activity-log", "/app/access-log"}  # 2FA and the audit trail


def hub_links(html):
    import re
    return set(re.findall(r'class="hub-tool[^"]*" href="([^"]+)"', html))


def search_tools(html):
    import re
    return set(re.findall(r'class="search-tool" href="([^"]+)"', html))


@pytest.fixture
def users(ctx, unique):
    write(ctx)
    out = {"admin": make_user(unique, "hubadmin", ["System Manager"]),
           "sales": make_user(unique, "hubsales", ["Sales User"])}
    for lang in ("fa", "he"):
        out["admin_" + lang] = make_user(unique, "hubadmin" + lang, ["System Manager"])
        lowcode.db.sql("UPDATE `tabUser` SET `language`=%s WHERE `name`=%s", (lang, out["admin_" + lang]))
    commit(ctx)
    return out


def test_hub_lists_every_tool_to_a_system_manager_and_none_to_a_salesperson(ctx, client, users):
    login(ctx, client, users["admin"])
    page = client.get("/app/build")
    assert page.status_code == 200
    assert hub_links(text(page)) == ADMIN_TOOLS
    for group in ("Customization", "Users and permissions", "Printing and e-mail", "Channels"):
        assert f">{group}</h2>" in text(page)
    assert 'id="nav-settings" href="/app/build"' in text(page) or 'href="/app/build" id="nav-settings"' in text(page)
    # Every link leads somewhere the admin may go.
    for url in sorted(ADMIN_TOOLS):
        assert client.get(url).status_code in (200, 302), url

    login(ctx, client, users["admin_he"])
    page = text(client.get("/app/build"))
    assert 'dir="rtl"' in page and hub_links(page) == ADMIN_TOOLS
    assert "הרשאות תפקידים" in page and ">הגדרות</h1>" in page

    login(ctx, client, users["sales"])
    page = client.get("/app/build")
    assert page.status_code == 403 and hub_links(text(page)) == set()
    home = text(client.get("/app"))
    assert "nav-settings" not in home and 'href="/app"' in home


def test_modules_menu_lists_the_modules_the_user_may_read(ctx, client, users):
    login(ctx, client, users["admin"])
    menu = text(client.get("/app/build/__modules"))
    for module in ("CRM", "Support", "Integrations"):
        assert f'href="/app#module-{module.lower()}">{module}</a>' in menu, module
    assert 'href="/app/build"' in menu
    home = text(client.get("/app"))
    assert 'id="module-crm"' in home and 'hx-get="/app/build/__modules"' in home

    login(ctx, client, users["sales"])
    menu = text(client.get("/app/build/__modules"))
    assert 'href="/app#module-crm">CRM</a>' in menu
    # Webhooks are for System Managers only: no Integrations module, no Settings link.
    assert "module-integrations" not in menu and 'href="/app/build"' not in menu


def test_hub_tool_for_a_doctype_follows_write_permission(ctx, make_doctype, unique):
    writer, reader = f"Hub Writer {unique}", f"Hub Reader {unique}"
    for role in (writer, reader):
        ensure_role(role)
    doctype = make_doctype([{"fieldname": "title", "fieldtype": "Data", "label": "Title"}], permissions=[
        {"role": writer, "read": 1, "write": 1, "create": 1}, {"role": reader, "read": 1}])
    w, r = make_user(unique, "hubwriter", [writer]), make_user(unique, "hubreader", [reader])
    tool = {"group": "Customization", "label": "X", "icon": "x", "doctype": doctype}
    with as_user(w):
        assert _allowed(tool) is True
        assert _allowed({"label": "Y", "url": "/app/customize-form", "role": "System Manager"}) is False
    with as_user(r):
        assert _allowed(tool) is False
    assert _allowed({"label": "Z", "doctype": f"No Such DocType {unique}"}) is False


def test_global_search_offers_the_tools_the_user_may_use(ctx, client, users):
    login(ctx, client, users["admin"])
    found = search_tools(text(client.get("/app?q=permission")))
    assert found == {"/app/permission-manager", "/app/user-permissions"}
    assert search_tools(text(client.get("/app?q=WORKFLOW"))) == {"/app/workflow-builder"}
    assert search_tools(text(client.get("/app?q=sms"))) == {"/app/sms-settings"}

    login(ctx, client, users["admin_fa"])
    page = text(client.get("/app?q=" + quote("مجوز")))
    assert search_tools(page) == {"/app/permission-manager", "/app/user-permissions"}
    assert "مجوزهای نقش" in page  # the tool's Persian name
    # The English name still finds it for a Persian user.
    assert "/app/permission-manager" in search_tools(text(client.get("/app?q=permission")))

    login(ctx, client, users["sales"])
    page = text(client.get("/app?q=permission"))
    assert search_tools(page) == set() and "/app/permission-manager" not in page


# -- workflows on a Select or Data state field -------------------------------------------------------

def _workflow_form(name, doctype, field, maker):
    form = {"workflow_name": name, "document_type": doctype, "workflow_state_field": field, "is_active": "1"}
    for i, state in enumerate(("Draft", "In Review", "Approved"), start=1):
        form.update({f"states-{i}-state": state, f"states-{i}-doc_status": "0", f"states-{i}-allow_edit": maker})
    for i, (state, action, nxt) in enumerate((("Draft", "Send", "In Review"), ("In Review", "Approve", "Approved")),
                                             start=1):
        form.update({f"transitions-{i}-state": state, f"transitions-{i}-action": action,
                     f"transitions-{i}-next_state": nxt, f"transitions-{i}-allowed": maker,
                     f"transitions-{i}-allow_self_approval": "1"})
    return form


@pytest.mark.parametrize("fieldtype", ["Select", "Data"])
def test_workflow_save_makes_the_state_field_hold_every_state(ctx, client, make_doctype, unique, fieldtype):
    maker = f"Hub Maker {unique}"
    ensure_role(maker)
    field = {"fieldname": "stage", "fieldtype": fieldtype, "label": "Stage"}
    if fieldtype == "Select":
        field["options"] = "Draft\nApproved"  # lacks "In Review"
    doctype = make_doctype([{"fieldname": "title", "fieldtype": "Data", "label": "Title"}, field], permissions=[
        {"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1},
        {"role": maker, "read": 1, "write": 1, "create": 1}])
    admin = make_user(unique, "hubwf", ["System Manager"])
    csrf = login(ctx, client, admin)
    name = f"Hub Flow {unique} {fieldtype}"
    r = client.post("/app/workflow-builder/new", _workflow_form(name, doctype, "stage", maker),
                    HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 302, text(r)[:2000]
    commit(ctx)
    from lowcode.meta import clear_cache
    clear_cache()
    workflow_engine.clear_cache()

    setters = lowcode.get_all("Property Setter", filters={"doc_type": doctype, "field_name": "stage",
                                                           "property": "options"}, fields=["value"])
    df = get_meta(doctype).get_field("stage")
    assert df.fieldtype == fieldtype  # the field is kept, not replaced by a Link
    if fieldtype == "Select":
        assert [s["value"] for s in setters] == ["Draft\nApproved\nIn Review"]
        assert df.options.split("\n") == ["Draft", "Approved", "In Review"]
    else:
        assert setters == []

    # A record walks through every state, including the one the Select lacked.
    write(ctx)
    doc = lowcode.get_doc({"doctype": doctype, "title": "t"}).insert()
    assert doc.stage == "Draft"
    workflow_engine.apply_workflow(doc, "Send")
    workflow_engine.apply_workflow(doc, "Approve")
    assert lowcode.db.get_value(doctype, doc.name, "stage") == "Approved"

    # Saving again adds nothing twice.
    wf = lowcode.get_doc("Workflow", name)
    wf.save()
    if fieldtype == "Select":
        assert get_meta(doctype).get_field("stage").options.split("\n") == ["Draft", "Approved", "In Review"]
        assert len(lowcode.get_all("Property Setter", filters={"doc_type": doctype, "field_name": "stage"})) == 1
    lowcode.db.sql("UPDATE `tabWorkflow` SET `is_active`=0 WHERE `name`=%s", (name,))
    commit(ctx)
    workflow_engine.clear_cache()
