"""Routing cases to agents with crm_app's assignment rules (no second mechanism).

An Assignment Rule for Case says *which* cases (its safe condition on issue_type,
category, product, territory, language, ...) and, through two fields this app adds to
the rule (fixtures/assignment_rule_routing.json), *whom*: the members of its Service
Team (or, for a rule with neither a team nor users, of the case's team) who have its required skills and
speak the case's language. crm_app then skips the absent and those at capacity (Service
Team Member.capacity) and, for a Load Balancing rule, takes the least-loaded; the case
gets the team and the agent (the rule's assign_field, normally ``assigned_to``) and the
agent is written to the assignment table by crm_app's assign code.

Afterwards ``assigned_to`` and the assignment table stay in step whoever changes the
field (form, API, the list's bulk "set value", the manager's bulk move): see
``sync_assignment``."""
import re

from django.utils.translation import gettext

from lowcode.assignments import read_assign, write_assign
from lowcode.context import local
from lowcode.desk.views.collaboration import notify
from lowcode.utils import Obj
from lowcode.workflow import add_comment

OPEN_STATUSES = ("Open", "In Progress", "Waiting on Customer")


def words(text):
    """'Billing, VPN\\nfa' -> {'billing', 'vpn', 'fa'}"""
    return {w.strip().lower() for w in re.split(r"[,\n;]", text or "") if w.strip()}


def team_members(team):
    return local.db.sql("SELECT `user`, `skills`, `languages`, `capacity`, `unavailable_from`, `unavailable_to` "
                        "FROM `tabService Team Member` WHERE `parenttype`='Service Team' AND `parent`=%s "
                        "ORDER BY `idx`", (team,), as_dict=True)


def team_candidates(rule, doc):
    """assignment_candidates hook for Case (see crm_app/assignment.py)."""
    team = rule.get("service_team") or (None if rule.users else doc.get("service_team"))
    if not team:
        return None  # a plain rule: its own users table
    skills = words(rule.get("required_skills"))
    language = (doc.get("language") or "").lower()
    rows = []
    for m in team_members(team):
        if skills - words(m["skills"]):
            continue
        if language and m["languages"] and language not in words(m["languages"]):
            continue
        rows.append(Obj(m, set_values={"service_team": team}))
    return rows


def case_rule_defaults(doc, method=None):
    """doc_events Assignment Rule before_validate: a rule for cases counts the open
    cases as load and sets the case's agent unless told otherwise (the rule's own
    defaults are the CRM's: lead and opportunity states, no field)."""
    if doc.document_type != "Case":
        return
    crm_default = doc.meta.get_field("open_statuses").default
    if not doc.open_statuses or doc.open_statuses == crm_default:
        doc.open_statuses = ",".join(OPEN_STATUSES)
    if doc.is_new() and not doc.assign_field:
        doc.assign_field = "assigned_to"


def sync_assignment(doc, method=None):
    """doc_events Case on_update (also run by insert): the agent in ``assigned_to`` is
    on the case's assignment list (``_assign`` and the assignment table); the agent it
    replaced is taken off."""
    before = doc._doc_before_save
    old = before.get("assigned_to") if before is not None else None
    new = doc.get("assigned_to")
    if old == new:
        return
    current = read_assign(doc.doctype, doc.name)
    users = [u for u in current if u != old]
    if new and new not in users:
        users.append(new)
    if users == current:
        return  # already so (an assignment rule wrote it, with its own comment)
    write_assign(doc.doctype, doc.name, users)
    if new:  # on the timeline and in the agent's notifications, as the desk's assign does
        add_comment(doc.doctype, doc.name, "Assigned", gettext("%(by)s assigned this to %(user)s") % {
            "by": local.user, "user": new})
        notify(new, "Assignment", f"{local.user} assigned {doc.doctype} {doc.name} to you", doc)
