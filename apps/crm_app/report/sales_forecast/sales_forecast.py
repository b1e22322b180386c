"""Sales Forecast: crm_app.reports.sales_forecast as a Script Report: a row per month,
salesperson and territory (or the dimensions chosen in group_by) with the pipeline,
commit, best case, won and target; a chart of them by month."""
from crm_app import reports
from crm_app.report import period

MONEY = {"fieldtype": "Currency", "width": 120}
DIMENSION_COLUMNS = {
    "month": {"fieldname": "month_label", "label": "Month", "fieldtype": "Data", "width": 120},
    "rep": {"fieldname": "salesperson", "label": "Salesperson", "fieldtype": "Link", "options": "User", "width": 160},
    "territory": {"fieldname": "territory", "label": "Territory", "fieldtype": "Link", "options": "Territory",
                  "width": 140},
}
FIGURE_COLUMNS = [
    {"fieldname": "open_count", "label": "Open Opportunities", "fieldtype": "Int", "width": 120},
    {"fieldname": "pipeline", "label": "Pipeline", **MONEY},
    {"fieldname": "weighted", "label": "Weighted Pipeline", **MONEY},
    {"fieldname": "commit", "label": "Commit", **MONEY},
    {"fieldname": "best_case", "label": "Best Case", **MONEY},
    {"fieldname": "won", "label": "Won", **MONEY},
    {"fieldname": "target", "label": "Target", **MONEY},
    {"fieldname": "attainment_percent", "label": "Attainment %", "fieldtype": "Percent", "width": 120},
]
CHART_FIGURES = [{"key": "weighted", "label": "Weighted Pipeline"}, {"key": "commit", "label": "Commit"},
                 {"key": "best_case", "label": "Best Case"}, {"key": "won", "label": "Won"},
                 {"key": "target", "label": "Target"}]


def execute(filters=None):
    filters = filters if isinstance(filters, dict) else {}
    group_by = filters.get("group_by") or "month,rep,territory"
    rows = reports.sales_forecast(*period(filters), salesperson=filters.get("salesperson"),
                                  territory=filters.get("territory"), group_by=group_by)
    dims = reports.group_dimensions(group_by, reports.FORECAST_DIMENSIONS)
    columns = [DIMENSION_COLUMNS[d] for d in dims] + FIGURE_COLUMNS
    chart = None
    if "month" in dims:
        labels = list(dict.fromkeys(r["month_label"] for r in rows))
        chart = {"type": "bar", "data": {"labels": labels, "datasets": [
            {"name": f["label"], "values": [round(sum(r[f["key"]] for r in rows if r["month_label"] == m), 2)
                                            for m in labels]} for f in CHART_FIGURES]}}
    return columns, rows, None, chart
