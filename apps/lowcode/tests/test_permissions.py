"""The permission matrix, over HTTP on both engines.

One world per site (built once for this module): three DocTypes with different rules,
users with different roles, a user restricted by a User Permission, a user whose only
access is one DocShare, and documents owned by different users. For every user x
DocType, every read path must return exactly the rows (and fields) the rules allow,
and every write path must be allowed or refused as the rules say.

The expected answers are computed here, from the RULES table below, by a small model
of Frappe's semantics -- never by calling the engine's permission functions:

* a role rule at permlevel 0 grants an action on all documents, or only on the
  user's own when every granting rule has ``if_owner``;
* a User Permission on Territory limits documents whose (non-ignored) Territory link is
  set to the allowed values (empty links stay visible), and the Territory list itself;
* a DocShare grants read (or write) on one document, whatever the roles say;
* a field of permlevel 1 is readable only with a permlevel-1 rule (read or write).

The ``has_permission`` and ``permission_query_conditions`` hooks are tested at the end
with a throw-away app (the ``temp_app`` fixture writes it under tmp_path, never into the
source tree, and uninstalls it after the test).
"""
import csv
import io
import json
import os
import uuid
from dataclasses import dataclass, field

import pytest

import lowcode
from lowcode import auth

# -- the rules ------------------------------------------------------------------------------------
# Role keys A, B, C, U stand for roles created with a unique suffix. C has no rule anywhere.

RULES = {
    "deal": [
        {"role": "A", "read": 1, "write": 1, "create": 1, "delete": 1, "report": 1, "export": 1},
        {"role": "A", "permlevel": 1, "read": 1, "write": 1},
        {"role": "B", "read": 1, "if_owner": 1},
        {"role": "U", "read": 1, "write": 1, "create": 1, "report": 1},
    ],
    "note": [
        {"role": "A", "read": 1},
        {"role": "B", "read": 1, "write": 1, "create": 1, "delete": 1, "report": 1, "export": 1},
        {"role": "U", "read": 1, "write": 1, "create": 1, "delete": 1, "report": 1, "if_owner": 1},
    ],
    "territory": [
        {"role": "A", "read": 1, "write": 1, "create": 1, "delete": 1, "report": 1, "export": 1},
        {"role": "B", "read": 1, "report": 1},
        {"role": "U", "read": 1, "export": 1},
    ],
}

# user key -> role keys. "u" also has a User Permission (Territory = T1); "s" has nothing
# but a read share of the deal D2; "bu" combines an if_owner rule with an unrestricted one.
USERS = {"a": {"A"}, "b": {"B"}, "c": {"C"}, "u": {"U"}, "s": set(), "bu": {"B", "U"}}
UP_TERRITORIES = {"u": ["T1"]}
SHARES = {"s": {("deal", "D2"): {"read"}}}

# documents: key -> (owner user key or "admin", territory key or "")
TERRITORIES = {"T1": "admin", "T2": "admin", "T3": "a"}
DEALS = {"D1": ("a", "T1"), "D2": ("b", "T2"), "D3": ("b", "T1"), "D4": ("u", "T2"), "D5": ("admin", ""),
         "D6": ("c", "T1"), "D7": ("bu", "T2")}
NOTES = {"N1": ("a", "T1"), "N2": ("b", "T2"), "N3": ("u", "T2"), "N4": ("u", "T1"), "N5": ("bu", "")}
DOCTYPES = ("deal", "note", "territory")
LEVEL0_FIELDS = {"deal": ("title", "amount", "territory", "status"), "note": ("title", "territory", "body"),
                 "territory": ("territory_name", "region")}
MATRIX = [(u, dt) for u in USERS for dt in DOCTYPES]
MATRIX_IDS = [f"{u}-{dt}" for u, dt in MATRIX]


# -- the model ----------------------------------------------------------------------------------------

def role_access(user, dt, ptype, level=0):
    rules = [r for r in RULES[dt] if r["role"] in USERS[user] and r.get("permlevel", 0) == level and r.get(ptype)]
    if not rules:
        return None
    return "owner" if all(r.get("if_owner") for r in rules) else "all"


def link_restricted(dt):
    """Whether the DocType's Territory link obeys User Permissions (the note's ignores them)."""
    return dt == "deal"


def up_allows(user, dt, doc, new=False):
    allowed = UP_TERRITORIES.get(user)
    if allowed is None:
        return True
    if dt == "territory":
        return new or doc["key"] in allowed
    if link_restricted(dt):
        return doc["territory"] in ("",) + tuple(allowed)
    return True


def shared(user, dt, doc, ptype):
    return ptype in SHARES.get(user, {}).get((dt, doc["key"]), set())


def can(user, dt, ptype, doc, new=False):
    access = role_access(user, dt, ptype)
    allowed = access == "all" or (access == "owner" and (new or doc["owner"] == user))
    if allowed and not up_allows(user, dt, doc, new):
        allowed = False
    if not allowed and not new and shared(user, dt, doc, ptype):
        allowed = True
    return allowed


def can_list(user, dt):
    return role_access(user, dt, "read") is not None or any(
        d == dt and "read" in p for (d, _), p in SHARES.get(user, {}).items())


def reads_level1(user, dt):
    return bool(role_access(user, dt, "read", 1) or role_access(user, dt, "write", 1))


def writes_level1(user, dt):
    return bool(role_access(user, dt, "write", 1))


