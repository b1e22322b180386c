"""Source ROI: crm_app.reports.source_roi as a Script Report."""
from crm_app import reports
from crm_app.report import period, roi_columns

COLUMNS = roi_columns({"fieldname": "source", "label": "Lead Source", "fieldtype": "Link", "options": "Lead Source", "width": 160})


def execute(filters=None):
    return COLUMNS, reports.source_roi(*period(filters))
