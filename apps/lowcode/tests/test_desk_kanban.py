"""The desk's Kanban view over HTTP, on both engines: columns from a Select field, a
Link field and a workflow; cards only from documents the user may read, with the
list filters; moving a card saves the document like the form does (versions,
validation, permission levels, the stale-write check) or follows a workflow
transition, and a refused move changes nothing.

Data set up through ``ctx`` is committed and ctx re-opened in a *read* transaction
before each request (``refresh``): on SQLite a write transaction held here would
block every request that writes."""
import json
from html.parser import HTMLParser

import pytest

import lowcode
from lowcode.testing import http
from lowcode.testing.http import body as as_json, csrf_header, refresh, write
from lowcode.utils import route_for


# -- helpers (the calendar tests use them too) ----------------------------------------------------

class Node:
    def __init__(self, tag, attrs, parent=None):
        self.tag, self.attrs, self.parent, self.children = tag, dict(attrs), parent, []

    def iter(self):
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    def find_all(self, tag=None, cls=None, **attrs):
        out = []
        for node in self.iter():
            if tag and node.tag != tag:
                continue
            if cls and cls not in (node.attrs.get("class") or "").split():
                continue
            if all(node.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items()):
                out.append(node)
        return out

    def find(self, tag=None, cls=None, **attrs):
        found = self.find_all(tag, cls, **attrs)
        assert found, f"no <{tag or '*'} class={cls} {attrs}>"
        return found[0]

    @property
    def text(self):
        return " ".join(" ".join(c.text if isinstance(c, Node) else c for c in self.children).split())


class _TreeBuilder(HTMLParser):
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__()
        self.root = self.current = Node("#document", {})

    def handle_starttag(self, tag, attrs):
        node = Node(tag, [(k, v or "") for k, v in attrs], self.current)
        self.current.children.append(node)
        if tag not in self.VOID:
            self.current = node

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse_html(response):
    text = response.content.decode("utf-8")
    assert "Traceback" not in text, text
    builder = _TreeBuilder()
    builder.feed(text)
    return builder.root


def ensure_role(role):
    if not lowcode.db.exists("Role", role):
        lowcode.get_doc({"doctype": "Role", "role_name": role}).insert()


def make_user(unique, tag, roles, **props):
    email = f"{tag}-{unique}@example.com"
    for role in roles:
        ensure_role(role)
    lowcode.get_doc({"doctype": "User", "email": email, "first_name": tag.title(),
                     "roles": [{"role": r} for r in roles], **props}).insert()
    return email


def login(client, user):
    """A desk session for ``user`` on the test client (committed, and ctx left in a
    read transaction); returns the POST headers."""
    return csrf_header(http.login(lowcode.local, client, user))


def stored(doctype, name, field):
    return lowcode.db.sql(f"SELECT `{field}` FROM `tab{doctype}` WHERE `name`=%s", (name,))[0][0]


def versions(doctype, name):
    return [json.loads(d) for d in lowcode.db.sql(
        "SELECT `data` FROM `tabVersion` WHERE `ref_doctype`=%s AND `docname`=%s", (doctype, name), pluck=True)]


# -- fixtures ---------------------------------------------------------------------------------------

