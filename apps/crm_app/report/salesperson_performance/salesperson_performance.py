"""Salesperson Performance: crm_app.reports.salesperson_performance as a Script Report."""
from crm_app import reports
from crm_app.report import period

COLUMNS = [
    {"fieldname": "user", "label": "Salesperson", "fieldtype": "Link", "options": "User", "width": 160},
    {"fieldname": "leads", "label": "Leads", "fieldtype": "Int", "width": 120},
    {"fieldname": "contacted", "label": "Contacted", "fieldtype": "Int", "width": 120},
    {"fieldname": "converted", "label": "Converted", "fieldtype": "Int", "width": 120},
    {"fieldname": "lead_conversion_percent", "label": "Lead Conversion %", "fieldtype": "Percent", "width": 120},
    {"fieldname": "opportunities", "label": "Opportunities", "fieldtype": "Int", "width": 120},
    {"fieldname": "won", "label": "Won", "fieldtype": "Int", "width": 120},
    {"fieldname": "win_rate_percent", "label": "Win Rate %", "fieldtype": "Percent", "width": 120},
    {"fieldname": "avg_cycle_days", "label": "Average Cycle (days)", "fieldtype": "Float", "width": 120},
    {"fieldname": "revenue", "label": "Net revenue", "fieldtype": "Currency", "width": 120},
    {"fieldname": "target", "label": "Target", "fieldtype": "Currency", "width": 120},
    {"fieldname": "target_percent", "label": "Target %", "fieldtype": "Percent", "width": 120},
]


def execute(filters=None):
    return COLUMNS, reports.salesperson_performance(*period(filters))