# -- the world ------------------------------------------------------------------------------------------

@dataclass
class World:
    site: str
    bench: str
    u: str
    roles: dict
    emails: dict
    headers: dict
    doctypes: dict
    docs: dict = field(default_factory=dict)   # dt -> {key: {"key", "name", "owner", "territory", ...}}

    def name(self, dt, key):
        return self.docs[dt][key]["name"]

    def visible(self, user, dt):
        return {d["name"] for d in self.docs[dt].values() if can(user, dt, "read", d)}

    def email(self, key):
        return "Administrator" if key == "admin" else self.emails[key]


def _perm_rows(rules, roles):
    rows = []
    for r in rules:
        row = {k: v for k, v in r.items() if k != "role"}
        row["role"] = roles[r["role"]]
        rows.append(row)
    return rows


def _make_doctype(name, fields, permissions, **props):
    lowcode.get_doc({"doctype": "DocType", "name": name, "module": "Custom", "fields": fields,
                     "permissions": permissions, **props}).insert()


@pytest.fixture(scope="module")
def world(site, bench):
    u = uuid.uuid4().hex[:6]
    with lowcode.site_context(site, bench=bench) as local:
        roles = {k: f"Perm{k} {u}" for k in ("A", "B", "C", "U")}
        for role in roles.values():
            lowcode.get_doc({"doctype": "Role", "role_name": role}).insert()
        emails, headers = {}, {}
        for key, role_keys in USERS.items():
            email = f"perm-{key}-{u}@example.com"
            lowcode.get_doc({"doctype": "User", "email": email, "first_name": key.upper(),
                             "roles": [{"role": roles[r]} for r in sorted(role_keys)]}).insert()
            api_key, secret = auth.generate_keys(email)
            emails[key], headers[key] = email, {"HTTP_AUTHORIZATION": f"token {api_key}:{secret}"}
        doctypes = {"territory": f"Perm Territory {u}", "deal": f"Perm Deal {u}", "note": f"Perm Note {u}"}
        _make_doctype(doctypes["territory"], [
            {"fieldname": "territory_name", "fieldtype": "Data", "label": "Territory Name", "reqd": 1},
            {"fieldname": "region", "fieldtype": "Data", "label": "Region"},
        ], _perm_rows(RULES["territory"], roles), autoname="field:territory_name")
        _make_doctype(doctypes["deal"], [
            {"fieldname": "title", "fieldtype": "Data", "label": "Title", "reqd": 1},
            {"fieldname": "amount", "fieldtype": "Int", "label": "Amount"},
            {"fieldname": "territory", "fieldtype": "Link", "label": "Territory", "options": doctypes["territory"]},
            {"fieldname": "status", "fieldtype": "Select", "label": "Status", "options": "Open\nWon\nLost"},
            {"fieldname": "secret", "fieldtype": "Data", "label": "Secret Margin", "permlevel": 1},
        ], _perm_rows(RULES["deal"], roles), autoname="field:title", title_field="title", search_fields="status")
        _make_doctype(doctypes["note"], [
            {"fieldname": "title", "fieldtype": "Data", "label": "Title", "reqd": 1},
            {"fieldname": "territory", "fieldtype": "Link", "label": "Territory", "options": doctypes["territory"],
             "ignore_user_permissions": 1},
            {"fieldname": "body", "fieldtype": "Small Text", "label": "Body"},
        ], _perm_rows(RULES["note"], roles), autoname="field:title")
        local.db.commit()
        local.db.begin()
        w = World(site, bench, u, roles, emails, headers, doctypes)
        owner_email = w.email
        w.docs["territory"] = {}
        for key, owner in TERRITORIES.items():
            name = f"{key}-{u}"
            lowcode.get_doc({"doctype": doctypes["territory"], "territory_name": name, "region": f"R{key}",
                             "owner": owner_email(owner)}).insert(ignore_permissions=True)
            w.docs["territory"][key] = {"key": key, "name": name, "owner": owner, "territory": key,
                                        "values": {"territory_name": name, "region": f"R{key}"}}
        for dt, docs in (("deal", DEALS), ("note", NOTES)):
            w.docs[dt] = {}
            for i, (key, (owner, terr)) in enumerate(docs.items()):
                name = f"{key}-{u}"
                values = {"doctype": doctypes[dt], "title": name, "owner": owner_email(owner),
                          "territory": w.docs["territory"][terr]["name"] if terr else None}
                if dt == "deal":
                    values.update(amount=(i + 1) * 100, status=("Open", "Won", "Lost")[i % 3],
                                  secret=f"margin-{key}")
                else:
                    values.update(body=f"body of {key}")
                lowcode.get_doc(values).insert(ignore_permissions=True)
                stored = {k: v for k, v in values.items() if k not in ("doctype", "owner")}
                w.docs[dt][key] = {"key": key, "name": name, "owner": owner, "territory": terr, "values": stored}
        for user, allowed in UP_TERRITORIES.items():
            for terr in allowed:
                lowcode.get_doc({"doctype": "User Permission", "user": emails[user], "allow": doctypes["territory"],
                                 "for_value": w.docs["territory"][terr]["name"]}).insert()
        for user, shares in SHARES.items():
            for (dt, key), ptypes in shares.items():
                lowcode.get_doc({"doctype": "DocShare", "user": emails[user], "share_doctype": doctypes[dt],
                                 "share_name": w.name(dt, key), **{p: 1 for p in ptypes}}).insert()
        local.db.commit()
    # documents are "owned" by user keys in the model; the data holds e-mails
    return w


