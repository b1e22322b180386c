"""Cases by Customer: the customers with most cases opened in the period and their net
revenue (service_app.reports.period_figures), with the period's service level (response
and resolution medians, SLA compliance, reopen rate) as the report summary."""
from crm_app.report import period
from service_app import reports

COLUMNS = [
    {"fieldname": "customer", "label": "Customer", "fieldtype": "Link", "options": "Customer", "width": 200},
    {"fieldname": "cases", "label": "Cases", "fieldtype": "Int", "width": 100},
    {"fieldname": "revenue", "label": "Net revenue", "fieldtype": "Currency", "width": 140},
]


def execute(filters=None):
    f = reports.period_figures(*period(filters))
    summary = [{"value": f["cases"], "label": "Cases", "datatype": "Int"},
               {"value": f["first_response"]["median_hours"], "label": "Median First Response (hours)",
                "datatype": "Float"},
               {"value": f["resolution"]["median_hours"], "label": "Median Resolution (hours)", "datatype": "Float"},
               {"value": f["sla"]["compliance_percent"], "label": "SLA Compliance %", "datatype": "Percent"},
               {"value": f["reopen"]["rate_percent"], "label": "Reopen Rate %", "datatype": "Percent"}]
    return COLUMNS, f["customers"], None, None, summary
