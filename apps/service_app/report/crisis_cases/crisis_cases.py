"""Crisis Cases: the open crisis cases the user may read, oldest first
(service_app.reports.crisis_cases)."""
from service_app import reports

COLUMNS = [
    {"fieldname": "name", "label": "Case", "fieldtype": "Link", "options": "Case", "width": 120},
    {"fieldname": "subject", "label": "Subject", "fieldtype": "Data", "width": 220},
    {"fieldname": "customer", "label": "Customer", "fieldtype": "Link", "options": "Customer", "width": 160},
    {"fieldname": "priority", "label": "Priority", "fieldtype": "Link", "options": "Issue Priority", "width": 100},
    {"fieldname": "status", "label": "Status", "fieldtype": "Data", "width": 120},
    {"fieldname": "assigned_to", "label": "Assigned To", "fieldtype": "Link", "options": "User", "width": 160},
    {"fieldname": "opened_on", "label": "Opened On", "fieldtype": "Datetime", "width": 160},
]


def execute(filters=None):
    return COLUMNS, reports.crisis_cases()
