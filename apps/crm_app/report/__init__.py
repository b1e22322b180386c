"""The CRM's standard Script Reports, in Frappe's layout: ``<name>/<name>.json`` (the
Report record, installed with the app), ``<name>.py`` (``execute(filters)``, Frappe's
``(columns, rows, message, chart, report_summary)``) and ``<name>.js`` (the filters a
Frappe client shows). Their figures come from crm_app/reports.py, so they follow the
same scope rules as the sales dashboard (aggregates for analysts, own rows otherwise)."""


def period(filters):
    """(from_date, to_date) of a report's filters (Frappe sends them as an object)."""
    filters = filters if isinstance(filters, dict) else {}
    return filters.get("from_date"), filters.get("to_date")


def roi_columns(first):
    """Source ROI's and Campaign ROI's columns: the same figures after a different first column."""
    money, count = {"fieldtype": "Currency", "width": 120}, {"fieldtype": "Int", "width": 120}
    return [first,
            {"fieldname": "cost", "label": "Cost", **money},
            {"fieldname": "leads", "label": "Leads", **count},
            {"fieldname": "converted_leads", "label": "Converted Leads", **count},
            {"fieldname": "opportunities", "label": "Opportunities", **count},
            {"fieldname": "won", "label": "Won", **count},
            {"fieldname": "revenue", "label": "Net revenue", **money},
            {"fieldname": "cost_per_lead", "label": "Cost per Lead", **money},
            {"fieldname": "roi_percent", "label": "ROI %", "fieldtype": "Percent", "width": 120}]
