"""Weighted Pipeline: crm_app.reports.weighted_pipeline as a Script Report."""
from crm_app import reports

COLUMNS = [
    {"fieldname": "stage", "label": "Stage", "fieldtype": "Data", "width": 160},
    {"fieldname": "month", "label": "Expected Closing Month", "fieldtype": "Data", "width": 160},
    {"fieldname": "count", "label": "Count", "fieldtype": "Int", "width": 120},
    {"fieldname": "amount", "label": "Amount", "fieldtype": "Currency", "width": 120},
    {"fieldname": "weighted", "label": "Weighted Amount", "fieldtype": "Currency", "width": 120},
]


def execute(filters=None):
    return COLUMNS, reports.weighted_pipeline()
