"""Assignment rules: a new document of any DocType is given to a user by the first
enabled rule (lowest priority number first) whose condition holds, round-robin or
to the least-loaded user, skipping users who are at capacity or unavailable today.
Every assignment is logged. Wired through doc_events["*"]["after_insert"]. Frappe's
"Based on Field" takes the user from a field of the document instead.

The users to choose from are the rule's users table, unless an app gives them for its
DocType through the ``assignment_candidates`` hook ({doctype: "dotted.path"}): a function
(rule, doc) returning None (use the table) or rows with the table's fields (user,
capacity, unavailable_from, unavailable_to) and optionally ``set_values``, fields set on the
document together with the user chosen from that row (e.g. the service app's team
members, the case's team).

A rule never takes a record from the salesperson who created it: when the creator is one
of the rule's candidates, the creator is the assignee (``reassign_creator_records`` on
the rule turns that off). The saving user is told who got the record and why
(``form_notices``, shown on the form after the save and in the quick entry toast)."""
import json

import lowcode
from lowcode.apps import get_attr
from lowcode.caches import memo_records
from lowcode.assignments import assigned_subquery, read_assign, write_assign
from lowcode.context import local
from lowcode.expressions import evaluate
from lowcode.utils import today

_SKIP = frozenset(["Assignment Rule", "Assignment Log", "Version", "Comment", "DocType", "Custom Field",
                   "Property Setter", "Failed Job", "Scheduled Job Type", "File", "Notification Log", "ToDo"])


def rules_for(doctype):
    # The table exists wherever this app is installed (its hooks run only there). Every new
    # document asks, so the answer is kept for the request or job until a rule is written.
    return memo_records("Assignment Rule", ("enabled", doctype), lambda: tuple(local.db.sql(
        "SELECT `name` FROM `tabAssignment Rule` WHERE `document_type`=%s AND `disabled`=0 "
        "ORDER BY `priority`, `name`", (doctype,), pluck=True)))


def apply_rules(doc, method=None):
    if doc.meta.istable or doc.doctype in _SKIP or doc.flags.skip_assignment:
        return None
    for name in rules_for(doc.doctype):
        rule = lowcode.get_doc("Assignment Rule", name)
        if rule.condition and not evaluate("eval:" + rule.condition, doc):
            continue
        rows = candidates(rule, doc)
        # Based on Field: the document itself names the user (e.g. the creator chose it), so it stands.
        creator = None if rule.get("reassign_creator_records") or rule.rule == BASED_ON_FIELD else next(
            (r for r in rows if r.user == doc.owner), None)
        user = creator.user if creator else choose_user(rule, doc, rows)
        if user is None:
            log(rule, doc, None, f"no user in field {rule.field}" if rule.rule == BASED_ON_FIELD
                else "no user available (all at capacity or unavailable)")
            continue
        row = creator or next((r for r in rows if r.user == user), None)
        assign(rule, doc, user, values=getattr(row, "set_values", None), why=CREATOR if creator else rule.rule)
        return user
    return None


def candidates(rule, doc):
    for path in lowcode.get_hooks("assignment_candidates", {}).get(doc.doctype, []):
        rows = get_attr(path)(rule, doc)
        if rows is not None:
            return rows
    return rule.users


def available_users(rule, rows=None):
    day = today()
    users = []
    for row in rule.users if rows is None else rows:
        if row.unavailable_from and row.unavailable_from <= day <= (row.unavailable_to or row.unavailable_from):
            continue
        if row.capacity and open_load(rule, row.user) >= int(row.capacity):
            continue
        users.append(row.user)
    return users


def open_load(rule, user):
    """How many open documents of the rule's DocType the user holds now."""
    meta = lowcode.get_meta(rule.document_type)
    table = f"`tab{rule.document_type}`"
    # Assigned through the assignment table's primary key (see lowcode/assignments.py).
    sql, values = assigned_subquery(user, rule.document_type)
    parts = [f"{table}.`name` IN ({sql})"]
    if rule.assign_field and meta.has_field(rule.assign_field):
        parts.append(f"{table}.`{rule.assign_field}`=%s")
        values.append(user)
    statuses = [s.strip() for s in (rule.open_statuses or "").split(",") if s.strip()]
    status_sql = ""
    if statuses and meta.has_field("status"):
        status_sql = f" AND {table}.`status` IN ({', '.join(['%s'] * len(statuses))})"
        values += statuses
    return local.db.sql(f"SELECT COUNT(*) FROM {table} WHERE ({' OR '.join(parts)}){status_sql}", values)[0][0]


