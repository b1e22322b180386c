"""The CRM's standard Script Reports, in Frappe's layout: ``<name>/<name>.json`` (the
Report record, installed with the app), ``<name>.py`` (``execute(filters)``, Frappe's
``(columns, rows, message, chart, report_summary)``) and ``<name>.js`` (the filters a
Frappe client shows). Their figures come from crm_app/reports.py, so they follow the
same scope rules as the sales dashboard (aggregates for analysts, own rows otherwise)."""


def period(filters):
    """(from_date, to_date) of a report's filters (Frappe sends them as an object)."""
    filters = filters if isinstance(filters, dict) else {}
    return filters.get("from_date"), filters.get("to_date")
