"""Row rules for cases, applied through the engine's permission hooks so that lists,
counts, reports, link search and exports agree (in SQL) and single documents agree
(has_permission).

- Support Managers, CRM Admins and System Managers see every case.
- A Support Agent sees the cases they own, are the agent of, or are assigned to, and
  the queue of every team they belong to (or manage).
"""
import lowcode
from lowcode.assignments import assigned_subquery, is_assigned
from lowcode.context import local
from lowcode.permissions import OrParts

SEE_ALL_ROLES = {"Support Manager", "CRM Admin", "System Manager", "Administrator"}


def user_teams(user):
    """The service teams the user is a member or the manager of."""
    key = ("service_teams", user)
    if key not in local.cache:
        local.cache[key] = sorted(set(local.db.sql(
            "SELECT `parent` FROM `tabService Team Member` WHERE `parenttype`='Service Team' AND `user`=%s "
            "UNION SELECT `name` FROM `tabService Team` WHERE `manager`=%s", (user, user), pluck=True)))
    return local.cache[key]


def case_conditions(user, doctype="Case"):
    """Each part is an indexed test (owner, agent, team; assignments by name from the
    assignment table), so lists and counts are answered part by part from indexes."""
    if lowcode.get_roles(user) & SEE_ALL_ROLES:
        return None
    table = f"`tab{doctype}`"
    parts = OrParts([(f"{table}.`owner`=%s", [user]), (f"{table}.`assigned_to`=%s", [user])])
    parts.add_name_in(f"{table}.`name`", *assigned_subquery(user, doctype))
    teams = user_teams(user)
    if teams:
        parts.add(f"{table}.`service_team` IN ({', '.join(['%s'] * len(teams))})", teams)
    return parts


def case_permission(doc, ptype=None, user=None):
    user = user or local.user
    if lowcode.get_roles(user) & SEE_ALL_ROLES or doc.is_new():
        return None
    if user in (doc.owner, doc.get("assigned_to")) or is_assigned(user, doc.doctype, doc.name):
        return None
    if doc.get("service_team") and doc.get("service_team") in user_teams(user):
        return None
    return False
