"""Lead Score Calibration: the learned model's predicted conversion against the actual
conversion of the decided leads, by decile of the prediction (crm_app/scoring.py), each
lead predicted by a model that did not learn from it (its ``holdout_probability``), over
every lead for analysts, a salesperson's own leads otherwise (row rules in SQL)."""
import lowcode

from crm_app import scoring
from crm_app.permissions import aggregate_scope

COLUMNS = [
    {"fieldname": "decile", "label": "Decile", "fieldtype": "Int", "width": 100},
    {"fieldname": "leads", "label": "Leads", "fieldtype": "Int", "width": 100},
    {"fieldname": "mean_predicted", "label": "Mean Predicted %", "fieldtype": "Percent", "width": 150},
    {"fieldname": "actual_rate", "label": "Actual Conversion %", "fieldtype": "Percent", "width": 150},
]


def execute(filters=None):
    with aggregate_scope():  # an analyst's figures cover every lead (crm_app/reports.py)
        leads = lowcode.get_list("Lead", fields=["name", "holdout_probability"],
                                 filters=[["status", "in", ["Converted", "Unqualified"]],
                                          ["holdout_probability", "is", "set"]], limit_page_length=0)
    rows = scoring.calibration([(r["name"], r["holdout_probability"]) for r in leads])
    message = scoring.no_model_message()
    chart = {"type": "line", "data": {"labels": [str(r["decile"]) for r in rows], "datasets": [
        {"name": lowcode._("Mean Predicted %"), "values": [r["mean_predicted"] for r in rows]},
        {"name": lowcode._("Actual Conversion %"), "values": [r["actual_rate"] for r in rows]}]}} if rows else None
    return COLUMNS, rows, message, chart