@pytest.fixture
def http(world, client):
    """client bound to the world: http(user).get(path, ...) sends that user's token."""
    class As:
        def __init__(self, user):
            self.h = world.headers[user]

        def get(self, path, data=None):
            return client.get(path, data or {}, **self.h)

        def post(self, path, payload):
            return client.post(path, json.dumps(payload), content_type="application/json", **self.h)

        def put(self, path, payload):
            return client.put(path, json.dumps(payload), content_type="application/json", **self.h)

        def delete(self, path):
            return client.delete(path, **self.h)
    return As


def sql(world, query, values=()):
    with lowcode.site_context(world.site, bench=world.bench) as local:
        return local.db.sql(query, values)


def body(r, where):
    text = r.content.decode("utf-8")
    assert "Traceback" not in text, f"{where}: traceback in response"
    try:
        return json.loads(text)
    except ValueError:
        raise AssertionError(f"{where}: not JSON ({r.status_code}): {text[:300]}")


def expect_ok(r, where):
    data = body(r, where)
    assert r.status_code == 200, f"{where}: expected 200, got {r.status_code} {data}"
    return data


def expect_forbidden(r, where, field=None):
    data = body(r, where)
    assert r.status_code == 403, f"{where}: expected 403, got {r.status_code} {str(data)[:300]}"
    assert data.get("exc_type") == "PermissionError", f"{where}: {data}"
    if field:
        assert data.get("field") == field, f"{where}: error does not name field {field!r}: {data}"
    return data


def q(value):
    return json.dumps(value)


# -- read paths ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("user, dt", MATRIX, ids=MATRIX_IDS)
def test_resource_list(world, http, user, dt):
    where = f"{user} GET /api/resource/{dt}"
    r = http(user).get(f"/api/resource/{world.doctypes[dt]}", {"fields": q(["name"]), "limit_page_length": 0})
    if not can_list(user, dt):
        expect_forbidden(r, where)
        return
    rows = expect_ok(r, where)["data"]
    assert {row["name"] for row in rows} == world.visible(user, dt), where
    assert len(rows) == len(world.visible(user, dt)), f"{where}: duplicated rows"
    # paging never reaches past the permitted rows
    r = http(user).get(f"/api/resource/{world.doctypes[dt]}", {"fields": q(["name"]), "limit_start": 0,
                                                              "limit_page_length": 100})
    assert {row["name"] for row in expect_ok(r, where)["data"]} == world.visible(user, dt), where


@pytest.mark.parametrize("user, dt", MATRIX, ids=MATRIX_IDS)
def test_resource_list_with_readable_fields(world, http, user, dt):
    """fields=["*"] and explicit level-0 fields: the permitted rows with their values;
    the level-1 field only for those who may read it."""
    level0 = sorted(LEVEL0_FIELDS[dt])
    by_name = {d["name"]: d for d in world.docs[dt].values()}
    for fields in (["*"], ["name"] + level0):
        where = f"{user} GET /api/resource/{dt} fields={fields}"
        r = http(user).get(f"/api/resource/{world.doctypes[dt]}", {"fields": q(fields), "limit_page_length": 0})
        if not can_list(user, dt):
            expect_forbidden(r, where)
            continue
        rows = expect_ok(r, where)["data"]
        assert {row["name"] for row in rows} == world.visible(user, dt), where
        for row in rows:
            expected = by_name[row["name"]]["values"]
            assert {f: row.get(f) for f in level0} == {f: expected[f] for f in level0}, f"{where}: {row['name']}"
            if dt == "deal" and fields == ["*"]:
                assert ("secret" in row) == reads_level1(user, dt), \
                    f"{where}: secret {'missing' if reads_level1(user, dt) else 'leaked'}"
                if reads_level1(user, dt):
                    assert row["secret"] == expected["secret"], where


@pytest.mark.parametrize("user, dt", MATRIX, ids=MATRIX_IDS)
def test_resource_read_each_document(world, http, user, dt):
    for key, doc in world.docs[dt].items():
        where = f"{user} GET /api/resource/{dt}/{key}"
        r = http(user).get(f"/api/resource/{world.doctypes[dt]}/{doc['name']}")
        if not can(user, dt, "read", doc):
            expect_forbidden(r, where)
            text = r.content.decode()
            for value in doc["values"].values():
                if isinstance(value, str) and value.startswith(("margin-", "body of", "R")):
                    assert value not in text, f"{where}: refused but leaked {value!r}"
            continue
        data = expect_ok(r, where)["data"]
        assert data["name"] == doc["name"], where
        assert {f: data.get(f) for f in LEVEL0_FIELDS[dt]} == {f: doc["values"][f] for f in LEVEL0_FIELDS[dt]}, where
        if dt == "deal":
            assert ("secret" in data) == reads_level1(user, dt), \
                f"{where}: secret {'missing' if reads_level1(user, dt) else 'leaked'}"


