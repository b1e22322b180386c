"""The workflow builder over HTTP, on both engines: creating a workflow from the two
grids, the server-drawn SVG graph, the live condition check, errors that write
nothing, and the workflow at work: transitions through the form (allowed and
refused roles) and the list filtered by state."""
import re
from urllib.parse import quote

import pytest

import lowcode
from lowcode import auth
from lowcode.desk.views.workflow_builder import condition_problems, state_depths, workflow_svg
from lowcode.utils import route_for


def settle(ctx, write=False):
    """Commit ctx's work and start a fresh transaction (a read one unless asked), so
    requests see our data and we see theirs."""
    ctx.db.commit()
    ctx.db.begin(write=write)
    from lowcode.meta import check_version
    check_version()


def ensure_role(role):
    if not lowcode.db.exists("Role", role):
        lowcode.get_doc({"doctype": "Role", "role_name": role}).insert()


def make_user(unique, tag, roles):
    email = f"{tag}-{unique}@example.com"
    for role in roles:
        ensure_role(role)
    lowcode.get_doc({"doctype": "User", "email": email, "first_name": tag.title(),
                     "roles": [{"role": r} for r in roles]}).insert()
    return email


def login(ctx, client, user):
    session = auth.start_session(user, desk=True)
    settle(ctx)
    client.cookies["sid"] = session.sid
    return session.csrf_token


def grid(table, rows):
    """Form fields of a builder grid: <table>-<i>-<field>."""
    out = {}
    for i, row in enumerate(rows, start=1):
        for key, value in row.items():
            out[f"{table}-{i}-{key}"] = value
    return out


