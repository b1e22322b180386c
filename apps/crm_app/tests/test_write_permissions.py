"""Write permission is decided on the STORED document, then on the new state: the
client's values must never be what grants the right to write.

A generated test: for every row rule (the installed apps' ``has_permission`` hooks and
the engine's own ``if_owner`` and User Permissions), for every writable field such a
rule can read (derived from metadata: ``owner``, ``_assign``, Links to User and
Territory, Check fields, child rows linking a User, Links restricted by the user's User
Permissions), a user who may not write the stored document sends the value that would
satisfy the rule through each write path (REST PUT, frappe.client.set_value, save and
bulk_update, the desk form; frappe.client.attach_file too, which writes no field). Each must answer 403 and leave the stored row as it was.

Adding a row rule: a DocType named in some app's ``has_permission`` hook must have a
case in CASES (``test_every_row_rule_has_a_case`` fails otherwise). A case says who
attacks, how to make a stored document that user may not write, and (only when the
metadata sweep in ``rule_fields`` cannot find them) which extra fields to try.
"""
import json
from dataclasses import dataclass, field
from typing import Callable

import pytest

import lowcode
from lowcode.apps import get_hooks
from lowcode.assignments import write_assign
from lowcode.document import load_doc
from lowcode.meta import get_meta
from lowcode.tests.desk_helpers import login
from lowcode.utils import route_for

from crm_app.tests.helpers import (as_user, body, ensure_role, make_customer, make_lead, make_opportunity,
                                   make_territory, make_user, refresh, token)


# -- the world: who attacks, and whose documents ----------------------------------------------------

@pytest.fixture
def world(ctx, unique):
    """A Sales User (``rep``) and a Sales Manager of territory ``mine`` (``manager``),
    the attackers; a colleague who owns things; and a User Permission that limits
    ``restricted`` (a Sales User) to territory ``mine``."""
    w = type("World", (), {})()
    w.unique = unique
    w.rep = make_user(unique, "rep")
    w.colleague = make_user(unique, "colleague")
    w.manager = make_user(unique, "manager", roles=("Sales Manager",))
    w.restricted = make_user(unique, "restricted")
    w.mine = make_territory(f"Mine {unique}", manager=w.manager)
    w.elsewhere = make_territory(f"Elsewhere {unique}")
    w.company = f"Write Co {unique}"
    w.customer = make_customer().name
    lowcode.get_doc({"doctype": "User Permission", "user": w.restricted, "allow": "Territory",
                     "for_value": w.mine}).insert(ignore_permissions=True)
    if lowcode.db.table_exists("Service Team"):  # service_app's agents and their queues
        w.agent = make_user(unique, "agent", roles=("Support Agent",))
        w.colleague_agent = make_user(unique, "colleague-agent", roles=("Support Agent",))
        w.agent_team = _team(f"Agents {unique}", w.agent)
        w.other_team = _team(f"Others {unique}", w.colleague_agent)
    return w


def _team(name, member):
    return lowcode.get_doc({"doctype": "Service Team", "team_name": name, "members": [{"user": member}]}).insert(
        ignore_permissions=True).name


def colleagues_case(w):
    """A case of another team's queue, assigned to an agent of that team."""
    with as_user(w.colleague_agent):
        case = lowcode.get_doc({"doctype": "Case", "subject": f"Their case {w.unique}", "service_team": w.other_team,
                                "assigned_to": w.colleague_agent}).insert()
    write_assign("Case", case.name, [w.colleague_agent])
    return case.name


def colleagues_survey_record(doctype):
    """A survey response or invitation of another agent's case (read-only to agents)."""
    def make(w):
        return lowcode.get_doc({"doctype": doctype, "case": colleagues_case(w), "agent": w.colleague_agent}).insert(
            ignore_permissions=True, ignore_mandatory=True).name
    return make


def colleagues_lead(w):
    lead = make_lead(company_name=w.company, territory=w.elsewhere, lead_owner=w.colleague)
    write_assign("Lead", lead.name, [w.colleague])
    return lead.name


def colleagues_opportunity(w):
    opp = make_opportunity(w.customer, title=w.company, territory=w.elsewhere, opportunity_owner=w.colleague)
    write_assign("Opportunity", opp.name, [w.colleague])
    return opp.name


