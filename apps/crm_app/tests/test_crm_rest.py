"""REST access to every CRM DocType with each CRM role (Sales User, Sales Manager,
Marketing User, CRM Admin; and the parties' Purchase User and HR User), over HTTP with
API tokens: list (GET), create (POST) and update (PUT) answer 200 or 403 exactly as the
app's JSON files say.

Expectations are read from the files, not written by hand:
- the DocPerms of apps/crm_app/doctype/<x>/<x>.json (the role's rows plus the "All"
  role's): ``read`` -> list, ``create`` -> POST, ``write`` -> PUT;
- for a DocType with a workflow (apps/crm_app/workflows/*.json) an update also needs
  the role named in ``allow_edit`` of the document's state (a new document is in the
  first state), which the engine enforces on every save.
Documents to update are made visible to the user first (lead / opportunity owner), so
the row rules of crm_app/permissions.py do not hide them.
"""
import glob
import json
import os

import pytest

import lowcode

from crm_app.tests.helpers import body, make_product, make_user, refresh, tag, token

APP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROLES = ["Sales User", "Sales Manager", "Marketing User", "CRM Admin"]
# Roles of the other parties' keepers (ERPNext's): the matrix checks them as attackers of every CRM DocType too.
PARTY_ROLES = ["Purchase User", "HR User"]


def _doctype_files():
    out = {}
    for path in glob.glob(os.path.join(APP, "doctype", "*", "*.json")):
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        if data.get("doctype") == "DocType" and not data.get("istable") and not data.get("issingle"):
            out[data["name"]] = data
    return out


def _workflows():
    out = {}
    for path in glob.glob(os.path.join(APP, "workflows", "*.json")):
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        if data.get("is_active"):
            out[data["document_type"]] = data
    return out


DOCTYPES = _doctype_files()
WORKFLOWS = _workflows()


def expected(doctype, role, action):
    """True when the JSON files allow ``role`` to ``action`` (list/create/update)."""
    ptype = {"list": "read", "create": "create", "update": "write"}[action]
    rules = [p for p in DOCTYPES[doctype].get("permissions", []) if p["role"] in (role, "All")
             and int(p.get("permlevel") or 0) == 0]
    allowed = any(int(p.get(ptype) or 0) for p in rules)
    if action == "list" and not allowed:
        allowed = any(int(p.get("write") or 0) for p in rules)
    if action == "update" and allowed and doctype in WORKFLOWS:
        states = WORKFLOWS[doctype]["states"]
        first = states[0]["state"]
        allowed = role in {s.get("allow_edit") for s in states if s["state"] == first}
    return allowed


def test_the_expectations_cover_every_crm_doctype():
    assert len(DOCTYPES) >= 25
    assert set(WORKFLOWS) == {"Lead", "Opportunity", "Quotation"}
    missing = sorted(set(DOCTYPES) - set(PAYLOADS))
    assert not missing, f"no REST payload for {missing}"


# -- payloads -------------------------------------------------------------------------------------
# new(env) -> the body of a POST; change -> the body of a PUT.

def _u():
    return tag()