@pytest.mark.parametrize("user, dt", MATRIX, ids=MATRIX_IDS)
def test_client_get_and_get_value(world, http, user, dt):
    value_field = {"deal": "title", "note": "body", "territory": "region"}[dt]
    for key, doc in world.docs[dt].items():
        name = doc["name"]
        where = f"{user} frappe.client.get {dt}/{key}"
        r = http(user).get("/api/method/frappe.client.get", {"doctype": world.doctypes[dt], "name": name})
        if can(user, dt, "read", doc):
            data = expect_ok(r, where)["message"]
            assert data["name"] == name and ("secret" in data) == (dt == "deal" and reads_level1(user, dt)), where
        else:
            expect_forbidden(r, where)

        where = f"{user} frappe.client.get_value {dt}/{key}"
        r = http(user).get("/api/method/frappe.client.get_value",
                           {"doctype": world.doctypes[dt], "fieldname": value_field, "filters": q({"name": name})})
        expected_value = doc["values"][value_field]
        if can(user, dt, "read", doc):
            assert expect_ok(r, where)["message"] == {value_field: expected_value}, where
        elif can_list(user, dt):
            assert expect_ok(r, where)["message"] in (None, {}), f"{where}: hidden row's value returned"
        else:
            expect_forbidden(r, where)


@pytest.mark.parametrize("user, dt", MATRIX, ids=MATRIX_IDS)
def test_client_get_list_and_get_count(world, http, user, dt):
    dtn = world.doctypes[dt]
    where = f"{user} frappe.client.get_list {dt}"
    r = http(user).get("/api/method/frappe.client.get_list", {"doctype": dtn, "fields": q(["name"]),
                                                              "limit_page_length": 0})
    if not can_list(user, dt):
        expect_forbidden(r, where)
        expect_forbidden(http(user).get("/api/method/frappe.client.get_count", {"doctype": dtn}),
                         f"{user} frappe.client.get_count {dt}")
        return
    assert {row["name"] for row in expect_ok(r, where)["message"]} == world.visible(user, dt), where

    where = f"{user} frappe.client.get_count {dt}"
    r = http(user).get("/api/method/frappe.client.get_count", {"doctype": dtn})
    assert expect_ok(r, where)["message"] == len(world.visible(user, dt)), where
    # with a filter: the count of permitted rows that match
    if dt != "territory":
        t1 = world.name("territory", "T1")
        r = http(user).get("/api/method/frappe.client.get_count", {"doctype": dtn,
                                                                   "filters": q([["territory", "=", t1]])})
        expected = len([d for d in world.docs[dt].values() if d["territory"] == "T1" and can(user, dt, "read", d)])
        assert expect_ok(r, where + " filtered")["message"] == expected, where + " filtered"


@pytest.mark.parametrize("user, dt", MATRIX, ids=MATRIX_IDS)
def test_group_by_counts_only_permitted_rows(world, http, user, dt):
    if dt == "territory":
        group, key = "region", lambda d: f"R{d['key']}"
    else:
        group, key = "territory", lambda d: world.name("territory", d["territory"]) if d["territory"] else None
    where = f"{user} GET /api/resource/{dt} group_by {group}"
    r = http(user).get(f"/api/resource/{world.doctypes[dt]}", {
        "fields": q([group, "count(name) as n"]), "group_by": group, "limit_page_length": 0})
    if not can_list(user, dt):
        expect_forbidden(r, where)
        return
    got = {row[group] or None: row["n"] for row in expect_ok(r, where)["data"]}
    expected = {}
    for d in world.docs[dt].values():
        if can(user, dt, "read", d):
            expected[key(d)] = expected.get(key(d), 0) + 1
    assert got == expected, where


@pytest.mark.parametrize("user, dt", MATRIX, ids=MATRIX_IDS)
def test_report_view(world, http, user, dt):
    dtn = world.doctypes[dt]
    where = f"{user} frappe.desk.reportview.get {dt}"
    r = http(user).get("/api/method/frappe.desk.reportview.get", {
        "doctype": dtn, "fields": q(["name"]), "page_length": 0})
    if role_access(user, dt, "report") is None:
        expect_forbidden(r, where)
        expect_forbidden(http(user).get("/api/method/frappe.desk.reportview.get_count", {"doctype": dtn}),
                         f"{user} reportview.get_count {dt}")
        return
    data = expect_ok(r, where)["message"]
    names = {row[data["keys"].index("name")] for row in data["values"]}
    assert names == world.visible(user, dt), where
    r = http(user).get("/api/method/frappe.desk.reportview.get_count", {"doctype": dtn})
    assert expect_ok(r, where)["message"] == len(world.visible(user, dt)), f"{user} reportview.get_count {dt}"
    # an aggregation in the report view counts permitted rows only
    r = http(user).get("/api/method/frappe.desk.reportview.get", {
        "doctype": dtn, "fields": q(["count(name) as total"]), "page_length": 0})
    data = expect_ok(r, where + " count")["message"]
    assert data["values"] == [[len(world.visible(user, dt))]], where + " count"


@pytest.mark.parametrize("user, dt", MATRIX, ids=MATRIX_IDS)
def test_search_link(world, http, user, dt):
    dtn = world.doctypes[dt]
    where = f"{user} frappe.desk.search.search_link {dt}"
    r = http(user).get("/api/method/frappe.desk.search.search_link", {"doctype": dtn, "txt": "", "page_length": 100})
    if not can_list(user, dt):
        expect_forbidden(r, where)
        return
    assert {row["value"] for row in expect_ok(r, where)["message"]} == world.visible(user, dt), where
    # searching by text narrows within the permitted rows only
    r = http(user).get("/api/method/frappe.desk.search.search_link", {"doctype": dtn, "txt": "1-",
                                                                      "page_length": 100})
    expected = {n for n in world.visible(user, dt) if "1-" in n}
    assert {row["value"] for row in expect_ok(r, where + " txt")["message"]} == expected, where + " txt"


