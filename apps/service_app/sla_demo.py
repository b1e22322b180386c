"""Demo SLA set-up for ``make run``: Iran's and Israel's public holidays, a default
agreement on the Iranian week (Thursday a half day), the Tel Aviv team on the Israeli week
with Israel's holidays (a team's own hours win), two escalation rules; then the demo's
running cases are backdated a little and checked, so warnings, breaches and escalations
show. Idempotent: what exists is left alone.

service_app.demo.generate calls ``setup()`` before it makes its cases, whose histories it
dates itself; ``generate`` (setup, then backdating) is for a site whose cases exist.

    lowcode --site SITE execute service_app.sla_demo.generate"""
import datetime
import random

import lowcode
from lowcode.context import local
from lowcode.utils import now_datetime

from . import escalation

AGREEMENT = "Standard"
# priority -> (first response, resolution) in working hours
TARGETS = {"Urgent": (0.5, 4), "High": (1, 8), "Medium": (4, 16), "Low": (8, 40)}
RANKS = {"Urgent": 1, "High": 2, "Medium": 3, "Low": 4}
TEAM_WEEKS = {"Tel Aviv Support": ("Israel", "Israel public holidays")}
RULES = [
    {"rule_name": "Urgent case unanswered", "target": "First Response", "after_minutes": 30, "priority": "Urgent"},
    {"rule_name": "Resolution two hours late", "target": "Resolution", "after_minutes": 120, "raise_priority": 1},
]


def _ensure(doctype, name, values):
    if not local.db.exists(doctype, name):
        lowcode.get_doc(dict(values, doctype=doctype)).insert(ignore_permissions=True)


@lowcode.whitelist(methods=["POST"])
def generate(seed: int = 7):
    lowcode.only_for("System Manager")
    rnd = random.Random(int(seed))
    setup()
    backdated = _backdate_running_cases(rnd)
    escalation.check_service_levels()
    return {"backdated": backdated}


def setup():
    """Holiday lists, the default agreement, the teams' weeks and the escalation rules."""
    year = datetime.date.today().year
    for country in ("Iran", "Israel"):
        _ensure("Holiday List", f"{country} public holidays", {
            "holiday_list_name": f"{country} public holidays", "country": country,
            "from_date": f"{year}-01-01", "to_date": f"{year + 1}-12-31"})
    for name, rank in RANKS.items():
        _ensure("Issue Priority", name, {"priority_name": name, "rank": rank})
    if not local.db.sql("SELECT 1 FROM `tabService Level Agreement` WHERE `default_service_level_agreement`=1"):
        _ensure("Service Level Agreement", AGREEMENT, {
            "service_level": AGREEMENT, "default_service_level_agreement": 1, "default_priority": "Medium",
            "working_week": "Iran (Thursday half-day)", "holiday_list": "Iran public holidays",
            "priorities": [{"priority": p, "response_time": r * 3600, "resolution_time": s * 3600}
                           for p, (r, s) in TARGETS.items()]})
    for team, (week, holidays) in TEAM_WEEKS.items():
        if local.db.exists("Service Team", team) and not local.db.get_value("Service Team", team, "working_week"):
            doc = lowcode.get_doc("Service Team", team)
            doc.working_week, doc.holiday_list = week, holidays
            doc.save(ignore_permissions=True)
    for rule in RULES:
        _ensure("Case Escalation Rule", rule["rule_name"], rule)


def _backdate_running_cases(rnd):
    """Open the running cases without an agreement up to three days ago, so some are late.
    Saved as server code (ignore_permissions), which the SLA module lets set its fields."""
    now = now_datetime().replace(microsecond=0)
    names = local.db.sql("SELECT `name` FROM `tabCase` WHERE `status` IN ('Open', 'In Progress') AND "
                         "(`service_level_agreement` IS NULL OR `service_level_agreement`='') ORDER BY `name`",
                         pluck=True)
    for name in names:
        case = lowcode.get_doc("Case", name)
        case.opened_on = now - datetime.timedelta(minutes=rnd.randint(10, 3 * 24 * 60))
        if case.first_responded_on:
            case.first_responded_on = case.opened_on + (now - case.opened_on) * rnd.random() / 4
            case.first_response_time = None
        case.save(ignore_permissions=True)
    return len(names)
