"""Frappe's "Timespan" filter operator: dynamic dates such as ``["creation", "Timespan",
"this week"]`` that mean a different range each day, so a saved filter (a number card, a
chart, a list link) keeps meaning "this week". ``date_range`` turns a name into the
(first day, last day) it covers today; the query layer compares with BETWEEN. Weeks
start on Monday, as the charts' weekly buckets do."""
import datetime

from dateutil.relativedelta import relativedelta

from .exceptions import InvalidFieldError


def _week(day):
    start = day - datetime.timedelta(days=day.weekday())
    return start, start + datetime.timedelta(days=6)


def _month(day):
    start = day.replace(day=1)
    return start, start + relativedelta(months=1, days=-1)


def _quarter(day):
    start = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return start, start + relativedelta(months=3, days=-1)


def _year(day):
    return day.replace(month=1, day=1), day.replace(month=12, day=31)


def _days_back(n):
    return lambda t: (t - datetime.timedelta(days=n - 1), t)


#: Frappe's timespan names (frappe.utils.get_timespan_date_range) plus "last N days";
#: each maps today to (first day, last day), both included.
RANGES = {
    "yesterday": lambda t: (t - datetime.timedelta(days=1),) * 2,
    "today": lambda t: (t, t),
    "tomorrow": lambda t: (t + datetime.timedelta(days=1),) * 2,
    "last week": lambda t: _week(t - datetime.timedelta(days=7)),
    "this week": _week,
    "next week": lambda t: _week(t + datetime.timedelta(days=7)),
    "last month": lambda t: _month(t - relativedelta(months=1)),
    "this month": _month,
    "next month": lambda t: _month(t + relativedelta(months=1)),
    "last quarter": lambda t: _quarter(t - relativedelta(months=3)),
    "this quarter": _quarter,
    "next quarter": lambda t: _quarter(t + relativedelta(months=3)),
    "last 6 months": lambda t: (t - relativedelta(months=6), t),
    "next 6 months": lambda t: (t, t + relativedelta(months=6)),
    "last year": lambda t: _year(t - relativedelta(years=1)),
    "this year": _year,
    "next year": lambda t: _year(t + relativedelta(years=1)),
    "last 7 days": _days_back(7),
    "last 30 days": _days_back(30),
    "last 90 days": _days_back(90),
}


def _(text):
    """Marks the labels for scripts/extract_messages.py; the desk translates them."""
    return text


#: what the filter builder shows for each timespan
LABELS = {"yesterday": _("Yesterday"), "today": _("Today"), "tomorrow": _("Tomorrow"),
          "last week": _("Last week"), "this week": _("This week"), "next week": _("Next week"),
          "last month": _("Last month"), "this month": _("This month"), "next month": _("Next month"),
          "last quarter": _("Last quarter"), "this quarter": _("This quarter"), "next quarter": _("Next quarter"),
          "last 6 months": _("Last 6 months"), "next 6 months": _("Next 6 months"),
          "last year": _("Last year"), "this year": _("This year"), "next year": _("Next year"),
          "last 7 days": _("Last 7 days"), "last 30 days": _("Last 30 days"), "last 90 days": _("Last 90 days")}


def date_range(name, fieldname, today=None):
    """(first, last) dates of timespan ``name`` as of ``today``; an unknown name is an
    error naming the field it filters."""
    fn = RANGES.get(str(name or "").strip().lower())
    if fn is None:
        raise InvalidFieldError(f"{fieldname}: unknown timespan {name!r} (allowed: {', '.join(RANGES)})",
                                field=fieldname)
    return fn(today or datetime.date.today())
