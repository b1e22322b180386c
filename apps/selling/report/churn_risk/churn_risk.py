"""Churn Risk: customers with no purchase and no contact in the last N days, weighted by
their net revenue of the last 12 months, riskiest first (the first Limit, 500 by default;
selling/postsale.py churn_list: the risk formula). The page's "Create retention tasks" button makes the retention list's
tasks (postsale.create_retention_tasks)."""
from selling.postsale import churn_list

COLUMNS = [
    {"fieldname": "customer", "label": "Customer", "fieldtype": "Link", "options": "Customer", "width": 160},
    {"fieldname": "customer_name", "label": "Customer Name", "fieldtype": "Data", "width": 180},
    {"fieldname": "account_manager", "label": "Account Manager", "fieldtype": "Link", "options": "User", "width": 160},
    {"fieldname": "last_purchase", "label": "Last Purchase", "fieldtype": "Date", "width": 110},
    {"fieldname": "last_contact", "label": "Last Contact", "fieldtype": "Date", "width": 110},
    {"fieldname": "days_idle", "label": "Days Idle", "fieldtype": "Int", "width": 90},
    {"fieldname": "value", "label": "Net Revenue (12 Months)", "fieldtype": "Currency", "width": 140},
    {"fieldname": "risk", "label": "Risk Score", "fieldtype": "Currency", "width": 120},
]


def execute(filters=None):
    rows, count, value = churn_list(filters if isinstance(filters, dict) else {})
    summary = [{"value": count, "label": "Customers at Risk", "datatype": "Int"},
               {"value": value, "label": "Revenue at Risk", "datatype": "Currency"}]
    return COLUMNS, rows, None, None, summary
