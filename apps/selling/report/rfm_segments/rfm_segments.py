"""RFM Segments: per customer with invoices in the period, recency (days from the last
invoice to the To Date), frequency (invoices) and monetary value (net revenue), their
quintile scores 1-5 and the segment (selling/postsale.py rfm: the scoring rule and the
R x F segment table); the customers per segment as the summary and the chart."""
from selling.postsale import SEGMENTS, rfm

COLUMNS = [
    {"fieldname": "customer", "label": "Customer", "fieldtype": "Link", "options": "Customer", "width": 180},
    {"fieldname": "recency", "label": "Recency (Days)", "fieldtype": "Int", "width": 100},
    {"fieldname": "frequency", "label": "Frequency (Invoices)", "fieldtype": "Int", "width": 100},
    {"fieldname": "monetary", "label": "Monetary (Net Revenue)", "fieldtype": "Currency", "width": 130},
    {"fieldname": "r", "label": "R Score", "fieldtype": "Int", "width": 70},
    {"fieldname": "f", "label": "F Score", "fieldtype": "Int", "width": 70},
    {"fieldname": "m", "label": "M Score", "fieldtype": "Int", "width": 70},
    {"fieldname": "segment", "label": "Segment", "fieldtype": "Data", "width": 150},
]
#: the segments' names, for the translation catalogue (query_report.run translates labels)
LABELS = [{"label": "Hibernating"}, {"label": "At Risk"}, {"label": "Can't Lose"}, {"label": "About to Sleep"},
          {"label": "Need Attention"}, {"label": "Loyal Customers"}, {"label": "Promising"},
          {"label": "New Customers"}, {"label": "Potential Loyalists"}, {"label": "Champions"}]


def execute(filters=None):
    rows = rfm(filters if isinstance(filters, dict) else {})
    names = [name for _r, _f, name in SEGMENTS]
    counts = {name: sum(1 for r in rows if r["segment"] == name) for name in names}
    summary = [{"value": counts[name], "label": name, "datatype": "Int"} for name in names if counts[name]]
    chart = {"data": {"labels": [n for n in names if counts[n]],
                      "datasets": [{"name": "Customers", "values": [counts[n] for n in names if counts[n]]}]},
             "type": "bar"}
    return COLUMNS, rows, None, chart, summary
