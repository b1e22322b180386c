"""Campaign ROI: crm_app.reports.campaign_roi as a Script Report."""
from crm_app import reports
from crm_app.report import period

COLUMNS = [
    {"fieldname": "campaign", "label": "Campaign", "fieldtype": "Link", "options": "Campaign", "width": 160},
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
    return COLUMNS, reports.campaign_roi(*period(filters))
