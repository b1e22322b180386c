"""Campaign ROI: crm_app.reports.campaign_roi as a Script Report."""
from crm_app import reports
from crm_app.report import period, roi_columns

COLUMNS = roi_columns({"fieldname": "campaign", "label": "Campaign", "fieldtype": "Link", "options": "Campaign", "width": 160})


def execute(filters=None):
    return COLUMNS, reports.campaign_roi(*period(filters))
