"""Helpers for the SLA tests: a clock the test sets, priorities, customer groups,
agreements and cases read back as stored."""
import datetime

import pytest

import lowcode

from service_app import sla
from service_app.sla import WEEKS
from service_app.tests.helpers import make_case, tag

H = 3600
WEEKDAYS_9_TO_5 = WEEKS["Monday to Friday"]


def at(text):
    return datetime.datetime.fromisoformat(text)


class Clock:
    """The SLA's idea of now, set by the test (the module reads lowcode.utils' clock)."""

    def __init__(self, monkeypatch):
        self.now = None
        monkeypatch.setattr(sla, "now_datetime", lambda: self.now)

    def set(self, text):
        self.now = at(text)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


def make_priority(rank):
    return lowcode.get_doc({"doctype": "Issue Priority", "priority_name": f"P{rank} {tag()}", "rank": rank}).insert(
        ignore_permissions=True).name


def make_group():
    return lowcode.get_doc({"doctype": "Customer Group", "customer_group_name": f"Group {tag()}"}).insert(
        ignore_permissions=True).name


def make_sla(priorities, customer_group=None, hours=WEEKDAYS_9_TO_5, holidays=(), **values):
    """An agreement; ``priorities``: {priority: (response seconds, resolution seconds)}."""
    holiday_list = None
    if holidays:
        holiday_list = lowcode.get_doc({"doctype": "Holiday List", "holiday_list_name": f"Holidays {tag()}",
                                        "holidays": [{"holiday_date": d} for d in holidays]}).insert().name
    return lowcode.get_doc(dict({
        "doctype": "Service Level Agreement", "service_level": f"SLA {tag()}", "customer_group": customer_group,
        "holiday_list": holiday_list,
        "priorities": [{"priority": p, "response_time": r, "resolution_time": s} for p, (r, s) in priorities.items()],
        "support_and_resolution": [{"workday": d, "start_time": s, "end_time": e} for d, s, e in hours],
    }, **values)).insert()


def sla_case(**values):
    return lowcode.get_doc("Case", make_case(**values).name)


def stored(case):
    return lowcode.get_doc("Case", case.name if hasattr(case, "name") else case)
