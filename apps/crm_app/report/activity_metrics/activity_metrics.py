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
SUMMARY = [  # the labels as dicts: scripts/extract_messages.py collects "label" values for translation
    {"key": "calls", "label": "Calls", "datatype": "Int"},
    {"key": "connected", "label": "Connected", "datatype": "Int"},
    {"key": "connected_percent", "label": "Connected %", "datatype": "Percent"},
    {"key": "outgoing", "label": "Outgoing", "datatype": "Int"},
    {"key": "incoming", "label": "Incoming", "datatype": "Int"},
    {"key": "average_talk_seconds", "label": "Average Talk (seconds)", "datatype": "Float"},
    {"key": "meetings", "label": "Meetings", "datatype": "Int"},
    {"key": "tasks_completed", "label": "Tasks Completed", "datatype": "Int"},
    {"key": "messages", "label": "Messages", "datatype": "Int"},
]


def execute(filters=None):
    m = reports.activity_metrics(*period(filters))
    summary = [{"value": m[s["key"]], "label": s["label"], "datatype": s["datatype"]} for s in SUMMARY]
    return COLUMNS, m["by_hour"], None, None, summary
