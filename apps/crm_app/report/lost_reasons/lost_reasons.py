"""Lost Reasons: crm_app.reports.lost_reasons as a Script Report."""
from crm_app import reports
from crm_app.report import period

COLUMNS = [
    {"fieldname": "lost_reason", "label": "Lost Reason", "fieldtype": "Data", "width": 160},
    {"fieldname": "count", "label": "Count", "fieldtype": "Int", "width": 120},
    {"fieldname": "amount", "label": "Amount", "fieldtype": "Currency", "width": 120},
]


def execute(filters=None):
    return COLUMNS, reports.lost_reasons(*period(filters))
