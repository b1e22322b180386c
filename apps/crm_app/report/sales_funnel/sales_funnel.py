"""Sales Funnel: crm_app.reports.sales_funnel as a Script Report: a row per stage with
how many reached it and the rate from the stage before; a bar chart of the counts and
the unqualified leads in the summary."""
from crm_app import reports
from crm_app.report import period

COLUMNS = [
    {"fieldname": "stage", "label": "Stage", "fieldtype": "Data", "width": 160},
    {"fieldname": "count", "label": "Count", "fieldtype": "Int", "width": 120},
    {"fieldname": "rate_from_previous", "label": "Rate from Previous Stage %", "fieldtype": "Percent", "width": 160},
]


def execute(filters=None):
    funnel = reports.sales_funnel(*period(filters))
    rates = {(c["from"], c["to"]): c["rate"] for c in funnel["conversion"]}
    rows, previous = [], None
    for s in funnel["stages"]:
        rows.append({"stage": s["stage"], "count": s["count"],
                     "rate_from_previous": rates.get((previous, s["stage"])) if previous else None})
        previous = s["stage"]
    chart = {"type": "bar", "data": {"labels": [r["stage"] for r in rows],
                                     "datasets": [{"name": "Count", "values": [r["count"] for r in rows]}]}}
    summary = [{"value": funnel["unqualified"], "label": "Unqualified", "datatype": "Int", "indicator": "Red"}]
    return COLUMNS, rows, None, chart, summary