@pytest.mark.parametrize("user, dt", MATRIX, ids=MATRIX_IDS)
def test_export_query(world, http, user, dt):
    dtn = world.doctypes[dt]
    where = f"{user} frappe.desk.reportview.export_query {dt}"
    r = http(user).get("/api/method/frappe.desk.reportview.export_query", {
        "doctype": dtn, "fields": q(["name"]), "file_format_type": "CSV"})
    if role_access(user, dt, "export") is None:
        expect_forbidden(r, where)
        return
    assert r.status_code == 200, f"{where}: {r.status_code} {r.content[:300]}"
    assert r["Content-Type"].startswith("text/csv"), where
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8"))))
    visible = world.visible(user, dt)
    if visible:
        assert rows[0] == ["name"], where
    assert {row[0] for row in rows[1:]} == visible, where
    if dt == "deal":
        r = http(user).get("/api/method/frappe.desk.reportview.export_query", {
            "doctype": dtn, "fields": q(["name", "secret"])})
        if reads_level1(user, dt):
            assert r.status_code == 200, where
        else:
            expect_forbidden(r, where + " secret", field="secret")


@pytest.mark.parametrize("user", list(USERS))
def test_hidden_field_cannot_be_read_or_probed(world, http, user):
    """A permlevel-1 field can be neither selected, filtered, sorted nor grouped on by
    a user who may not read it: any of those would leak its values."""
    dtn = world.doctypes["deal"]
    if not can_list(user, "deal"):
        return
    base = f"/api/resource/{dtn}"
    margin = world.docs["deal"]["D1"]["values"]["secret"]
    attempts = {
        "fields": {"fields": q(["name", "secret"])},
        "filters": {"filters": q([["secret", "=", margin]])},
        "or_filters": {"or_filters": q([["secret", "like", "margin%"]])},
        "order_by": {"order_by": "secret asc"},
        "group_by": {"fields": q(["count(name) as n"]), "group_by": "secret"},
        "aggregate": {"fields": q(["max(secret) as m"])},
    }
    for what, args in attempts.items():
        where = f"{user} GET {dtn} with secret in {what}"
        r = http(user).get(base, dict(args, limit_page_length=0))
        if reads_level1(user, "deal"):
            expect_ok(r, where)
        else:
            expect_forbidden(r, where, field="secret")
            assert margin not in r.content.decode(), where
    where = f"{user} frappe.client.get_value secret"
    r = http(user).get("/api/method/frappe.client.get_value", {
        "doctype": dtn, "fieldname": "secret", "filters": q({"name": world.name("deal", "D1")})})
    if reads_level1(user, "deal"):
        assert expect_ok(r, where)["message"] == {"secret": margin}
    else:
        assert margin not in r.content.decode(), f"{where}: leaked"
        assert r.status_code in (200, 403), where
    where = f"{user} reportview.get secret"
    r = http(user).get("/api/method/frappe.desk.reportview.get", {"doctype": dtn, "fields": q(["name", "secret"])})
    assert margin not in r.content.decode() or reads_level1(user, "deal"), f"{where}: leaked"


# -- write paths -------------------------------------------------------------------------------------------

def _fresh(world, dt, owner, terr, tag):
    """A new document owned by ``owner`` (user key) in territory ``terr`` (key or "")."""
    name = f"{tag}-{uuid.uuid4().hex[:6]}"
    with lowcode.site_context(world.site, bench=world.bench) as local:
        values = {"doctype": world.doctypes[dt], "owner": world.email(owner)}
        if dt == "territory":
            values.update(territory_name=name, region="fresh")
        else:
            values.update(title=name, territory=world.name("territory", terr) if terr else None)
        lowcode.get_doc(values).insert(ignore_permissions=True)
        local.db.commit()
    return {"key": name, "name": name, "owner": owner, "territory": terr if dt != "territory" else name}


def _payload(dt, terr_name):
    if dt == "territory":
        return {"territory_name": f"new-{uuid.uuid4().hex[:8]}", "region": "x"}
    return {"title": f"new-{uuid.uuid4().hex[:8]}", "territory": terr_name}


def _row_exists(world, dt, name):
    return bool(sql(world, f"SELECT 1 FROM `tab{world.doctypes[dt]}` WHERE `name`=%s", (name,)))


@pytest.mark.parametrize("user, dt", MATRIX, ids=MATRIX_IDS)
def test_create(world, http, user, dt):
    for terr in (("T1", "T2") if dt != "territory" else ("",)):
        payload = _payload(dt, world.name("territory", terr) if terr else None)
        name = payload.get("title") or payload["territory_name"]
        doc = {"key": name, "name": name, "owner": user, "territory": terr if dt != "territory" else name}
        where = f"{user} POST /api/resource/{dt} (territory {terr or '-'})"
        r = http(user).post(f"/api/resource/{world.doctypes[dt]}", payload)
        if can(user, dt, "create", doc, new=True):
            data = expect_ok(r, where)["data"]
            assert data["owner"] == world.email(user), where
            assert _row_exists(world, dt, name), f"{where}: not written"
        else:
            expect_forbidden(r, where)
            assert not _row_exists(world, dt, name), f"{where}: refused but written"
        # frappe.client.insert follows the same rules
        payload = _payload(dt, world.name("territory", terr) if terr else None)
        name = payload.get("title") or payload["territory_name"]
        r = http(user).post("/api/method/frappe.client.insert", {"doc": dict(payload, doctype=world.doctypes[dt])})
        where = f"{user} frappe.client.insert {dt} (territory {terr or '-'})"
        if can(user, dt, "create", dict(doc, name=name, key=name), new=True):
            expect_ok(r, where)
        else:
            expect_forbidden(r, where)
        assert _row_exists(world, dt, name) == can(user, dt, "create", doc, new=True), where