@pytest.fixture
def board(ctx, make_doctype, unique):
    """A tracked DocType with two Select fields, a mandatory_depends_on that moving to
    "Done" triggers and a permlevel-1 Select; a tester role that may read and write
    level 0 but only read level 1; three documents."""
    tester, owner_only = f"Kanban Tester {unique}", f"Own Only {unique}"
    ensure_role(tester)
    ensure_role(owner_only)
    dt = make_doctype([
        {"fieldname": "subject", "fieldtype": "Data", "label": "Subject", "in_list_view": 1},
        {"fieldname": "priority", "fieldtype": "Select", "label": "Priority", "options": "Low\nHigh",
         "in_list_view": 1},
        {"fieldname": "status", "fieldtype": "Select", "label": "Status", "options": "Open\nWorking\nDone",
         "default": "Open", "in_standard_filter": 1, "in_list_view": 1},
        {"fieldname": "notes", "fieldtype": "Data", "label": "Closing Notes",
         "mandatory_depends_on": "eval:doc.status == 'Done'"},
        {"fieldname": "tier", "fieldtype": "Select", "label": "Tier", "options": "\nGold\nSilver", "permlevel": 1},
    ], title_field="subject", track_changes=1, permissions=[
        {"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1},
        {"role": tester, "read": 1, "write": 1, "create": 1},
        {"role": tester, "permlevel": 1, "read": 1},
        {"role": owner_only, "read": 1, "write": 1, "if_owner": 1},
    ])
    docs = {}
    for subject, status, priority in (("Alpha", "Open", "High"), ("Beta", "Working", "Low"),
                                      ("Gamma", "Open", "Low")):
        docs[subject] = lowcode.get_doc({"doctype": dt, "subject": f"{subject} {unique}", "status": status,
                                         "priority": priority, "tier": "Gold"}).insert().name
    user = make_user(unique, "kanban", [tester])
    return {"doctype": dt, "route": route_for(dt), "docs": docs, "user": user, "unique": unique,
            "owner_only": owner_only}


def columns(page):
    """{column value: [card names]} in board order."""
    out = {}
    for ul in page.find_all("ul", cls="kanban-cards"):
        out[ul.attrs["data-value"]] = [li.attrs["data-name"] for li in ul.find_all("li", cls="kanban-card")]
    return out


def move(client, headers, board, name, value, field="status", modified=None):
    data = {"name": name, "field": field, "value": value}
    if modified:
        data["modified"] = modified
    return client.post(f"/app/{board['route']}/view/kanban/move", data, **headers)


# -- the board --------------------------------------------------------------------------------------

def test_columns_and_cards_from_a_select_field(ctx, client, board):
    refresh(ctx)
    login(client, board["user"])
    docs = board["docs"]
    r = client.get(f"/app/{board['route']}/view/kanban")
    assert r.status_code == 200
    page = parse_html(r)
    # The default field: the first Select offered as a standard filter, not the first Select.
    assert page.find("select", id="kanban-field").find("option", selected="").attrs["value"] == "status"
    cols = columns(page)
    assert list(cols) == ["Open", "Working", "Done"]
    assert sorted(cols["Open"]) == sorted([docs["Alpha"], docs["Gamma"]])
    assert cols["Working"] == [docs["Beta"]] and cols["Done"] == []
    card = page.find("li", cls="kanban-card", data_name=docs["Alpha"])
    assert f"Alpha {board['unique']}" in card.text          # the title
    assert "Priority: High" in card.text                      # a list-view field
    assert card.find("a").attrs["href"] == f"/app/{board['route']}/{docs['Alpha']}"
    assert card.attrs["data-modified"] == str(stored(board["doctype"], docs["Alpha"], "modified"))
    assert page.find(id="kanban").attrs["data-can-move"] == "1"

    # Another field, and the list view's filters.
    page = parse_html(client.get(f"/app/{board['route']}/view/kanban?field=priority&status=Open"))
    cols = columns(page)
    assert list(cols) == ["Low", "High"]
    assert cols == {"Low": [docs["Gamma"]], "High": [docs["Alpha"]]}


def test_columns_from_a_link_field(ctx, client, make_doctype, unique):
    target = make_doctype([{"fieldname": "label", "fieldtype": "Data"}], autoname="field:label")
    for label in ("North", "South", "East"):
        lowcode.get_doc({"doctype": target, "label": f"{label}{unique}"}).insert()
    dt = make_doctype([{"fieldname": "region", "fieldtype": "Link", "options": target, "label": "Region"}])
    name = lowcode.get_doc({"doctype": dt, "region": f"South{unique}"}).insert().name
    empty = lowcode.get_doc({"doctype": dt}).insert().name
    refresh(ctx)
    login(client, "Administrator")
    r = client.get(f"/app/{route_for(dt)}/view/kanban")
    assert r.status_code == 200
    cols = columns(parse_html(r))
    # Documents without a value first, then the values in use, then the rest of the few targets.
    assert list(cols) == ["", f"South{unique}", f"East{unique}", f"North{unique}"]
    assert cols[f"South{unique}"] == [name] and cols[""] == [empty]


def test_cards_only_from_documents_the_user_may_read(ctx, client, board, unique):
    write(ctx)
    outsider = make_user(unique, "outsider", [f"Nobody {unique}"])
    own = make_user(unique, "own", [board["owner_only"]])
    lowcode.set_user(own)
    mine = lowcode.get_doc({"doctype": board["doctype"], "subject": "Mine", "status": "Open"})
    mine.insert(ignore_permissions=True)
    lowcode.set_user("Administrator")
    refresh(ctx)

    login(client, outsider)
    r = client.get(f"/app/{board['route']}/view/kanban")
    assert r.status_code == 403
    page = parse_html(r)
    assert not page.find_all("li", cls="kanban-card")
    assert not any(f"{s} {unique}" in page.find("main").text for s in ("Alpha", "Beta", "Gamma"))
    # ...nor can they move one.
    headers = login(client, outsider)
    r = move(client, headers, board, board["docs"]["Alpha"], "Working")
    assert r.status_code == 403 and as_json(r)["exc_type"] == "PermissionError"
    assert stored(board["doctype"], board["docs"]["Alpha"], "status") == "Open"

    login(client, own)
    cols = columns(parse_html(client.get(f"/app/{board['route']}/view/kanban")))
    assert cols["Open"] == [mine.name] and cols["Working"] == []


# -- moving cards -----------------------------------------------------------------------------------

def test_move_saves_the_document_and_writes_a_version(ctx, client, board):
    refresh(ctx)
    headers = login(client, board["user"])
    name, dt = board["docs"]["Alpha"], board["doctype"]
    modified = str(stored(dt, name, "modified"))
    r = move(client, headers, board, name, "Working", modified=modified)
    assert r.status_code == 200, r.content
    data = as_json(r)
    refresh(ctx)
    assert stored(dt, name, "status") == "Working"
    assert data["value"] == "Working" and data["modified"] == str(stored(dt, name, "modified"))
    assert [["status", "Open", "Working"]] == [c for v in versions(dt, name) for c in v["changed"]]
    # The answer's version is the card's next version: a second move with it goes through...
    r = move(client, headers, board, name, "Open", modified=data["modified"])
    assert r.status_code == 200, r.content
    refresh(ctx)
    assert stored(dt, name, "status") == "Open"
    # ...and one with the old version is a stale write, refused.
    r = move(client, headers, board, name, "Working", modified=modified)
    assert r.status_code == 409 and as_json(r)["exc_type"] == "TimestampMismatchError"
    refresh(ctx)
    assert stored(dt, name, "status") == "Open" and len(versions(dt, name)) == 2


def test_move_refused_by_validation_changes_nothing(ctx, client, board):
    refresh(ctx)
    headers = login(client, board["user"])
    name, dt = board["docs"]["Beta"], board["doctype"]
    r = move(client, headers, board, name, "Done")
    assert r.status_code == 417
    data = as_json(r)
    assert data["exc_type"] == "MandatoryError" and "Closing Notes" in data["message"]
    refresh(ctx)
    assert stored(dt, name, "status") == "Working" and versions(dt, name) == []
    # Not an option of the field: refused as well.
    r = move(client, headers, board, name, "Archived")
    assert r.status_code == 417 and "Archived" in as_json(r)["message"]
    refresh(ctx)
    assert stored(dt, name, "status") == "Working"


def test_move_refused_on_a_field_the_user_cannot_write(ctx, client, board):
    refresh(ctx)
    headers = login(client, board["user"])
    name, dt = board["docs"]["Gamma"], board["doctype"]
    page = parse_html(client.get(f"/app/{board['route']}/view/kanban?field=tier"))
    assert columns(page)["Gold"]  # readable: the board shows it...
    assert page.find(id="kanban").attrs["data-can-move"] == "0"  # ...but offers no dragging
    r = move(client, headers, board, name, "Silver", field="tier")
    assert r.status_code == 403
    data = as_json(r)
    assert data["exc_type"] == "PermissionError" and "Tier" in data["message"]
    refresh(ctx)
    assert stored(dt, name, "tier") == "Gold" and versions(dt, name) == []
    # A field that is no board field at all.
    r = move(client, headers, board, name, "x", field="subject")
    assert r.status_code == 417 and as_json(r)["field"] == "subject"


# -- workflow columns -------------------------------------------------------------------------------

@pytest.fixture
def flow(ctx, make_doctype, unique):
    author, approver = f"Author {unique}", f"Approver {unique}"
    for role in (author, approver):
        ensure_role(role)
    dt = make_doctype([{"fieldname": "subject", "fieldtype": "Data", "in_list_view": 1},
                       {"fieldname": "kind", "fieldtype": "Select", "options": "A\nB", "in_standard_filter": 1}],
                      title_field="subject", permissions=[
        {"role": "System Manager", "read": 1, "write": 1, "create": 1},
        {"role": author, "read": 1, "write": 1, "create": 1},
        {"role": approver, "read": 1, "write": 1}])
    lowcode.get_doc({"doctype": "Workflow", "workflow_name": f"Flow {unique}", "document_type": dt, "is_active": 1,
                     "workflow_state_field": "workflow_state",
                     "states": [{"state": "Draft", "allow_edit": author}, {"state": "Review", "allow_edit": approver},
                                {"state": "Approved", "allow_edit": approver}],
                     "transitions": [
                         {"state": "Draft", "action": "Send for Review", "next_state": "Review", "allowed": author,
                          "allow_self_approval": 1},
                         {"state": "Review", "action": "Approve", "next_state": "Approved", "allowed": approver,
                          "allow_self_approval": 1}]}).insert()
    ctx.db.commit()
    ctx.db.begin()
    user = make_user(unique, "author", [author])
    name = lowcode.get_doc({"doctype": dt, "subject": "Plan", "kind": "A"}).insert().name
    return {"doctype": dt, "route": route_for(dt), "user": user, "name": name}


def test_workflow_columns_move_by_transition(ctx, client, flow):
    dt, name = flow["doctype"], flow["name"]
    assert stored(dt, name, "workflow_state") == "Draft"
    refresh(ctx)
    headers = login(client, flow["user"])
    page = parse_html(client.get(f"/app/{flow['route']}/view/kanban"))
    # The workflow state is the default column field, its states the columns.
    assert list(columns(page)) == ["Draft", "Review", "Approved"] and columns(page)["Draft"] == [name]
    assert page.find(id="kanban").attrs["data-field"] == "workflow_state"

    # No transition leads straight from Draft to Approved.
    r = move(client, headers, flow, name, "Approved", field="workflow_state")
    assert r.status_code == 417
    data = as_json(r)
    assert data["exc_type"] == "WorkflowTransitionError" and "Approved" in data["message"]
    refresh(ctx)
    assert stored(dt, name, "workflow_state") == "Draft"

    r = move(client, headers, flow, name, "Review", field="workflow_state")
    assert r.status_code == 200, r.content
    refresh(ctx)
    assert stored(dt, name, "workflow_state") == "Review"
    comments = lowcode.db.sql("SELECT `content` FROM `tabComment` WHERE `reference_doctype`=%s "
                              "AND `reference_name`=%s AND `comment_type`='Workflow'", (dt, name), pluck=True)
    assert comments == ["Send for Review: Draft → Review"]

    # Review -> Approved exists, but only for the approver's role.
    r = move(client, headers, flow, name, "Approved", field="workflow_state")
    assert r.status_code == 417 and as_json(r)["exc_type"] == "WorkflowTransitionError"
    refresh(ctx)
    assert stored(dt, name, "workflow_state") == "Review"
