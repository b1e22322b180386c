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
from lowcode.document import load_doc
from lowcode.permissions import OrParts, match_conditions

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


# -- Case Time Log -----------------------------------------------------------------------------
# An agent sees their own time logs and those of the cases they may read; they log (and
# change) only their own time, on cases they may write. Managers see and change all.
READ_PTYPES = frozenset(["read", "report", "export", "print", "email"])


def time_log_conditions(user, doctype="Case Time Log"):
    if lowcode.get_roles(user) & SEE_ALL_ROLES:
        return None
    table = f"`tab{doctype}`"
    parts = OrParts([(f"{table}.`agent`=%s", [user])])
    case_sql, values = match_conditions("Case", user)
    if case_sql != "1=0":
        parts.add_name_in(f"{table}.`case`", f"SELECT `tabCase`.`name` FROM `tabCase` WHERE {case_sql}", values)
    return parts


def _case_allows(case, ptype, user):
    try:
        doc = load_doc("Case", case)
    except lowcode.DoesNotExistError:
        return True  # left to the link check, which names the field
    return lowcode.has_permission("Case", ptype, doc=doc, user=user)


def time_log_permission(doc, ptype=None, user=None):
    user = user or local.user
    if lowcode.get_roles(user) & SEE_ALL_ROLES:
        return None
    if (ptype or "read") in READ_PTYPES and not doc.is_new():
        if doc.get("agent") == user or (doc.get("case") and _case_allows(doc.case, "read", user)):
            return None
        return False
    if doc.get("agent") != user or not doc.get("case") or not _case_allows(doc.case, "write", user):
        return False
    return None


# -- Assignment Rule ---------------------------------------------------------------------------
# Support Managers keep the routing settings: the assignment rules for cases, no others
# (crm_app's roles manage every rule).
RULE_ROLES = frozenset(["CRM Admin", "System Manager", "Sales Manager", "Administrator"])


def assignment_rule_conditions(user, doctype="Assignment Rule"):
    if lowcode.get_roles(user) & RULE_ROLES:
        return None
    return f"`tab{doctype}`.`document_type`='Case'"


def assignment_rule_permission(doc, ptype=None, user=None):
    if lowcode.get_roles(user or local.user) & RULE_ROLES:
        return None
    return None if doc.get("document_type") == "Case" else False
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