_VARIANTS = [("self", "T1"), ("self", "T2"), ("other", "T1"), ("other", "T2"), ("other", "")]


def _owner(user, who):
    return user if who == "self" else ("a" if user != "a" else "b")


@pytest.mark.parametrize("user, dt", MATRIX, ids=MATRIX_IDS)
def test_update(world, http, user, dt):
    variants = _VARIANTS if dt != "territory" else [("self", ""), ("other", "")]
    field_name = {"deal": "amount", "note": "body", "territory": "region"}[dt]
    for who, terr in variants:
        doc = _fresh(world, dt, _owner(user, who), terr, f"upd-{user}")
        where = f"{user} PUT /api/resource/{dt} ({who}'s, territory {terr or '-'})"
        value = 4242 if dt == "deal" else "changed"
        r = http(user).put(f"/api/resource/{world.doctypes[dt]}/{doc['name']}", {field_name: value})
        stored = sql(world, f"SELECT `{field_name}` FROM `tab{world.doctypes[dt]}` WHERE `name`=%s",
                     (doc["name"],))[0][0]
        if can(user, dt, "write", doc):
            expect_ok(r, where)
            assert stored == value, f"{where}: not written"
        else:
            expect_forbidden(r, where)
            assert stored != value, f"{where}: refused but written"
        # set_value takes the same path
        r = http(user).post("/api/method/frappe.client.set_value", {
            "doctype": world.doctypes[dt], "name": doc["name"], "fieldname": field_name,
            "value": 77 if dt == "deal" else "via set_value"})
        if can(user, dt, "write", doc):
            expect_ok(r, where + " set_value")
        else:
            expect_forbidden(r, where + " set_value")


@pytest.mark.parametrize("user, dt", MATRIX, ids=MATRIX_IDS)
def test_delete(world, http, user, dt):
    variants = _VARIANTS if dt != "territory" else [("self", ""), ("other", "")]
    for who, terr in variants:
        doc = _fresh(world, dt, _owner(user, who), terr, f"del-{user}")
        where = f"{user} DELETE /api/resource/{dt} ({who}'s, territory {terr or '-'})"
        r = http(user).delete(f"/api/resource/{world.doctypes[dt]}/{doc['name']}")
        if can(user, dt, "delete", doc):
            assert expect_ok(r, where) == {"message": "ok"}, where
            assert not _row_exists(world, dt, doc["name"]), f"{where}: not deleted"
        else:
            expect_forbidden(r, where)
            assert _row_exists(world, dt, doc["name"]), f"{where}: refused but deleted"


def test_user_permission_limits_the_values_a_user_may_write(world, http):
    """u may write deals, but only in T1: moving one to T2 is refused, and nothing changes."""
    doc = _fresh(world, "deal", "u", "T1", "move")
    dtn = world.doctypes["deal"]
    r = http("u").put(f"/api/resource/{dtn}/{doc['name']}", {"territory": world.name("territory", "T2")})
    expect_forbidden(r, "u moves a deal to T2")
    assert sql(world, f"SELECT `territory` FROM `tab{dtn}` WHERE `name`=%s", (doc["name"],))[0][0] == \
        world.name("territory", "T1")
    expect_ok(http("u").put(f"/api/resource/{dtn}/{doc['name']}", {"territory": None}), "u clears the territory")


def test_share_grants_exactly_what_it_says(world, http):
    """s's only access: a read share of D2 (it cannot write or delete it); a write share
    of another deal lets s change it, and nothing else."""
    dtn = world.doctypes["deal"]
    d2 = world.name("deal", "D2")
    expect_forbidden(http("s").put(f"/api/resource/{dtn}/{d2}", {"amount": 1}), "s writes the read-shared D2")
    expect_forbidden(http("s").delete(f"/api/resource/{dtn}/{d2}"), "s deletes the read-shared D2")
    expect_forbidden(http("s").post(f"/api/resource/{dtn}", {"title": f"s-{uuid.uuid4().hex[:6]}"}),
                     "s creates a deal")
    doc = _fresh(world, "deal", "a", "T2", "wshare")
    with lowcode.site_context(world.site, bench=world.bench) as local:
        lowcode.get_doc({"doctype": "DocShare", "user": world.email("s"), "share_doctype": dtn,
                         "share_name": doc["name"], "read": 1, "write": 1}).insert()
        local.db.commit()
    data = expect_ok(http("s").get(f"/api/resource/{dtn}/{doc['name']}"), "s reads the write-shared deal")["data"]
    assert "secret" not in data
    expect_ok(http("s").put(f"/api/resource/{dtn}/{doc['name']}", {"amount": 5}), "s writes the write-shared deal")
    assert sql(world, f"SELECT `amount` FROM `tab{dtn}` WHERE `name`=%s", (doc["name"],))[0][0] == 5
    expect_forbidden(http("s").delete(f"/api/resource/{dtn}/{doc['name']}"), "s deletes the write-shared deal")
    rows = expect_ok(http("s").get(f"/api/resource/{dtn}", {"fields": q(["name"]), "limit_page_length": 0}),
                     "s lists deals")["data"]
    assert {r["name"] for r in rows} == {d2, doc["name"]}


