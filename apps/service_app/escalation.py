"""What happens when a case runs late or turns into a crisis: warnings before a breach,
the breach recorded, escalation rules (reassign, raise priority, notify), and crises.

Every event fires once per case: it is first written to Case SLA Log under a unique
``event_key`` (case, event, target, rule), and only a new row leads to action, so running
the scheduler twice (or two schedulers at once) tells nobody twice. The times come from
service_app/sla.py; this module decides who is told and what changes.
"""
import logging
from types import SimpleNamespace

import lowcode
from lowcode import _
from lowcode.context import local
from lowcode.desk.views.collaboration import notify
from lowcode.document import Document
from lowcode.exceptions import DuplicateEntryError
from lowcode.utils import now_datetime

from . import sla

log = logging.getLogger("service_app.escalation")

# (target, due field, met field, target seconds column, breach flag)
TARGETS = (
    ("First Response", "response_by", "first_responded_on", "response_time", "response_breached"),
    ("Resolution", "resolution_by", "resolution_date", "resolution_time", "resolution_breached"),
)
FLAG_OF = {t[0]: t[4] for t in TARGETS}
DEFAULT_WARN_PERCENT = 80

# The running cases the scheduler watches, with their targets and what rules match on.
# Paused cases are left out (their clock stands still), and so are the cases of a disabled
# agreement (disabling one is how a manager stops its warnings).
_RUNNING_CASES = (
    "SELECT c.`name`, c.`opened_on`, c.`response_by`, c.`resolution_by`, c.`first_responded_on`, "
    "c.`resolution_date`, c.`total_hold_time`, c.`response_breached`, c.`resolution_breached`, "
    "c.`breach_duration`, c.`priority`, c.`service_team`, c.`assigned_to`, c.`service_level_agreement`, "
    "cu.`customer_group`, s.`warn_at_percent`, p.`response_time`, p.`resolution_time` "
    "FROM `tabCase` c "
    "JOIN `tabService Level Agreement` s ON s.`name` = c.`service_level_agreement` "
    "JOIN `tabService Level Priority` p ON p.`parent` = s.`name` "
    "AND p.`parenttype` = 'Service Level Agreement' AND p.`priority` = c.`priority` "
    "LEFT JOIN `tabCustomer` cu ON cu.`name` = c.`customer` "
    "WHERE c.`status` IN ('Open', 'In Progress') AND c.`on_hold_since` IS NULL AND s.`enabled` = 1 "
    "ORDER BY c.`name`")


# -- the once-only log -----------------------------------------------------------------------

def fire_once(case, event, target="", rule=None, now=None, logged=None):
    """Record ``event`` for ``case``; True only the first time. ``logged``: the event
    keys already known to be recorded (the scheduler reads them in one query a run)."""
    key = "|".join((case, event, target or "", rule or ""))
    if key in logged if logged is not None else \
            local.db.sql("SELECT 1 FROM `tabCase SLA Log` WHERE `event_key`=%s", (key,)):
        return False
    try:
        lowcode.get_doc({"doctype": "Case SLA Log", "case": case, "event": event, "target": target or None,
                         "escalation_rule": rule, "fired_on": now or now_datetime(),
                         "event_key": key}).insert(ignore_permissions=True)
    except DuplicateEntryError:  # another run recorded it a moment ago
        return False
    if logged is not None:
        logged.add(key)
    return True


def forget_case(doc, method=None):
    """Case on_trash: its SLA events go with it (they would otherwise block the delete)."""
    local.db.sql("DELETE FROM `tabCase SLA Log` WHERE `case`=%s", (doc.name,))


# -- who is told -----------------------------------------------------------------------------

def support_managers():
    return local.db.sql(
        "SELECT DISTINCT r.`parent` FROM `tabHas Role` r JOIN `tabUser` u ON u.`name` = r.`parent` "
        "WHERE r.`parenttype` = 'User' AND r.`role` = 'Support Manager' AND u.`enabled` = 1 ORDER BY r.`parent`",
        pluck=True)


def managers_for(team):
    """The team's manager, or the Support Managers when the case has no managed team."""
    manager = local.db.get_value("Service Team", team, "manager") if team else None
    return [manager] if manager else support_managers()


def tell(users, subject, case):
    # notify() needs only the document's doctype and name
    doc = case if isinstance(case, Document) else SimpleNamespace(doctype="Case", name=case)
    for user in dict.fromkeys(u for u in users if u):  # each once, in order
        notify(user, "Alert", subject, doc=doc)


# -- priorities --------------------------------------------------------------------------------

def top_priority():
    rows = local.db.sql("SELECT `name` FROM `tabIssue Priority` WHERE `rank` IS NOT NULL "
                        "ORDER BY `rank`, `name` LIMIT 1")
    return rows[0][0] if rows else None


def next_priority(current):
    """The next more urgent priority (rank 1 is the most urgent); the same when at the top.
    A case without a ranked priority gets the least urgent ranked one."""
    rank = local.db.get_value("Issue Priority", current, "rank") if current else None
    if rank is None:
        rows = local.db.sql("SELECT `name` FROM `tabIssue Priority` WHERE `rank` IS NOT NULL "
                            "ORDER BY `rank` DESC, `name` LIMIT 1")
    else:
        rows = local.db.sql("SELECT `name` FROM `tabIssue Priority` WHERE `rank` < %s "
                            "ORDER BY `rank` DESC, `name` LIMIT 1", (rank,))
    return rows[0][0] if rows else current


# -- the scheduler job -----------------------------------------------------------------------------