def colleagues_forecast_entry(w):
    return lowcode.get_doc({"doctype": "Sales Forecast Entry", "salesperson": w.colleague,
                            "period_start": "2030-01-01", "commit_amount": 100, "best_case_amount": 200}).insert().name


def colleagues_private(doctype, **values):
    def make(w):
        with as_user(w.colleague):
            return lowcode.get_doc(dict(values, doctype=doctype, is_private=1)).insert().name
    return make


def restricted_users_lead(w):
    """A lead ``restricted`` owns, in a territory their User Permission does not allow."""
    with as_user(w.colleague):
        lead = make_lead(company_name=w.company, territory=w.elsewhere)
    lowcode.db.sql("UPDATE `tabLead` SET `owner`=%s WHERE `name`=%s", (w.restricted, lead.name))
    return lead.name


def colleagues_todo(w):
    with as_user(w.colleague):
        return lowcode.get_doc({"doctype": "ToDo", "description": f"Private to-do {w.unique}",
                                "allocated_to": w.colleague}).insert().name


@dataclass
class Case:
    rule: str
    doctype: str
    stored: Callable            # world -> name of a document the attackers may not write
    attackers: tuple = ("rep", "manager")
    user_permission_links: bool = False   # try the Links the attacker's User Permissions restrict
    extra: dict = field(default_factory=dict)   # fieldname -> world, attacker -> value


CASES = [
    Case("owner, lead owner, assignment or managed territory", "Lead", colleagues_lead),
    Case("owner, opportunity owner, assignment or managed territory", "Opportunity", colleagues_opportunity),
    Case("private: owner only", "Call Log",
         colleagues_private("Call Log", phone="09121234567", started_at="2030-01-01 10:00:00")),
    Case("private: owner or participants", "Event",
         colleagues_private("Event", subject="Salary talk", starts_on="2030-05-01 10:00:00")),
    Case("private: owner or assignee", "Task",
         colleagues_private("Task", subject="Check the contract", assigned_to=None)),
    Case("private: owner only", "Note", colleagues_private("Note", title="Secret")),
    Case("a salesperson's own, managers all", "Sales Forecast Entry", colleagues_forecast_entry, attackers=("rep",)),
    Case("private: owner only", "Communication", colleagues_private("Communication", subject="Secret")),
    Case("own, agent, assignment or team queue", "Case", colleagues_case, attackers=("agent",),
         extra={"service_team": lambda w, attacker: w.agent_team}),
    Case("the case's agent", "Survey Response", colleagues_survey_record("Survey Response"), attackers=("agent",)),
    Case("the case's agent", "Survey Invitation", colleagues_survey_record("Survey Invitation"), attackers=("agent",)),
    # The engine's own rules.
    Case("if_owner (All may write their own ToDos)", "ToDo", colleagues_todo, attackers=("rep",)),
    Case("User Permissions (Territory)", "Lead", restricted_users_lead, attackers=("restricted",),
         user_permission_links=True),
]


# -- service_app's further row rules: each case makes its own attacker (an attribute of the world) ----

def colleagues_time_log(w):
    """Another team's agent's time on their case; the attacker, an agent, has a case of their own."""
    w.tl_agent = make_user(w.unique, "tl-agent", roles=("Support Agent",))
    colleague = make_user(w.unique, "tl-colleague", roles=("Support Agent",))
    w.tl_agent_case = lowcode.get_doc({"doctype": "Case", "subject": f"Mine {w.unique}",
                                       "assigned_to": w.tl_agent}).insert().name
    theirs = lowcode.get_doc({"doctype": "Case", "subject": f"Theirs {w.unique}", "assigned_to": colleague}).insert()
    return lowcode.get_doc({"doctype": "Case Time Log", "case": theirs.name, "agent": colleague,
                            "from_time": "2030-01-01 09:00:00", "to_time": "2030-01-01 10:00:00"}).insert().name


def lead_assignment_rule(w):
    """A rule for leads; the attacker is a Support Manager, who keeps the rules for cases."""
    w.rule_manager = make_user(w.unique, "rule-manager", roles=("Support Manager",))
    return lowcode.get_doc({"doctype": "Assignment Rule", "rule_name": f"Leads {w.unique}", "document_type": "Lead",
                            "disabled": 1, "condition": "doc.name == 'never'",
                            "users": [{"user": w.colleague}]}).insert().name