# -- permission levels --------------------------------------------------------------------------------------

def test_permlevel_field_is_hidden_and_protected(world, http):
    dtn = world.doctypes["deal"]
    doc = _fresh(world, "deal", "u", "T1", "lvl")
    with lowcode.site_context(world.site, bench=world.bench) as local:
        local.db.sql(f"UPDATE `tab{dtn}` SET `secret`='hidden-1', `amount`=1 WHERE `name`=%s", (doc["name"],))
        local.db.commit()
    url = f"/api/resource/{dtn}/{doc['name']}"

    got = expect_ok(http("u").get(url), "u reads a deal")["data"]
    assert "secret" not in got, "u sees the permlevel-1 field"
    assert got["amount"] == 1
    # changing the level-1 field is refused by name, and nothing is written
    data = expect_forbidden(http("u").put(url, {"secret": "changed", "amount": 2}), "u changes secret",
                            field="secret")
    assert "Secret Margin" in data["message"] or "secret" in data["message"]
    assert sql(world, f"SELECT `secret`, `amount` FROM `tab{dtn}` WHERE `name`=%s", (doc["name"],))[0] == \
        ("hidden-1", 1)
    # other fields save, and the hidden value survives a round trip of what u was shown
    expect_ok(http("u").put(url, {"amount": 3}), "u changes amount")
    got = expect_ok(http("u").get(url), "u reads the deal again")["data"]
    assert "secret" not in got
    got["amount"] = 4
    expect_ok(http("u").post("/api/method/frappe.client.save", {"doc": dict(got, doctype=dtn)}),
              "u saves the document it was shown")
    assert sql(world, f"SELECT `secret`, `amount` FROM `tab{dtn}` WHERE `name`=%s", (doc["name"],))[0] == \
        ("hidden-1", 4)
    # set_value on the level-1 field is refused too
    expect_forbidden(http("u").post("/api/method/frappe.client.set_value", {
        "doctype": dtn, "name": doc["name"], "fieldname": "secret", "value": "x"}), "u set_value secret",
        field="secret")
    # a user with level 1 reads and writes it
    got_a = expect_ok(http("a").get(url), "a reads the deal")["data"]
    assert got_a["secret"] == "hidden-1"
    expect_ok(http("a").put(url, {"secret": "by-a"}), "a changes secret")
    assert sql(world, f"SELECT `secret` FROM `tab{dtn}` WHERE `name`=%s", (doc["name"],))[0][0] == "by-a"


def test_permlevel_field_cannot_be_set_on_create(world, http):
    """u may create deals but not write level 1: a value sent for it is not stored."""
    dtn = world.doctypes["deal"]
    title = f"lvlnew-{uuid.uuid4().hex[:6]}"
    r = http("u").post(f"/api/resource/{dtn}", {"title": title, "secret": "planted"})
    if r.status_code == 200:
        stored = sql(world, f"SELECT `secret` FROM `tab{dtn}` WHERE `name`=%s", (title,))[0][0]
        assert stored in (None, ""), f"u planted a permlevel-1 value on create: {stored!r}"
        assert "planted" not in r.content.decode()
    else:
        expect_forbidden(r, "u creates a deal with secret", field="secret")
        assert not _row_exists(world, "deal", title)


# -- app hooks: has_permission, permission_query_conditions --------------------------------------------

def _refresh(ctx):
    ctx.db.commit()
    ctx.db.begin(write=False)


@pytest.fixture
def hooked(ctx, make_doctype, temp_app, unique, client):
    """A DocType readable and writable by role H, three users' documents, and a
    temp app whose hooks (written per test) apply to it. Returns a setup function."""
    role = f"Hooked {unique}"
    lowcode.get_doc({"doctype": "Role", "role_name": role}).insert()
    users = {}
    for key in ("x", "y"):
        email = f"hook-{key}-{unique}@example.com"
        lowcode.get_doc({"doctype": "User", "email": email, "first_name": key.upper(),
                         "roles": [{"role": role}]}).insert()
        api_key, secret = auth.generate_keys(email)
        users[key] = (email, {"HTTP_AUTHORIZATION": f"token {api_key}:{secret}"})
    dt = make_doctype([
        {"fieldname": "title", "fieldtype": "Data", "label": "Title"},
        {"fieldname": "status", "fieldtype": "Select", "label": "Status", "options": "Open\nClosed\nLocked"},
    ], permissions=[{"role": role, "read": 1, "write": 1, "create": 1, "delete": 1, "report": 1}],
        autoname="field:title")
    docs = {}
    for title, status, owner in (("open-x", "Open", "x"), ("closed-x", "Closed", "x"), ("open-y", "Open", "y"),
                                 ("locked-y", "Locked", "y"), ("hidden-y", "Open", "y")):
        name = f"{title}-{unique}"
        lowcode.get_doc({"doctype": dt, "title": name, "status": status, "owner": users[owner][0]}).insert(
            ignore_permissions=True)
        docs[title] = name

    def install(hooks, module):
        from lowcode import installer
        app = temp_app(hooks=hooks.format(app="{app}", dt=dt))
        app.write("perms.py", module)
        # hooks name the app's own module
        with open(os.path.join(app.path, "hooks.py")) as f:
            text = f.read().replace("{app}", app.name)
        with open(os.path.join(app.path, "hooks.py"), "w") as f:
            f.write(text)
        installer.install_app(app.name)
        _refresh(ctx)
        return app
    return dt, users, docs, install


