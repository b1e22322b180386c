"""Opportunities Assigned vs Closed: crm_app.reports.opportunities_assigned_closed as a
Script Report: per salesperson and month, what came in and what was closed."""
from crm_app import reports
from crm_app.report import period

COUNT = {"fieldtype": "Int", "width": 100}
COLUMNS = [
    {"fieldname": "salesperson", "label": "Salesperson", "fieldtype": "Link", "options": "User", "width": 160},
    {"fieldname": "month_label", "label": "Month", "fieldtype": "Data", "width": 120},
    {"fieldname": "assigned", "label": "Assigned", **COUNT},
    {"fieldname": "won", "label": "Closed Won", **COUNT},
    {"fieldname": "lost", "label": "Closed Lost", **COUNT},
    {"fieldname": "close_rate_percent", "label": "Close Rate %", "fieldtype": "Percent", "width": 120},
    {"fieldname": "win_rate_percent", "label": "Win Rate %", "fieldtype": "Percent", "width": 120},
]


def execute(filters=None):
    filters = filters if isinstance(filters, dict) else {}
    return COLUMNS, reports.opportunities_assigned_closed(*period(filters), salesperson=filters.get("salesperson"))