def colleagues_reply(w):
    """A reply on another team's case; the attacker, an agent, has a case of their own."""
    w.reply_agent_case = lowcode.get_doc({"doctype": "Case", "subject": f"Mine {w.unique}",
                                          "assigned_to": w.agent}).insert().name
    return lowcode.get_doc({"doctype": "Case Reply", "case": colleagues_case(w),
                            "content": "<p>We are on it</p>"}).insert().name


def colleagues_campaign_member(w):
    """A member of a message a colleague scheduled; the attacker, a Marketing User, may
    read Campaign Members by role but not this one."""
    w.marketer = make_user(w.unique, "marketer", roles=("Marketing User",))
    colleague = make_user(w.unique, "cm-colleague", roles=("Marketing User",))
    campaign = lowcode.get_doc({"doctype": "Campaign", "campaign_name": f"Write {w.unique}"}).insert().name
    segment = lowcode.get_doc({"doctype": "Segment", "segment_name": f"Write {w.unique}"}).insert().name
    message = lowcode.get_doc({"doctype": "Campaign Message", "campaign": campaign, "segment": segment,
                               "channel": "SMS", "message": "hi"}).insert().name
    lowcode.db.sql("UPDATE `tabCampaign Message` SET `scheduled_by`=%s WHERE `name`=%s", (colleague, message))
    return lowcode.get_doc({"doctype": "Campaign Member", "campaign_message": message, "campaign": campaign,
                            "member_doctype": "Customer", "member_name": w.customer}).insert().name


def colleagues_announcement(w):
    """An announcement a colleague wrote for Sales Managers; the attacker, a Marketing User,
    may write announcements by role but not one that does not target them."""
    w.announcer = make_user(w.unique, "announcer", roles=("Marketing User",))
    with as_user(make_user(w.unique, "an-colleague", roles=("Marketing User",))):
        return lowcode.get_doc({"doctype": "Announcement", "title": f"Managers only {w.unique}",
                                "roles": [{"role": "Sales Manager"}]}).insert().name


def colleagues_archived_file(w):
    """A file a colleague keeps in a folder only the colleague's role sees (lowcode/archive.py);
    the attacker may write their own files only, and does not see this one."""
    from lowcode.api.files import save_file
    role = f"Archive {w.unique}"
    ensure_role(role)
    w.archivist = make_user(w.unique, "archivist")
    w.open_folder = lowcode.get_doc({"doctype": "File", "is_folder": 1, "file_name": f"Open {w.unique}"}).insert().name
    with as_user(make_user(w.unique, "file-colleague", roles=("Sales User", role))):
        secret = lowcode.get_doc({"doctype": "File", "is_folder": 1, "file_name": f"Board {w.unique}",
                                  "roles": [{"role": role}]}).insert().name
        return save_file(f"minutes-{w.unique}.txt", b"minutes", private=True, folder=secret).name


CASES += [
    Case("own files, or in a folder for one of the user's roles", "File", colleagues_archived_file,
         attackers=("archivist",), extra={"folder": lambda w, attacker: w.open_folder}),
    Case("the roles it targets, or its author", "Announcement", colleagues_announcement, attackers=("announcer",),
         extra={"roles": lambda w, attacker: [{"role": "Marketing User"}]}),
    Case("members of the messages they scheduled", "Campaign Member", colleagues_campaign_member,
         attackers=("marketer",)),
    Case("replies on the cases they may read", "Case Reply", colleagues_reply, attackers=("agent",),
         extra={"case": lambda w, attacker: w.reply_agent_case}),
    Case("own time, or on a case they may read", "Case Time Log", colleagues_time_log, attackers=("tl_agent",),
         extra={"case": lambda w, attacker: w.tl_agent_case}),
    Case("Support Managers: rules for cases only", "Assignment Rule", lead_assignment_rule,
         attackers=("rule_manager",), extra={"document_type": lambda w, attacker: "Case"}),
]