PAYLOADS = {
    "Address": (lambda env: {"address_title": f"HQ {_u()}", "address_line1": "Valiasr 1", "city": "Tehran"},
                {"address_line2": "Floor 3"}),
    "Announcement": (lambda env: {"title": f"News {_u()}"}, {"content": "<p>updated</p>"}),
    # a read receipt: written by the desk when a user opens an announcement, read-only over REST
    "Announcement Read": (lambda env: {"announcement": env["announcement"], "user": env["admin_user"]},
                          {"read_on": "2026-01-01 10:00:00"}),
    "Assignment Log": (lambda env: {"reason": f"manual {_u()}"}, {"reason": "changed"}),
    "Assignment Rule": (lambda env: {"rule_name": f"REST rule {_u()}", "document_type": "Lead", "disabled": 1,
                                     "condition": "doc.territory == 'no-such-territory'",
                                     "users": [{"user": env["admin_user"]}]}, {"priority": 9}),
    "Call Log": (lambda env: {"phone": "09121234567"}, {"notes": "called back"}),
    "Campaign": (lambda env: {"campaign_name": f"Campaign {_u()}"}, {"status": "Active"}),
    "Campaign Member": (lambda env: {"campaign_message": env["message"], "member_doctype": "Customer",
                                     "member_name": env["customer"]}, {"error": "changed"}),
    "Campaign Message": (lambda env: {"campaign": env["campaign"], "segment": env["segment"], "channel": "SMS",
                                      "message": "Hi {{ doc.first_name }}"}, {"throttle_per_minute": 5}),
    "Communication": (lambda env: {"subject": f"Mail {_u()}"}, {"status": "Replied"}),
    "Competitor": (lambda env: {"competitor_name": f"Rival {_u()}"}, {"strengths": "cheap"}),
    "Contact": (lambda env: {"first_name": f"Contact {_u()}"}, {"designation": "Buyer"}),
    "Customer": (lambda env: {"customer_name": f"Customer {_u()}"}, {"city": "Shiraz"}),
    "Customer Group": (lambda env: {"customer_group_name": f"Group {_u()}"}, {"parent_customer_group": None}),
    "Event": (lambda env: {"subject": f"Meeting {_u()}", "starts_on": "2030-01-01 10:00:00"}, {"location": "Haifa"}),
    "Follow-up Rule": (lambda env: {"rule_name": f"REST follow-up {_u()}", "every_n_days": 7, "enabled": 0,
                                    "customer_filters": '[["name", "=", "no-such-customer"]]'},
                       {"task_priority": "High"}),
    "Industry": (lambda env: {"industry": f"Industry {_u()}"}, {}),
    "Item Price": (lambda env: {"product": env["product"], "price_list": env["price_list"], "rate": 10},
                   {"rate": 12}),
    "Lead": (lambda env: {"first_name": "Rest", "email_id": f"rest-{_u()}@example.com"}, {"job_title": "Buyer"}),
    "Lead Source": (lambda env: {"source_name": f"Source {_u()}"}, {"description": "fairs"}),
    "Lead Scoring Rule": (lambda env: {"rule_name": f"REST scoring {_u()}", "enabled": 0, "criterion": "Lead field",
                                       "lead_field": "city", "operator": "=", "value": "Nowhere", "points": 1},
                          {"points": 2}),
    "Lost Reason": (lambda env: {"lost_reason": f"Reason {_u()}"}, {"description": "too slow"}),
    "Note": (lambda env: {"title": f"Note {_u()}"}, {"content": "<p>more</p>"}),
    "Opportunity": (lambda env: {"title": f"Deal {_u()}", "opportunity_from": "Customer",
                                 "party_name": env["customer"]}, {"expected_closing": "2031-01-31"}),
    "Party Relation": (lambda env: {"from_type": "Customer", "from_party": env["customer"], "relation": "Referred by",
                                    "to_type": "Customer", "to_party": env["customer"]}, {"notes": "met at expo"}),
    "Price List": (lambda env: {"price_list_name": f"PL {_u()}"}, {"currency": "ILS"}),
    "Product": (lambda env: {"product_code": f"REST-{_u()}", "product_name": "Widget"}, {"uom": "Box"}),
    "Quotation": (lambda env: {"party_name": env["customer"], "items": [{"product": env["product"], "qty": 1,
                                                                         "rate": 5}]}, {"terms": "<p>net 30</p>"}),
    "Segment": (lambda env: {"segment_name": f"Segment {_u()}", "segment_doctype": "Lead",
                             "filters_json": '[["Lead", "territory", "=", "no-such-territory"]]'},
                {"description": "nobody"}),
    "Sales Stage": (lambda env: {"stage_name": f"Stage {_u()}"}, {"probability": 40}),
    "Sales Forecast Entry": (lambda env: {"period_start": "2030-01-01", "commit_amount": 5, "best_case_amount": 6},
                             {"best_case_amount": 7}),
    "Sales Target": (lambda env: {"period_start": "2030-01-01", "period_end": "2030-12-31", "target_amount": 5},
                     {"target_amount": 6}),
    "Task": (lambda env: {"subject": f"Task {_u()}"}, {"priority": "High"}),
    "Territory": (lambda env: {"territory_name": f"Territory {_u()}"}, {"territory_type": "Region"}),
    # the parties beside customers (crm_app/party_360.py)
    "Employee": (lambda env: {"employee_name": f"Employee {_u()}"}, {"designation": "Buyer"}),
    "Sales Partner": (lambda env: {"partner_name": f"Partner {_u()}", "commission_rate": 5}, {"commission_rate": 6}),
    "Supplier": (lambda env: {"supplier_name": f"Supplier {_u()}"}, {"tax_id": "10101"}),
    "Supplier Group": (lambda env: {"supplier_group_name": f"Supplier group {_u()}"}, {"description": "metal"}),
}

