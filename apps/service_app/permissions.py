"""Row rules for cases, applied through the engine's permission hooks so that lists,
counts, reports, link search and exports agree (in SQL) and single documents agree
(has_permission).

- Support Managers, CRM Admins and System Managers see every case.
- A Support Agent sees the cases they own, are the agent of, or are assigned to, and
  the queue of every team they belong to (or manage).
- A portal Customer (a customer's contact with a Website User) sees the cases of the
  customers their contact is linked to, and nothing else.
- A Case Reply is seen by whoever sees its case.
"""
import lowcode
from lowcode.assignments import assigned_subquery, is_assigned
from lowcode.context import local
from lowcode.permissions import OrParts

SEE_ALL_ROLES = {"Support Manager", "CRM Admin", "System Manager", "Administrator"}
STAFF_ROLES = SEE_ALL_ROLES | {"Support Agent"}
CUSTOMER_ROLE = "Customer"


def is_portal_customer(user):
    """A user whose rows are their customers' rows: the Customer role and no staff role."""
    roles = lowcode.get_roles(user)
    return CUSTOMER_ROLE in roles and not roles & STAFF_ROLES


def portal_customers(user):
    """The customers the user's contact(s) are linked to (Contact.user, as in Frappe)."""
    key = ("portal_customers", user)
    if key not in local.cache:
        local.cache[key] = sorted(set(local.db.sql(
            "SELECT l.`link_name` FROM `tabContact` c JOIN `tabDynamic Link` l ON l.`parent`=c.`name` "
            "AND l.`parenttype`='Contact' AND l.`link_doctype`='Customer' WHERE c.`user`=%s", (user,), pluck=True)))
    return local.cache[key]


def _customer_in(column, user):
    customers = portal_customers(user)
    if not customers:
        return OrParts()  # no parts: no rows
    return OrParts([(f"{column} IN ({', '.join(['%s'] * len(customers))})", customers)])


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
    if is_portal_customer(user):
        return _customer_in(f"{table}.`customer`", user)
    parts = OrParts([(f"{table}.`owner`=%s", [user]), (f"{table}.`assigned_to`=%s", [user])])
    parts.add_name_in(f"{table}.`name`", *assigned_subquery(user, doctype))
    teams = user_teams(user)
    if teams:
        parts.add(f"{table}.`service_team` IN ({', '.join(['%s'] * len(teams))})", teams)
    return parts


def case_permission(doc, ptype=None, user=None):
    user = user or local.user
    if lowcode.get_roles(user) & SEE_ALL_ROLES:
        return None
    if is_portal_customer(user):  # a new case too: only for their own customer
        return None if doc.get("customer") in portal_customers(user) else False
    if doc.is_new():
        return None
    if user in (doc.owner, doc.get("assigned_to")) or is_assigned(user, doc.doctype, doc.name):
        return None
    if doc.get("service_team") and doc.get("service_team") in user_teams(user):
        return None
    return False


def reply_conditions(user, doctype="Case Reply"):
    """Replies on the cases the user sees (the case rule, as a subquery)."""
    if lowcode.get_roles(user) & SEE_ALL_ROLES:
        return None
    from lowcode.permissions import match_conditions
    sql, values = match_conditions("Case", user)
    return OrParts([(f"`tab{doctype}`.`case` IN (SELECT `tabCase`.`name` FROM `tabCase` WHERE {sql})", values)])


def reply_permission(doc, ptype=None, user=None):
    user = user or local.user
    if lowcode.get_roles(user) & SEE_ALL_ROLES or not doc.get("case"):
        return None
    if not local.db.exists("Case", doc.case):
        return False
    return None if lowcode.has_permission("Case", "read", doc=lowcode.get_doc("Case", doc.case), user=user) else False