def check_service_levels(now=None):
    """Every few minutes (hooks.py): warn, record breaches and escalate running cases."""
    now = now or now_datetime()
    rules = local.db.sql(
        "SELECT `name`, `target`, `after_minutes`, `priority`, `service_team`, `customer_group`, "
        "`reassign_to_user`, `reassign_to_team`, `raise_priority`, `notify_user` "
        "FROM `tabCase Escalation Rule` WHERE `enabled` = 1 ORDER BY `name`", as_dict=True)
    # A job's unit of work; on SQLite a savepoint outside one would open (and its release
    # commit) a transaction of its own.
    local.db.begin()
    logged = set(local.db.sql(
        "SELECT l.`event_key` FROM `tabCase SLA Log` l JOIN `tabCase` c ON c.`name` = l.`case` "
        "WHERE c.`status` IN ('Open', 'In Progress')", pluck=True))
    calendars = {}
    for row in local.db.sql(_RUNNING_CASES, as_dict=True):
        key = (row["service_level_agreement"], row["service_team"])
        # One savepoint per case: a case that cannot be handled (bad data) is logged and
        # skipped, without undoing what the run did for the others.
        local.db.savepoint("sla_case")
        try:
            if key not in calendars:
                calendars[key] = sla.calendar_for(*key)
            _check_case(row, calendars[key], rules, now, logged)
            local.db.release_savepoint("sla_case")
        except lowcode.exceptions.LowcodeError:
            local.db.rollback_to_savepoint("sla_case")
            log.exception("SLA check of case %s failed", row["name"])


def _check_case(row, calendar, rules, now, logged):
    case = row["name"]
    hold = float(row["total_hold_time"] or 0)
    percent = row["warn_at_percent"] if row["warn_at_percent"] is not None else DEFAULT_WARN_PERCENT
    late = {}
    for target, due_field, met_field, seconds_field, flag in TARGETS:
        due = sla._as_datetime(row[due_field])
        if row[met_field] or due is None:
            continue
        if now < due:
            warn_at = percent and calendar.add(row["opened_on"], float(row[seconds_field] or 0) * percent / 100 + hold)
            if warn_at and now >= warn_at and fire_once(case, "Warning", target, now=now, logged=logged):
                tell([row["assigned_to"]] + managers_for(row["service_team"]),
                     _("SLA warning: {0} of case {1} is due at {2}", _(target), case, due), case)
            continue
        late[flag] = calendar.between(due, now)
        if fire_once(case, "Breach", target, now=now, logged=logged):
            tell([row["assigned_to"]] + managers_for(row["service_team"]),
                 _("SLA breached: {0} of case {1} was due at {2}", _(target), case, due), case)
    if late:
        _record_breach(row, late)
    for rule in rules:
        overdue = late.get(FLAG_OF.get(rule["target"]))
        if overdue is not None and overdue >= int(rule["after_minutes"] or 0) * 60 and _rule_matches(rule, row) \
                and fire_once(case, "Escalation", rule["target"], rule["name"], now=now, logged=logged):
            escalate(case, rule, now)


def _record_breach(row, late):
    """The breach flags and the overrun so far, as a plain UPDATE: scheduler bookkeeping
    that must not make an agent's open form stale (``modified`` stays)."""
    values = {flag: 1 for flag in late}
    duration = max(late.values())
    if all(int(row[f] or 0) for f in values) and float(row["breach_duration"] or 0) == duration:
        return
    assignments = ", ".join(f"`{f}`=1" for f in values)  # names from TARGETS, never from input
    local.db.sql(f"UPDATE `tabCase` SET {assignments}, `breach_duration`=%s, `agreement_status`='Failed' "
                 "WHERE `name`=%s", (duration, row["name"]))


def _rule_matches(rule, row):
    return all(not rule[f] or rule[f] == row[f] for f in ("priority", "service_team", "customer_group"))


def escalate(case, rule, now=None):
    """Apply an escalation rule's actions through a normal save (versions, hooks, the SLA's
    due times for a raised priority), then tell the people concerned."""
    doc = lowcode.get_doc("Case", case)
    doc.flags.sla_now = now
    if rule["reassign_to_team"]:
        doc.service_team = rule["reassign_to_team"]
    if rule["reassign_to_user"]:
        doc.assigned_to = rule["reassign_to_user"]
    if rule["raise_priority"]:
        doc.priority = next_priority(doc.priority)
    doc.save(ignore_permissions=True)
    tell([doc.assigned_to, rule["notify_user"]] + managers_for(doc.service_team),
         _("Case {0} escalated by rule {1}", case, rule["name"]), doc)
    return doc


# -- crisis ----------------------------------------------------------------------------------------

def apply_crisis_rule(doc, method=None):
    """Case validate (before the SLA clocks, which follow the priority): a VIP customer's
    urgent case becomes a crisis; a new crisis goes to the top priority."""
    previous = doc._doc_before_save
    if not doc.is_crisis and (previous is None or any(previous.get(f) != doc.get(f)
                                                      for f in ("customer", "urgency", "priority"))):
        vip = doc.customer and local.db.get_value("Customer", doc.customer, "vip_tier")
        if vip and (doc.urgency == "High" or (doc.priority and doc.priority == top_priority())):
            doc.is_crisis = 1
    if doc.is_crisis and not (previous is not None and previous.is_crisis):
        doc.priority = top_priority() or doc.priority
        doc.flags.crisis_began = True


def announce_crisis(doc, method=None):
    """Case on_update: the Support Managers hear of a crisis at once, and once."""
    if doc.flags.crisis_began:
        doc.flags.crisis_began = False
        if fire_once(doc.name, "Crisis"):
            tell(support_managers(), _("Crisis: case {0} ({1})", doc.name, doc.subject), doc)
