"""Task Punctuality: crm_app.reports.task_punctuality as a Script Report."""
from crm_app import reports
from crm_app.report import period

COLUMNS = [
    {"fieldname": "user", "label": "Assignee", "fieldtype": "Link", "options": "User", "width": 160},
    {"fieldname": "completed", "label": "Completed", "fieldtype": "Int", "width": 120},
    {"fieldname": "on_time", "label": "On Time", "fieldtype": "Int", "width": 120},
    {"fieldname": "late", "label": "Late", "fieldtype": "Int", "width": 120},
    {"fieldname": "on_time_percent", "label": "On Time %", "fieldtype": "Percent", "width": 120},
]


def execute(filters=None):
    return COLUMNS, reports.task_punctuality(*period(filters))
