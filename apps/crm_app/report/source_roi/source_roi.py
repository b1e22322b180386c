"""Source ROI: crm_app.reports.source_roi as a Script Report."""
from crm_app import reports
from crm_app.report import period

COLUMNS = [
    {"fieldname": "source", "label": "Lead Source", "fieldtype": "Link", "options": "Lead Source", "width": 160},
    {"fieldname": "cost", "label": "Cost", "fieldtype": "Currency", "width": 120},
    {"fieldname": "leads", "label": "Leads", "fieldtype": "Int", "width": 120},
    {"fieldname": "converted_leads", "label": "Converted Leads", "fieldtype": "Int", "width": 120},
    {"fieldname": "opportunities", "label": "Opportunities", "fieldtype": "Int", "width": 120},
    {"fieldname": "won", "label": "Won", "fieldtype": "Int", "width": 120},
    {"fieldname": "revenue", "label": "Revenue", "fieldtype": "Currency", "width": 120},
    {"fieldname": "cost_per_lead", "label": "Cost per Lead", "fieldtype": "Currency", "width": 120},
    {"fieldname": "roi_percent", "label": "ROI %", "fieldtype": "Percent", "width": 120},
]


def execute(filters=None):
    return COLUMNS, reports.source_roi(*period(filters))
