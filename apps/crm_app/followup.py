"""Follow-up rules: "every matching customer is contacted at least once every N
days". Daily, each enabled rule creates a task for every customer whose last contact
(call, meeting, message or note) is older than N days and who has no open follow-up
task from that rule yet; ``overdue_customers`` shows who is overdue now."""
import datetime
import json

import lowcode
from lowcode.context import local
from lowcode.utils import now, today

CONTACT_SOURCES = (("Call Log", "started_at"), ("Event", "starts_on"), ("Communication", "communication_date"),
                   ("Note", "creation"))


def last_contacts(customers, ignore_permissions=False, user=None):
    """{customer: last contact datetime text} over every kind of activity the user
    (default: the current one) may read, through the permission-filtered query API:
    another user's private call or note never moves what a viewer sees. The scheduled
    rule run decides for the business, so it counts every activity (``ignore_permissions``)."""
    last = {}
    if not customers:
        return last
    # up to now, whole seconds (filters compare datetimes to the second; creation keeps microseconds)
    upto = datetime.datetime.now().replace(microsecond=0) + datetime.timedelta(seconds=1)
    for doctype, field in CONTACT_SOURCES:
        if not ignore_permissions and not lowcode.has_permission(doctype, "read", user=user):
            continue
        filters = [["customer", "in", list(customers)], [field, "<", upto]]
        if doctype == "Event":
            # Only contacts that happened: a planned meeting or a cancelled one is not contact.
            filters.append(["status", "!=", "Cancelled"])
        rows = lowcode.get_list(doctype, fields=["customer", f"max({field}) as last"], filters=filters,
                                group_by="customer", limit_page_length=0, ignore_permissions=ignore_permissions,
                                user=user)
        for row in rows:
            when = row["last"]
            if when and str(when) > last.get(row["customer"], ""):
                last[row["customer"]] = str(when)
    return last


def overdue_customers(rule_name, on=None, ignore_permissions=False):
    """[(customer, customer_name, account_manager, last contact or None)] overdue under
    the rule, by the contacts the user may read (``last_contacts``)."""
    rule = lowcode.get_doc("Follow-up Rule", rule_name)
    filters = json.loads(rule.customer_filters) if rule.customer_filters else []
    filters = list(filters) + [["is_blocked", "=", 0]]
    customers = lowcode.get_all("Customer", fields=["name", "customer_name", "account_manager"], filters=filters)
    cutoff = ((datetime.date.fromisoformat(on) if on else datetime.date.today())
              - datetime.timedelta(days=int(rule.every_n_days or 0))).isoformat()
    last = last_contacts([c["name"] for c in customers], ignore_permissions)
    return [(c["name"], c["customer_name"], c["account_manager"], last.get(c["name"]))
            for c in customers if last.get(c["name"], "")[:10] < cutoff]


def run_rule(rule_name, on=None):
    rule = lowcode.get_doc("Follow-up Rule", rule_name)
    created = []
    # One query each, not one per customer: customers with an open task of this rule,
    # and (below) the last contacts each assignee may read.
    has_open_task = set(local.db.sql("SELECT `customer` FROM `tabTask` WHERE `follow_up_rule`=%s "
                                     "AND `status` IN ('Open', 'Working')", (rule.name,), pluck=True))
    due = [(customer, customer_name, rule.fixed_user if rule.assign_to == "Fixed User" else manager, last)
           for customer, customer_name, manager, last in overdue_customers(rule_name, on, ignore_permissions=True)
           if customer not in has_open_task]
    # The task tells its reader the last contact they may read, not a private one of others.
    seen_by = {}
    for assignee in {a for _, _, a, _ in due if a}:
        seen_by[assignee] = last_contacts([c for c, _, a, _ in due if a == assignee], user=assignee)
    for customer, customer_name, assignee, last in due:
        if assignee:
            last = seen_by[assignee].get(customer)
        task = lowcode.get_doc({
            "doctype": "Task", "subject": f"Follow up with {customer_name}", "assigned_to": assignee,
            "due_date": on or today(), "priority": rule.task_priority or "Medium", "status": "Open",
            "reference_doctype": "Customer", "reference_name": customer, "follow_up_rule": rule.name,
            "description": f"Last contact: {last or 'never'}; rule: every {rule.every_n_days} days"})
        task.flags.skip_assignment = True
        task.insert(ignore_permissions=True)
        created.append(task.name)
    local.db.sql("UPDATE `tabFollow-up Rule` SET `last_run`=%s WHERE `name`=%s", (now()[:19], rule.name))
    return created


def run_all_rules():
    created = []
    for name in local.db.sql("SELECT `name` FROM `tabFollow-up Rule` WHERE `enabled`=1", pluck=True):
        created += run_rule(name)
    return created
