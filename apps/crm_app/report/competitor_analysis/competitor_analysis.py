"""Competitor Analysis: crm_app.reports.competitor_analysis as a Script Report."""
from crm_app import reports
from crm_app.report import period

COLUMNS = [
    {"fieldname": "competitor", "label": "Competitor", "fieldtype": "Link", "options": "Competitor", "width": 160},
    {"fieldname": "opportunities", "label": "Opportunities", "fieldtype": "Int", "width": 120},
    {"fieldname": "they_won", "label": "They Won", "fieldtype": "Int", "width": 120},
    {"fieldname": "we_won", "label": "We Won", "fieldtype": "Int", "width": 120},
    {"fieldname": "average_offer", "label": "Average Offer", "fieldtype": "Currency", "width": 120},
]


def execute(filters=None):
    return COLUMNS, reports.competitor_analysis(*period(filters))
