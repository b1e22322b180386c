"""Sales Cycle: crm_app.reports.sales_cycle as a Script Report: days from a lead's
arrival to the win, per salesperson, territory or source."""
from crm_app import reports
from crm_app.report import period

DAYS = {"fieldtype": "Float", "width": 120}
GROUP_COLUMNS = [{"key": "rep", "label": "Salesperson"}, {"key": "territory", "label": "Territory"},
                 {"key": "source", "label": "Source"}]
COLUMNS = [
    {"fieldname": "won", "label": "Won", "fieldtype": "Int", "width": 100},
    {"fieldname": "average_days", "label": "Average Cycle (days)", **DAYS},
    {"fieldname": "median_days", "label": "Median Cycle (days)", **DAYS},
    {"fieldname": "shortest_days", "label": "Shortest (days)", "fieldtype": "Int", "width": 120},
    {"fieldname": "longest_days", "label": "Longest (days)", "fieldtype": "Int", "width": 120},
]
OPTIONS = {"rep": "User", "territory": "Territory", "source": "Lead Source"}


def execute(filters=None):
    filters = filters if isinstance(filters, dict) else {}
    group_by = filters.get("group_by") or "rep"
    rows = reports.sales_cycle(*period(filters), group_by=group_by)
    key = reports.group_dimensions(group_by, reports.CYCLE_GROUPS)[0]
    label = next(c["label"] for c in GROUP_COLUMNS if c["key"] == key)
    first = {"fieldname": "group", "label": label, "fieldtype": "Link", "options": OPTIONS[key], "width": 160}
    return [first] + COLUMNS, rows