def rule_fields(case, w, attacker, name):
    """{field: value that would satisfy a row rule for ``attacker``}: every writable field
    of the kinds row rules read, from metadata."""
    meta = get_meta(case.doctype)
    user = getattr(w, attacker)
    if case.user_permission_links:
        perms = lowcode.permissions.get_user_permissions(user)
        return {df.fieldname: perms[df.options][0][0] for df in meta.link_fields if df.options in perms}
    stored = load_doc(case.doctype, name)
    out = {"owner": user, "_assign": json.dumps([user])}
    for df in meta.data_fields:
        if df.read_only:
            continue
        if df.fieldtype == "Link" and df.options == "User":
            out[df.fieldname] = user
        elif df.fieldtype == "Link" and df.options == "Territory":
            out[df.fieldname] = w.mine
        elif df.fieldtype == "Check":
            out[df.fieldname] = 0 if int(stored.get(df.fieldname) or 0) else 1
    for tf in meta.table_fields:
        child = get_meta(tf.options)
        user_links = [df.fieldname for df in child.link_fields if df.options == "User"]
        if user_links:
            row = {df.fieldname: df.options.split("\n")[0] for df in child.data_fields
                   if df.reqd and df.fieldtype == "Select"}
            out[tf.fieldname] = [dict(row, **{f: user for f in user_links})]
    for key, value in case.extra.items():
        out[key] = value(w, attacker)
    return out


def stored_state(doctype, name):
    doc = load_doc(doctype, name)
    state = doc.as_dict()
    state["_assign"] = lowcode.db.sql(f"SELECT `_assign` FROM `tab{doctype}` WHERE `name`=%s", (name,),
                                      pluck=True)[0]
    return state


# -- the write paths ---------------------------------------------------------------------------------

def rest_put(client, auth, doctype, name, fieldname, value):
    return client.put(f"/api/resource/{doctype}/{name}", json.dumps({fieldname: value}),
                      content_type="application/json", **auth["token"])


def client_set_value(client, auth, doctype, name, fieldname, value):
    return client.post("/api/method/frappe.client.set_value",
                       {"doctype": doctype, "name": name, "fieldname": json.dumps({fieldname: value})},
                       **auth["token"])


def client_save(client, auth, doctype, name, fieldname, value):
    return client.post("/api/method/frappe.client.save",
                       {"doc": json.dumps({"doctype": doctype, "name": name, fieldname: value})}, **auth["token"])


def desk_form(client, auth, doctype, name, fieldname, value):
    client.cookies["sid"] = auth["sid"]
    post = {"csrf_token": auth["csrf"], "_action": "save"}
    if isinstance(value, list):
        post[f"{fieldname}-rows"] = "1"
        for i, row in enumerate(value):
            post.update({f"{fieldname}-{i}-{k}": v for k, v in row.items()})
    else:
        post[fieldname] = "" if value is None else str(value)
    try:
        return client.post(f"/app/{route_for(doctype)}/{name}", post)
    finally:
        client.cookies.pop("sid", None)


def client_bulk_update(client, auth, doctype, name, fieldname, value):
    """bulk_update answers 200 with a refused row in ``failed_docs`` (Frappe's shape); that
    row's error stands for the answer here."""
    from django.http import HttpResponse
    response = client.post("/api/method/frappe.client.bulk_update",
                           {"docs": json.dumps([{"doctype": doctype, "docname": name, fieldname: value}])},
                           **auth["token"])
    failed = response.json()["message"]["failed_docs"] if response.status_code == 200 else None
    if failed and "PermissionError" in failed[0]["exc"]:
        return HttpResponse(failed[0]["exc"], status=403)
    return response


def client_attach_file(client, auth, doctype, name, fieldname, value):
    """Attaching a file is writing the record (the value plays no part)."""
    return client.post("/api/method/frappe.client.attach_file",
                       {"filename": "note.txt", "filedata": "note", "doctype": doctype, "docname": name},
                       **auth["token"])


PATHS = {"REST PUT": rest_put, "frappe.client.set_value": client_set_value, "frappe.client.save": client_save,
         "frappe.client.bulk_update": client_bulk_update, "frappe.client.attach_file": client_attach_file,
         "desk form": desk_form}


def _credentials(ctx, client, user):
    creds = {"token": token(user)}
    creds["csrf"] = login(ctx, client, user)
    creds["sid"] = client.cookies.pop("sid").value
    return creds