BASED_ON_FIELD = "Based on Field"


def choose_user(rule, doc, rows=None):
    if rule.rule == BASED_ON_FIELD:  # Frappe's: the user the document's field names, if there is one
        value = doc.get(rule.field) if rule.field and doc.meta.has_field(rule.field) else None
        return value if value and local.db.exists("User", value) else None
    rows = rule.users if rows is None else rows
    users = available_users(rule, rows)
    if not users:
        return None
    order = [r.user for r in rows]
    if rule.rule == "Load Balancing":
        loads = {u: open_load(rule, u) for u in users}
        return min(users, key=lambda u: (loads[u], order.index(u)))
    start = order.index(rule.last_user) + 1 if rule.last_user in order else 0
    for offset in range(len(order)):
        candidate = order[(start + offset) % len(order)]
        if candidate in users:
            return candidate
    return None


CREATOR = "Creator"  # the reason's first word when the creator keeps the record


def assign(rule, doc, user, values=None, why=None):
    why = why or rule.rule
    values = dict(values or {})
    if rule.assign_field:
        values[rule.assign_field] = user
    # Fields named by the rule or the app's hook, checked against the DocType's metadata.
    values = {f: v for f, v in values.items() if doc.meta.has_field(f)}
    if values:
        local.db.sql(f"UPDATE `tab{doc.doctype}` SET {', '.join(f'`{f}`=%s' for f in values)} WHERE `name`=%s",
                     (*values.values(), doc.name))
        doc.update(values)
    current = read_assign(doc.doctype, doc.name)
    if user not in current:
        current.append(user)
    write_assign(doc.doctype, doc.name, current)
    doc._assign = json.dumps(current)
    if why != CREATOR:  # the creator keeping a record is not a turn of the round robin
        local.db.sql("UPDATE `tabAssignment Rule` SET `last_user`=%s WHERE `name`=%s", (user, rule.name))
    log(rule, doc, user, f"{why}: assigned by rule {rule.name}")
    from lowcode.workflow import add_comment
    add_comment(doc.doctype, doc.name, "Assigned", f"Assigned to {user} by rule {rule.name}")
    # The assignee's usual assignment notification (the bell); none to a creator keeping their record.
    from lowcode.desk.views.collaboration import notify
    notify(user, "Assignment", f"{doc.doctype} {doc.name} assigned to you by rule {rule.name}", doc)


def log(rule, doc, user, reason):
    lowcode.get_doc({"doctype": "Assignment Log", "assignment_rule": rule.name, "document_type": doc.doctype,
                     "document_name": doc.name, "user": user, "reason": reason}).insert(ignore_permissions=True)


def form_notices(doc):
    """``form_notices`` hook: "Assigned to <full name> by rule <rule> (<why>)" for the
    user whose save a rule assigned (the newest Assignment Log of the record that this
    user's save wrote). Read from the log, so a crafted URL shows nothing untrue."""
    from django.utils.translation import gettext as _
    row = local.db.sql("SELECT `user`, `assignment_rule`, `reason` FROM `tabAssignment Log` WHERE `document_type`=%s "
                       "AND `document_name`=%s AND `owner`=%s AND `user` IS NOT NULL ORDER BY `creation` DESC, "
                       "`name` DESC LIMIT 1", (doc.doctype, doc.name, local.user), as_dict=True)
    if not row:
        return []
    row = row[0]
    why = {"Round Robin": _("round robin"), "Load Balancing": _("load balancing"), BASED_ON_FIELD: _("based on field"),
           CREATOR: _("the creator keeps the record")}.get((row["reason"] or "").split(":")[0], row["reason"])
    full_name = local.db.get_value("User", row["user"], "full_name") or row["user"]
    return [_("Assigned to %(user)s by rule %(rule)s (%(why)s)") % {
        "user": full_name, "rule": row["assignment_rule"], "why": why}]
