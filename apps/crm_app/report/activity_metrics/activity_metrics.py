"""Activity Metrics: crm_app.reports.activity_metrics as a Script Report: calls by hour
of day as rows, the period's totals (calls, connected, talk time, meetings, tasks,
messages) as the report summary."""
from crm_app import reports
from crm_app.report import period

COLUMNS = [
    {"fieldname": "hour", "label": "Hour", "fieldtype": "Int", "width": 100},
    {"fieldname": "calls", "label": "Calls", "fieldtype": "Int", "width": 120},
    {"fieldname": "connected", "label": "Connected", "fieldtype": "Int", "width": 120},
]
SUMMARY = (("calls", "Calls", "Int"), ("connected", "Connected", "Int"), ("connected_percent", "Connected %", "Percent"),
           ("outgoing", "Outgoing", "Int"), ("incoming", "Incoming", "Int"),
           ("average_talk_seconds", "Average Talk (seconds)", "Float"), ("meetings", "Meetings", "Int"),
           ("tasks_completed", "Tasks Completed", "Int"), ("messages", "Messages", "Int"))


def execute(filters=None):
    m = reports.activity_metrics(*period(filters))
    summary = [{"value": m[key], "label": label, "datatype": kind} for key, label, kind in SUMMARY]
    return COLUMNS, m["by_hour"], None, None, summary
