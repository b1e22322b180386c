"""Case Satisfaction: CSAT and NPS month by month (service_app.reports.satisfaction), the
period's overall figures as the report summary."""
from crm_app.report import period
from service_app import reports

COLUMNS = [
    {"fieldname": "month", "label": "Month", "fieldtype": "Data", "width": 120},
    {"fieldname": "csat", "label": "CSAT", "fieldtype": "Float", "width": 100},
    {"fieldname": "csat_answers", "label": "CSAT Answers", "fieldtype": "Int", "width": 120},
    {"fieldname": "nps", "label": "NPS", "fieldtype": "Float", "width": 100},
    {"fieldname": "nps_answers", "label": "NPS Answers", "fieldtype": "Int", "width": 120},
]


def execute(filters=None):
    figures = reports.satisfaction(*period(filters))
    overall = figures["overall"]
    summary = [{"value": overall["csat"], "label": "CSAT", "datatype": "Float"},
               {"value": overall["nps"], "label": "NPS", "datatype": "Float"}]
    return COLUMNS, figures["by_month"], None, None, summary