def _names(r, where):
    data = body(r, where)
    assert r.status_code == 200, f"{where}: {r.status_code} {data}"
    payload = data.get("data", data.get("message"))
    return {row["name"] for row in payload}


def test_permission_query_conditions_hook_limits_every_list_path(hooked, client):
    """A Frappe-style hook returning an SQL condition on `tab<DocType>` columns."""
    dt, users, docs, install = hooked
    install(hooks='''
permission_query_conditions = {{"{dt}": "{app}.perms.only_open"}}
''', module=f'''
def only_open(user):
    return "`tab{dt}`.`status` = 'Open'"
''')
    email, h = users["x"]
    expected = {docs["open-x"], docs["open-y"], docs["hidden-y"]}
    r = client.get(f"/api/resource/{dt}", {"fields": q(["name"]), "limit_page_length": 0}, **h)
    assert _names(r, "hook list") == expected
    r = client.get("/api/method/frappe.client.get_count", {"doctype": dt}, **h)
    assert expect_ok(r, "hook get_count")["message"] == 3
    r = client.get("/api/method/frappe.desk.search.search_link", {"doctype": dt, "txt": "", "page_length": 50}, **h)
    assert {row["value"] for row in expect_ok(r, "hook search_link")["message"]} == expected
    r = client.get("/api/method/frappe.desk.reportview.get", {"doctype": dt, "fields": q(["name"]),
                                                              "page_length": 0}, **h)
    assert {v[0] for v in expect_ok(r, "hook report")["message"]["values"]} == expected


def test_permission_query_conditions_hook_with_bound_values(hooked, client):
    """The other accepted form: (condition, values) with bound values; a hook that
    takes ``doctype`` as well is told which DocType is being queried."""
    dt, users, docs, install = hooked
    install(hooks='''
permission_query_conditions = {{"{dt}": "{app}.perms.own_or_open"}}
''', module='''
def own_or_open(user, doctype):
    return f"(`tab{doctype}`.`owner` = %s OR `tab{doctype}`.`status` = %s)", [user, "Open"]
''')
    email, h = users["x"]
    r = client.get(f"/api/resource/{dt}", {"fields": q(["name"]), "limit_page_length": 0}, **h)
    assert _names(r, "hook list x") == {docs["open-x"], docs["closed-x"], docs["open-y"], docs["hidden-y"]}
    email, h = users["y"]
    r = client.get(f"/api/resource/{dt}", {"fields": q(["name"]), "limit_page_length": 0}, **h)
    assert _names(r, "hook list y") == {docs["open-x"], docs["open-y"], docs["locked-y"], docs["hidden-y"]}
    r = client.get(f"/api/resource/{dt}", {"fields": q(["status", "count(name) as n"]), "group_by": "status",
                                            "order_by": "status asc"}, **h)
    assert expect_ok(r, "hook group_by")["data"] == [{"status": "Locked", "n": 1}, {"status": "Open", "n": 3}]


def test_has_permission_hook_can_refuse_a_document(hooked, client):
    dt, users, docs, install = hooked
    install(hooks='''
has_permission = {{"{dt}": "{app}.perms.check"}}
''', module='''
def check(doc, ptype=None, user=None):
    if doc.title.startswith("hidden-"):
        return False
    if (doc.name or "").startswith("locked-") and ptype in ("write", "delete"):
        return False
    return True
''')
    email, h = users["x"]
    expect_forbidden(client.get(f"/api/resource/{dt}/{docs['hidden-y']}", **h), "hook hides a document")
    expect_ok(client.get(f"/api/resource/{dt}/{docs['open-y']}", **h), "hook allows a document")
    expect_ok(client.get(f"/api/resource/{dt}/{docs['locked-y']}", **h), "hook allows reading a locked one")
    r = client.put(f"/api/resource/{dt}/{docs['locked-y']}", json.dumps({"status": "Open"}),
                   content_type="application/json", **h)
    expect_forbidden(r, "hook refuses writing a locked document")
    expect_forbidden(client.delete(f"/api/resource/{dt}/{docs['locked-y']}", **h), "hook refuses deleting")
    r = client.put(f"/api/resource/{dt}/{docs['open-x']}", json.dumps({"status": "Closed"}),
                   content_type="application/json", **h)
    expect_ok(r, "hook allows writing an open document")
    # the hook is asked about new documents too
    title = f"hidden-new-{uuid.uuid4().hex[:4]}"
    r = client.post(f"/api/resource/{dt}", json.dumps({"title": title}), content_type="application/json", **h)
    expect_forbidden(r, "hook refuses creating a hidden- document")
    expect_ok(client.post(f"/api/resource/{dt}", json.dumps({"title": f"fine-{uuid.uuid4().hex[:4]}"}),
                          content_type="application/json", **h), "hook allows creating another")
    # a hook only takes away: lists still follow the role rules (it is a per-document check)
    r = client.get(f"/api/resource/{dt}", {"fields": q(["name"]), "limit_page_length": 0}, **h)
    assert docs["open-y"] in _names(r, "list with has_permission hook")