# -- the tests ---------------------------------------------------------------------------------------

def test_every_row_rule_has_a_case(ctx):
    """A DocType with a has_permission hook and no case here is an untested row rule."""
    hooked = set(get_hooks("has_permission", {}))
    assert hooked, "no has_permission hooks found: is crm_app installed?"
    assert hooked <= {c.doctype for c in CASES}, hooked - {c.doctype for c in CASES}


@pytest.mark.parametrize("shared", [False, True], ids=["unreadable", "shared read-only"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.doctype}: {c.rule}")
def test_a_payload_never_grants_write(ctx, client, world, case, shared):
    """``shared``: the attackers may read the document (a read-only share), so the
    desk form opens for them and only the write is refused."""
    name = case.stored(world)
    tries = []
    for attacker in case.attackers:
        user = getattr(world, attacker)
        if shared:
            lowcode.get_doc({"doctype": "DocShare", "share_doctype": case.doctype, "share_name": name, "user": user,
                             "read": 1}).insert(ignore_permissions=True)
        with as_user(user):
            assert lowcode.has_permission(case.doctype, "read", doc=load_doc(case.doctype, name)) is shared
            assert not lowcode.has_permission(case.doctype, "write", doc=load_doc(case.doctype, name)), \
                f"the case is wrong: {attacker} may write the stored {case.doctype}"
        for fieldname, value in rule_fields(case, world, attacker, name).items():
            tries.append((attacker, fieldname, value))
    assert tries
    before = stored_state(case.doctype, name)
    creds = {a: _credentials(ctx, client, getattr(world, a)) for a in case.attackers}
    refresh(ctx)
    failures = []
    for attacker, fieldname, value in tries:
        for path, send in PATHS.items():
            response = send(client, creds[attacker], case.doctype, name, fieldname, value)
            # "Not permitted" tells a refused write from, say, a refused CSRF token.
            if response.status_code != 403 or b"Not permitted" not in response.content:
                failures.append((attacker, fieldname, path, response.status_code, response.content[:200]))
            ctx.db.commit()
            ctx.db.begin(write=False)
            if stored_state(case.doctype, name) != before:
                failures.append((attacker, fieldname, path, "changed the stored row"))
    assert not failures, failures


# -- the same rule on the other write paths -------------------------------------------------------------

def test_new_state_must_be_permitted_too(ctx, client, world):
    """A user who may write a lead (as its lead owner) may not give it away into a state
    they could not write (Frappe checks the new document too)."""
    lead = make_lead(company_name=world.company, territory=world.elsewhere, lead_owner=world.rep).name
    with as_user(world.rep):
        doc = lowcode.get_doc("Lead", lead)
        doc.job_title = "Buyer"
        doc.save()  # their own lead: fine
        doc = lowcode.get_doc("Lead", lead)
        doc.lead_owner = world.colleague
        with pytest.raises(lowcode.PermissionError):
            doc.save()
    assert lowcode.db.get_value("Lead", lead, "lead_owner") == world.rep


def test_a_read_only_share_does_not_let_the_payload_grant_write(ctx, client, world):
    """With the lead shared read-only, the rep can open it (200) but still not take it."""
    lead = colleagues_lead(world)
    lowcode.get_doc({"doctype": "DocShare", "share_doctype": "Lead", "share_name": lead, "user": world.rep,
                     "read": 1}).insert(ignore_permissions=True)
    auth = token(world.rep)
    refresh(ctx)
    assert client.get(f"/api/resource/Lead/{lead}", **auth).status_code == 200
    response = client.put(f"/api/resource/Lead/{lead}", json.dumps({"lead_owner": world.rep}),
                          content_type="application/json", **auth)
    assert response.status_code == 403, body(response)
    ctx.db.commit()
    assert lowcode.db.get_value("Lead", lead, "lead_owner") == world.colleague


def test_owner_in_memory_does_not_pass_if_owner(ctx, world):
    """Engine code that sets ``owner`` before save does not pass an if_owner rule."""
    todo = colleagues_todo(world)
    with as_user(world.rep):
        doc = lowcode.get_doc("ToDo", todo)
        doc.owner = world.rep
        with pytest.raises(lowcode.PermissionError, match="Not permitted: write ToDo"):
            doc.save()


def test_delete_decides_on_the_stored_document(ctx, world):
    """Values changed in memory before Document.delete() do not count."""
    todo = colleagues_todo(world)
    with as_user(world.rep):
        doc = lowcode.get_doc("ToDo", todo)
        doc.owner = world.rep
        with pytest.raises(lowcode.PermissionError, match="Not permitted: delete ToDo"):
            doc.delete()
    assert lowcode.db.exists("ToDo", todo)


@pytest.mark.parametrize("path", ["bulk set value", "kanban", "calendar", "workflow action", "delete", "rename"])
def test_desk_and_client_paths_refuse_a_document_the_user_may_not_write(ctx, client, world, path):
    if path == "calendar":
        make_event = colleagues_private("Event", subject="Salary talk", starts_on="2030-05-01 10:00:00")
        doctype, name = "Event", make_event(world)
    else:
        doctype, name = "Lead", colleagues_lead(world)
    before = stored_state(doctype, name)
    csrf = login(ctx, client, world.rep)
    auth = token(world.rep)
    refresh(ctx)
    if path == "bulk set value":
        response = client.post("/app/lead/view/list/bulk", {"csrf_token": csrf, "action": "set_value",
                                                            "names": name, "field": "lead_owner",
                                                            "value": world.rep})
    elif path == "kanban":
        response = client.post("/app/lead/view/kanban/move", {"csrf_token": csrf, "name": name,
                                                              "field": "territory", "value": world.mine})
    elif path == "calendar":
        response = client.post("/app/event/view/calendar/move", {"csrf_token": csrf, "name": name,
                                                                 "field": "starts_on", "from_date": "2030-05-01",
                                                                 "to_date": "2030-05-02"})
    elif path == "workflow action":
        response = client.post("/api/method/frappe.model.workflow.apply_workflow",
                               {"doc": json.dumps({"doctype": "Lead", "name": name}), "action": "Contact"}, **auth)
    elif path == "delete":
        response = client.post("/api/method/frappe.client.delete", {"doctype": "Lead", "name": name}, **auth)
    else:
        response = client.post("/api/method/frappe.client.rename_doc",
                               {"doctype": "Lead", "old_name": name, "new_name": f"Taken {world.unique}"}, **auth)
    assert response.status_code == 403 and b"Not permitted" in response.content, \
        (response.status_code, response.content[:300])
    ctx.db.commit()
    assert stored_state(doctype, name) == before


def test_assigning_yourself_does_not_grant_write(ctx, client, world):
    """Assignees may write a lead (the CRM's row rule), so assigning needs write: a rep
    who can only read a colleague's lead (a read-only share) cannot assign it to
    themselves, from the form or in bulk."""
    lead = colleagues_lead(world)
    lowcode.get_doc({"doctype": "DocShare", "share_doctype": "Lead", "share_name": lead, "user": world.rep,
                     "read": 1}).insert(ignore_permissions=True)
    csrf = login(ctx, client, world.rep)
    refresh(ctx)
    response = client.post(f"/app/lead/{lead}/__collab/assign", {"assign_to": world.rep},
                           HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert response.status_code == 403, response.content[:300]
    response = client.post("/app/lead/view/list/bulk", {"csrf_token": csrf, "action": "assign", "names": lead,
                                                        "assign_to": world.rep})
    assert response.status_code == 403, response.content[:300]
    ctx.db.commit()
    assert stored_state("Lead", lead)["_assign"] == json.dumps([world.colleague])
    assert lowcode.get_all("ToDo", filters={"reference_type": "Lead", "reference_name": lead}) == []


def test_inserting_over_an_existing_name_writes_nothing(ctx, client, world):
    """frappe.client.insert (and POST /api/resource) with the name of a stored lead:
    refused, the stored lead unchanged."""
    lead = colleagues_lead(world)
    before = stored_state("Lead", lead)
    auth = token(world.rep)
    refresh(ctx)
    data = {"doctype": "Lead", "name": lead, "first_name": "Taken", "lead_owner": world.rep}
    for response in (client.post("/api/method/frappe.client.insert", {"doc": json.dumps(data)}, **auth),
                     client.post("/api/resource/Lead", json.dumps(data), content_type="application/json", **auth)):
        answer = response.json()
        made = (answer.get("data") or answer.get("message") or {}).get("name")
        assert response.status_code in (403, 409) or made != lead, response.content[:300]
    ctx.db.commit()
    assert stored_state("Lead", lead) == before


def _grant_new_role(user, role):
    """Give ``user`` a new role ``role`` (returned)."""
    lowcode.get_doc({"doctype": "Role", "role_name": role}).insert(ignore_permissions=True)
    doc = lowcode.get_doc("User", user)
    doc.append("roles", {"role": role})
    doc.save(ignore_permissions=True)
    lowcode.permissions.permissions_changed()
    return role


@pytest.mark.parametrize("action", ["submit", "cancel"])
def test_submit_and_cancel_decide_on_the_stored_document(ctx, world, make_doctype, action):
    """An if_owner rule for submit/cancel: the stored owner decides, not one set in memory."""
    role = _grant_new_role(world.rep, f"Own Submitter {world.unique}")
    doctype = make_doctype([{"fieldname": "title", "fieldtype": "Data", "label": "Title"}], is_submittable=1,
                           permissions=[{"role": role, "if_owner": 1, "read": 1, "write": 1, "create": 1,
                                         "submit": 1, "cancel": 1}])
    doc = lowcode.get_doc({"doctype": doctype, "title": "Theirs"}).insert()  # Administrator's
    if action == "cancel":
        doc.submit()
    with as_user(world.rep):
        mine = lowcode.get_doc({"doctype": doctype, "title": "Mine"}).insert()
        mine.submit()  # their own: fine
        if action == "cancel":
            mine.cancel()
        theirs = lowcode.get_doc(doctype, doc.name)
        theirs.owner = world.rep
        with pytest.raises(lowcode.PermissionError, match=f"Not permitted: {action}"):
            getattr(theirs, action)()
    assert lowcode.db.get_value(doctype, doc.name, "docstatus") == (0 if action == "submit" else 1)


def test_merging_needs_write_on_the_target(ctx, world, make_doctype):
    """Merging folds one document into another (links re-pointed to it): the target is
    written too, so the user must be allowed to write it."""
    role = _grant_new_role(world.rep, f"Own Merger {world.unique}")
    doctype = make_doctype([{"fieldname": "title", "fieldtype": "Data", "label": "Title"}], allow_rename=1,
                           autoname="prompt", permissions=[{"role": role, "if_owner": 1, "read": 1, "write": 1,
                                                            "create": 1, "delete": 1}])
    theirs = lowcode.get_doc({"doctype": doctype, "title": "Theirs", "__newname": f"theirs-{world.unique}"}).insert()
    with as_user(world.rep):
        mine = lowcode.get_doc({"doctype": doctype, "title": "Mine", "__newname": f"mine-{world.unique}"}).insert()
        with pytest.raises(lowcode.PermissionError, match="Not permitted: write"):
            lowcode.rename_doc(doctype, mine.name, theirs.name, merge=True)
    assert lowcode.db.exists(doctype, mine.name) and lowcode.db.exists(doctype, theirs.name)


def test_child_rows_are_written_only_through_their_parent(ctx, client, world):
    """A private event's participant row cannot be changed or added on its own (the
    row rule reads the rows, so the row would be the way in)."""
    with as_user(world.colleague):
        event = lowcode.get_doc({"doctype": "Event", "subject": "Salary talk", "starts_on": "2030-05-01 10:00:00",
                                 "is_private": 1, "participants": [{"participant_type": "User",
                                                                    "user": world.colleague}]}).insert()
    row = event.participants[0].name
    before = stored_state("Event", event.name)
    auth = token(world.rep)
    refresh(ctx)
    url = "/api/resource/Event Participant"
    answers = [client.put(f"{url}/{row}", json.dumps({"user": world.rep}), content_type="application/json", **auth),
               client.post(url, json.dumps({"parent": event.name, "parenttype": "Event", "parentfield": "participants",
                                            "participant_type": "User", "user": world.rep}),
                           content_type="application/json", **auth),
               client.delete(f"{url}/{row}", **auth)]
    assert [a.status_code for a in answers] == [403, 403, 403], [a.content[:200] for a in answers]
    ctx.db.commit()
    assert stored_state("Event", event.name) == before
