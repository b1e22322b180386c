"""Row-level rules of the CRM, applied through the engine's permission hooks so that
lists, counts, reports, link search and exports all obey them (in SQL) and single
documents agree (has_permission).

- Leads and opportunities: a Sales User sees what they own, what they are the lead
  or opportunity owner of, or what is assigned to them; a Sales Manager also sees
  everything in the territories they manage (and the territories below them);
  CRM Admins and System Managers see everything.
- Private activities: only their owner and their participants see them.
- Analytical reports: inside ``aggregate_scope()`` the lead and opportunity rule steps
  aside for the roles whose job is to analyse the whole business (ANALYST_ROLES), so
  their counts and sums cover every record; the reports return aggregates, never rows.
"""
import contextlib

import lowcode
from lowcode.assignments import assigned_subquery, is_assigned
from lowcode.context import local
from lowcode.permissions import OrParts

SEE_ALL_ROLES = {"CRM Admin", "System Manager", "Administrator"}
OWNER_FIELDS = {"Lead": "lead_owner", "Opportunity": "opportunity_owner"}
ANALYST_ROLES = {"Sales Manager", "Marketing User"} | SEE_ALL_ROLES


def is_analyst(user=None):
    return bool(lowcode.get_roles(user or local.user) & ANALYST_ROLES)


@contextlib.contextmanager
def aggregate_scope():
    """Queries made inside compute aggregates: an analyst's cover every lead and
    opportunity. Only the owner/territory rule is lifted; role access, User Permissions
    and field levels still apply."""
    previous = local.flags.get("crm_aggregate")
    local.flags.crm_aggregate = True
    try:
        yield
    finally:
        local.flags.crm_aggregate = previous


def managed_territories(user):
    """Territories the user manages, with every territory below them."""
    roots = local.db.sql("SELECT `name` FROM `tabTerritory` WHERE `territory_manager`=%s", (user,), pluck=True)
    seen, frontier = set(roots), list(roots)
    while frontier:
        children = local.db.sql(
            f"SELECT `name` FROM `tabTerritory` WHERE `parent_territory` IN ({', '.join(['%s'] * len(frontier))})",
            frontier, pluck=True)
        frontier = [c for c in children if c not in seen]
        seen.update(frontier)
    return sorted(seen)


def owned_or_territory_conditions(user, doctype):
    """Each part is a plain indexed test (owner, the owner field and territory have
    indexes; assignments are listed by name from the assignment table, see
    lowcode/assignments.py), so both engines answer the OR from indexes (SQLite's
    multi-index OR, MariaDB's index merge) instead of reading every lead. Returned as
    OrParts, so counts and list pages are answered part by part, each part from its own
    index (query._count_by_parts, query._page_by_parts)."""
    roles = lowcode.get_roles(user)
    if roles & SEE_ALL_ROLES or (local.flags.get("crm_aggregate") and roles & ANALYST_ROLES):
        return None
    table = f"`tab{doctype}`"
    owner_field = OWNER_FIELDS[doctype]
    parts = OrParts([(f"{table}.`owner`=%s", [user]), (f"{table}.`{owner_field}`=%s", [user])])
    parts.add_name_in(f"{table}.`name`", *assigned_subquery(user, doctype))
    if "Sales Manager" in roles:
        territories = managed_territories(user)
        if territories:
            parts.add(f"{table}.`territory` IN ({', '.join(['%s'] * len(territories))})", territories)
    return parts


def owned_or_territory_permission(doc, ptype=None, user=None):
    user = user or local.user
    roles = lowcode.get_roles(user)
    if roles & SEE_ALL_ROLES or doc.is_new():
        return None
    # Assignments from the same table the list condition reads.
    if user in (doc.owner, doc.get(OWNER_FIELDS[doc.doctype])) or is_assigned(user, doc.doctype, doc.name):
        return None
    if "Sales Manager" in roles and doc.get("territory") in managed_territories(user):
        return None
    return False


PARTICIPANT_SQL = {
    "Event": "{t}.`name` IN (SELECT `parent` FROM `tabEvent Participant` WHERE `parenttype`='Event' AND `user`=%s)",
    "Task": "{t}.`assigned_to`=%s",
}


def private_activity_conditions(user, doctype):
    table = f"`tab{doctype}`"
    parts = OrParts([(f"{table}.`is_private`=0", []), (f"{table}.`owner`=%s", [user])])
    if doctype in PARTICIPANT_SQL:
        parts.add(PARTICIPANT_SQL[doctype].format(t=table), [user])
    return parts


def private_activity_permission(doc, ptype=None, user=None):
    user = user or local.user
    if not int(doc.get("is_private") or 0) or doc.is_new() or doc.owner == user:
        return None
    if doc.doctype == "Event" and any(p.user == user for p in doc.get("participants") or []):
        return None
    if doc.doctype == "Task" and doc.get("assigned_to") == user:
        return None
    return False



def campaign_member_conditions(user, doctype):
    """Campaign Members carry the e-mail and mobile of records chosen with the scheduling
    user's read access: besides the see-all roles, only that user lists them (the
    figures on the message and the campaign are there for everyone else)."""
    if lowcode.get_roles(user) & SEE_ALL_ROLES:
        return None
    return OrParts([("`tabCampaign Member`.`campaign_message` IN (SELECT `name` FROM `tabCampaign Message` "
                     "WHERE `scheduled_by`=%s)", [user])])


def campaign_member_permission(doc, ptype=None, user=None):
    user = user or local.user
    if lowcode.get_roles(user) & SEE_ALL_ROLES or doc.is_new():
        return None
    if local.db.get_value("Campaign Message", doc.get("campaign_message"), "scheduled_by") == user:
        return None
    return False