# Fields that put a document in the tested user's rows (crm_app/permissions.py).
OWNER_FIELD = {"Lead": "lead_owner", "Opportunity": "opportunity_owner", "Sales Forecast Entry": "salesperson"}


@pytest.mark.parametrize("role", ROLES + PARTY_ROLES)
def test_rest_access_by_role(ctx, client, unique, role):
    user = make_user(unique, role.lower().replace(" ", ""), roles=(role,))
    env = {"admin_user": user, "customer": lowcode.get_doc({"doctype": "Customer",
                                                            "customer_name": f"REST {unique}"}).insert().name,
           "product": make_product(rate=5),
           "price_list": lowcode.get_doc({"doctype": "Price List", "price_list_name": f"REST PL {unique}"}).insert().name,
           "campaign": lowcode.get_doc({"doctype": "Campaign", "campaign_name": f"REST {unique}"}).insert().name,
           "segment": lowcode.get_doc({"doctype": "Segment", "segment_name": f"REST {unique}"}).insert().name,
           "announcement": lowcode.get_doc({"doctype": "Announcement", "title": f"REST {unique}"}).insert().name}
    env["message"] = lowcode.get_doc({"doctype": "Campaign Message", "campaign": env["campaign"], "channel": "SMS",
                                      "segment": env["segment"], "message": "hi"}).insert().name
    targets = {}
    for doctype, (new, _) in PAYLOADS.items():
        data = dict(new(env), doctype=doctype)
        if doctype in OWNER_FIELD:
            data[OWNER_FIELD[doctype]] = user
        targets[doctype] = lowcode.get_doc(data).insert().name
    auth = token(user)
    refresh(ctx)

    wrong = []
    for doctype, (new, change) in sorted(PAYLOADS.items()):
        url = f"/api/resource/{doctype}"
        answers = {
            "list": client.get(url, **auth),
            "create": client.post(url, data=json.dumps(new(env)), content_type="application/json", **auth),
            "update": client.put(f"{url}/{targets[doctype]}", data=json.dumps(change or {"idx": 0}),
                                 content_type="application/json", **auth),
        }
        for action, response in answers.items():
            want = 200 if expected(doctype, role, action) else 403
            if response.status_code != want:
                data = body(response)
                wrong.append(f"{doctype} {action}: {response.status_code} (want {want}) {data.get('message', '')}")
            elif want == 403:
                assert body(response)["exc_type"] == "PermissionError", (doctype, action)
    assert not wrong, f"{role}:\n" + "\n".join(wrong)


@pytest.mark.parametrize("role", ROLES)
def test_created_lead_is_readable_by_its_creator(ctx, client, unique, role):
    """What a role may create over REST it can read back (the row rules count the owner)."""
    user = make_user(unique, "creator", roles=(role,))
    auth = token(user)
    refresh(ctx)
    response = client.post("/api/resource/Lead", data=json.dumps({"first_name": "Back", "email_id":
                                                                  f"back-{unique}@example.com"}),
                           content_type="application/json", **auth)
    assert response.status_code == 200, body(response)
    name = body(response)["data"]["name"]
    assert client.get(f"/api/resource/Lead/{name}", **auth).status_code == 200
    listed = body(client.get("/api/resource/Lead", {"filters": json.dumps([["name", "=", name]])}, **auth))["data"]
    assert [r["name"] for r in listed] == [name]


def test_rest_without_a_token_is_refused(ctx, client):
    response = client.get("/api/resource/Lead")
    assert response.status_code == 403  # Guest, as Frappe answers; a wrong token is the 401
    assert body(response)["exc_type"] == "PermissionError"


def test_rest_with_a_wrong_secret_is_refused(ctx, client, unique):
    user = make_user(unique, "badtoken")
    key, _ = lowcode.auth.generate_keys(user)
    refresh(ctx)
    response = client.get("/api/resource/Lead", HTTP_AUTHORIZATION=f"token {key}:wrong")
    assert response.status_code == 401