@pytest.fixture
def setup(ctx, make_doctype, unique):
    maker, approver = f"WF Maker {unique}", f"WF Approver {unique}"
    for role in (maker, approver):
        ensure_role(role)
    doctype = make_doctype([
        {"fieldname": "title", "fieldtype": "Data", "label": "Title", "reqd": 1},
        {"fieldname": "amount", "fieldtype": "Float", "label": "Amount"},
        {"fieldname": "status", "fieldtype": "Data", "label": "Status"},
    ], permissions=[
        {"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1},
        {"role": maker, "read": 1, "write": 1, "create": 1},
        {"role": approver, "read": 1, "write": 1},
    ], title_field="title")
    users = {"admin": make_user(unique, "wfadmin", ["System Manager"]),
             "maker": make_user(unique, "maker", [maker]),
             "approver": make_user(unique, "approver", [approver])}
    settle(ctx, write=True)
    return {"doctype": doctype, "maker": maker, "approver": approver, "users": users,
            "name": f"Approval {unique}"}


def workflow_form(s, **extra):
    form = {"workflow_name": s["name"], "document_type": s["doctype"], "workflow_state_field": "workflow_state",
            "is_active": "1"}
    form.update(grid("states", [
        {"state": "Draft", "doc_status": "0", "allow_edit": s["maker"]},
        {"state": "Pending <Review>", "doc_status": "0", "allow_edit": s["approver"]},
        {"state": "Approved", "doc_status": "0", "allow_edit": s["approver"], "update_field": "status",
         "update_value": "Approved"},
        {"state": "Rejected", "doc_status": "0", "allow_edit": s["maker"]},
    ]))
    form.update(grid("transitions", [
        {"state": "Draft", "action": "Send for Approval", "next_state": "Pending <Review>", "allowed": s["maker"],
         "allow_self_approval": "1"},
        {"state": "Pending <Review>", "action": "Approve", "next_state": "Approved", "allowed": s["approver"],
         "allow_self_approval": "1", "condition": "doc.amount < 10000"},
        {"state": "Pending <Review>", "action": "Reject", "next_state": "Rejected", "allowed": s["approver"],
         "allow_self_approval": "1"},
        {"state": "Rejected", "action": "Reopen", "next_state": "Draft", "allowed": s["maker"],
         "allow_self_approval": "1"},
    ]))
    form.update(extra)
    return form


def create_workflow(ctx, client, s):
    csrf = login(ctx, client, s["users"]["admin"])
    r = client.post("/app/workflow-builder/new", workflow_form(s), HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 302, r.content.decode()[:2000]
    assert r["Location"] == "/app/workflow-builder/" + quote(s["name"])
    settle(ctx)
    return csrf


# -- the builder -----------------------------------------------------------------------------------

def test_builder_creates_a_workflow_and_draws_it(ctx, client, setup):
    s = setup
    login(ctx, client, s["users"]["admin"])
    assert client.get("/app/workflow-builder/new").status_code == 200
    csrf = create_workflow(ctx, client, s)

    wf = lowcode.get_doc("Workflow", s["name"])
    assert int(wf.is_active) == 1 and wf.document_type == s["doctype"]
    assert [st.state for st in wf.states] == ["Draft", "Pending <Review>", "Approved", "Rejected"]
    assert [(t.action, t.condition) for t in wf.transitions][1] == ("Approve", "doc.amount < 10000")

    r = client.get("/app/workflow-builder")
    assert r.status_code == 200 and s["name"] in r.content.decode()
    page = client.get("/app/workflow-builder/" + quote(s["name"])).content.decode()
    start = page.index('<svg xmlns="http://www.w3.org/2000/svg" class="workflow-graph"')
    svg = page[start:page.index("</svg>", start)]
    for state in ("Draft", "Pending &lt;Review&gt;", "Approved", "Rejected"):
        assert f">{state}</text>" in svg, state
    for action in ("Send for Approval", "Approve", "Reject", "Reopen"):
        assert f">{action}</text>" in svg, action
    assert "<Review>" not in svg  # labels are escaped
    assert svg.count('class="wf-state"') == 4 and svg.count('class="wf-edge"') == 4

    # The unsaved form can be drawn too (the live preview).
    r = client.post("/app/workflow-builder/__graph", workflow_form(s), HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 200 and r.content.decode().count('class="wf-state"') == 4


def test_builder_edits_and_refuses_bad_input_without_writing(ctx, client, setup):
    s = setup
    csrf = create_workflow(ctx, client, s)
    url = "/app/workflow-builder/" + quote(s["name"])
    bad = workflow_form(s, **{"transitions-4-next_state": "Nowhere"})
    r = client.post(url, bad, HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 417
    assert "Nowhere" in r.content.decode() and 'id="form-error"' in r.content.decode()
    r = client.post(url, workflow_form(s, **{"transitions-2-condition": "doc.amount <"}), HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 417 and "condition" in r.content.decode()
    settle(ctx)
    assert lowcode.get_doc("Workflow", s["name"]).transitions[3].next_state == "Draft"

    # Deleting a row and saving: the workflow keeps the other three transitions.
    r = client.post(url, workflow_form(s, **{"transitions-4-__delete": "1"}), HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 302
    settle(ctx)
    assert [t.action for t in lowcode.get_doc("Workflow", s["name"]).transitions] == [
        "Send for Approval", "Approve", "Reject"]


def test_only_workflow_writers_may_save(ctx, client, setup):
    s = setup
    csrf = login(ctx, client, s["users"]["maker"])
    r = client.post("/app/workflow-builder/new", workflow_form(s), HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 403
    settle(ctx)
    assert not lowcode.db.exists("Workflow", s["name"])


def test_condition_check(ctx, client, setup):
    s = setup
    login(ctx, client, s["users"]["admin"])

    def check(condition):
        r = client.get("/app/workflow-builder/__check", {"condition": condition, "doctype": s["doctype"]})
        assert r.status_code == 200
        return r.json()

    assert check("doc.amount > 1000 and 'Sales Manager' in roles")["level"] == "ok"
    bad = check("doc.amount >")
    assert bad["ok"] is False and bad["level"] == "error"
    assert check("doc.no_such_field == 1")["level"] == "warning"
    assert check("os.system('x')")["level"] == "warning"
    assert check("")["ok"] is True
    # The same verdict as the Workflow controller gives on save.
    assert condition_problems("doc.amount < ")[0] is False


def test_graph_layout_and_escaping():
    states = [{"state": "A"}, {"state": "B"}, {"state": "C"}, {"state": "<i>D</i>", "doc_status": "1"}]
    transitions = [{"state": "A", "action": "go", "next_state": "B"},
                   {"state": "B", "action": "on", "next_state": "C"},
                   {"state": "C", "action": "back", "next_state": "A"},
                   {"state": "B", "action": "stay", "next_state": "B"}]
    depths = state_depths(["A", "B", "C", "<i>D</i>"], [("A", "B"), ("B", "C"), ("C", "A"), ("B", "B")])
    assert depths == {"A": 0, "B": 1, "C": 2, "<i>D</i>": 3}  # D is unreachable: below the rest
    svg = str(workflow_svg(states, transitions))
    assert "<i>" not in svg and "&lt;i&gt;D&lt;/i&gt;" in svg
    node_text = re.compile(r'<text x="[\d.]+" y="([\d.]+)" text-anchor="middle" '
                           r'dominant-baseline="central" fill="#212529">([^<]+)<')
    ys = {m.group(2): float(m.group(1)) for m in node_text.finditer(svg)}
    assert ys["A"] < ys["B"] < ys["C"] < ys["&lt;i&gt;D&lt;/i&gt;"]
    assert workflow_svg([], []) == ""


# -- the workflow at run time -----------------------------------------------------------------------

def test_transitions_through_the_form_and_list_filter(ctx, client, setup):
    s = setup
    create_workflow(ctx, client, s)
    route = route_for(s["doctype"])

    # The state field the Workflow controller added is a standard list filter.
    meta = lowcode.get_meta(s["doctype"])
    assert int(meta.get_field("workflow_state").in_standard_filter or 0) == 1

    # The maker creates two documents through the form; they start in Draft.
    csrf = login(ctx, client, s["users"]["maker"])
    names = []
    for title, amount in (("Small order", "500"), ("Big order", "50000")):
        r = client.post(f"/app/{route}/new", {"title": title, "amount": amount}, HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
        assert r.status_code == 302, r.content.decode()[:1000]
        names.append(r["Location"].rsplit("/", 1)[1])
    settle(ctx)
    small, big = names
    assert lowcode.get_value(s["doctype"], small, "workflow_state") == "Draft"

    def act(name, action):
        return client.post(f"/app/{route}/{name}", {"_action": f"workflow:{action}"}, HTTP_X_FRAPPE_CSRF_TOKEN=csrf)

    for name in names:
        assert act(name, "Send for Approval").status_code == 302
    # The maker may not approve: refused, nothing changes.
    r = act(small, "Approve")
    assert r.status_code == 417 and "not allowed" in r.content.decode()
    settle(ctx)
    assert lowcode.get_value(s["doctype"], small, "workflow_state") == "Pending <Review>"

    # The approver sees the action buttons the condition allows, and approves.
    csrf = login(ctx, client, s["users"]["approver"])
    page = client.get(f"/app/{route}/{small}").content.decode()
    assert 'value="workflow:Approve"' in page and 'value="workflow:Reject"' in page
    page = client.get(f"/app/{route}/{big}").content.decode()
    assert 'value="workflow:Approve"' not in page  # amount >= 10000: the condition says no
    assert act(small, "Approve").status_code == 302
    assert act(big, "Approve").status_code == 417
    settle(ctx)
    row = lowcode.get_value(s["doctype"], small, ["workflow_state", "status"], as_dict=True)
    assert row == {"workflow_state": "Approved", "status": "Approved"}
    assert "Approve" in client.get(f"/app/{route}/{small}").content.decode()  # the Workflow comment in the timeline

    # The list filters by state.
    page = client.get(f"/app/{route}").content.decode()
    assert 'name="workflow_state"' in page
    approved = client.get(f"/app/{route}", {"workflow_state": "Approved"}).content.decode()
    assert small in approved and big not in approved
    pending = client.get(f"/app/{route}", {"workflow_state": "Pending <Review>"}).content.decode()
    assert big in pending and small not in pending
