"""Row-level rules of the CRM, applied through the engine's permission hooks so that
lists, counts, reports, link search and exports all obey them (in SQL) and single
documents agree (has_permission).

- Leads and opportunities: a Sales User sees what they own, what they are the lead
  or opportunity owner of, or what is assigned to them; a Sales Manager also sees
  everything in the territories they manage (and the territories below them);
  CRM Admins and System Managers see everything.
- Private activities: only their owner and their participants see them.
- Communications (the e-mail sent and received about a record) are read with that
  record, as in Frappe: one about a lead the user may not read is hidden too.
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



def communication_reference_conditions(user, doctype):
    """(sql, values) hiding the Communications about records the user may not read: for
    each DocType they are about whose rows the user sees only in part, those outside
    the user's rows of it (the same conditions the DocType's own lists use)."""
    if lowcode.get_roles(user) & SEE_ALL_ROLES:
        return None
    from lowcode.meta import doctype_exists
    from lowcode.permissions import match_conditions
    table = f"`tab{doctype}`"
    kinds = local.db.sql(f"SELECT DISTINCT `reference_doctype` FROM {table} WHERE `reference_doctype` IS NOT NULL "
                         f"AND `reference_doctype`!=''", pluck=True)
    hidden, values = [], []
    for kind in sorted(kinds):
        if kind == doctype or not doctype_exists(kind):
            continue
        sql, kind_values = match_conditions(kind, user)
        if sql == "1=1":
            continue
        # Every term is true or false, never NULL: NOT (NULL) would hide the messages
        # about nothing as well.
        if sql == "1=0":
            hidden.append(f"COALESCE({table}.`reference_doctype`, '')=%s")
            values.append(kind)
        else:
            hidden.append(f"(COALESCE({table}.`reference_doctype`, '')=%s AND {table}.`reference_name` IS NOT NULL "
                          f"AND {table}.`reference_name` NOT IN (SELECT `name` FROM `tab{kind}` WHERE {sql}))")
            values += [kind, *kind_values]
    if not hidden:
        return None
    return "NOT (" + " OR ".join(hidden) + ")", values


def communication_reference_permission(doc, ptype=None, user=None):
    """One Communication: readable (or writable) only with the record it is about."""
    kind, name = doc.get("reference_doctype"), doc.get("reference_name")
    user = user or local.user
    if not kind or not name or lowcode.get_roles(user) & SEE_ALL_ROLES:
        return None
    from lowcode.document import load_doc
    from lowcode.exceptions import DoesNotExistError
    from lowcode.meta import doctype_exists
    from lowcode.permissions import has_permission
    if kind == doc.doctype or not doctype_exists(kind):
        return None
    try:
        target = load_doc(kind, name)
    except DoesNotExistError:
        return None
    return None if has_permission(kind, "read", doc=target, user=user) else False


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


# Sales Forecast Entries: a salesperson reads and writes their own; managers all.
FORECAST_MANAGER_ROLES = {"Sales Manager"} | SEE_ALL_ROLES


def forecast_entry_conditions(user, doctype):
    if lowcode.get_roles(user) & FORECAST_MANAGER_ROLES:
        return None
    return OrParts([("`tabSales Forecast Entry`.`salesperson`=%s", [user])])


def forecast_entry_permission(doc, ptype=None, user=None):
    user = user or local.user
    if lowcode.get_roles(user) & FORECAST_MANAGER_ROLES or doc.get("salesperson") == user:
        return None
    return False
