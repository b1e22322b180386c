"""Purchase Patterns: per customer and product, invoices, quantity, net revenue, first
and last purchase, average days between purchases and whether it is a repeat purchase;
the repeat rates as the summary (selling/postsale.py purchase_patterns)."""
from selling.postsale import purchase_patterns

COLUMNS = [
    {"fieldname": "customer", "label": "Customer", "fieldtype": "Link", "options": "Customer", "width": 180},
    {"fieldname": "product", "label": "Product", "fieldtype": "Link", "options": "Product", "width": 160},
    {"fieldname": "invoices", "label": "Invoices", "fieldtype": "Int", "width": 90},
    {"fieldname": "qty", "label": "Quantity", "fieldtype": "Float", "width": 90},
    {"fieldname": "net_revenue", "label": "Net Revenue", "fieldtype": "Currency", "width": 120},
    {"fieldname": "first_purchase", "label": "First Purchase", "fieldtype": "Date", "width": 110},
    {"fieldname": "last_purchase", "label": "Last Purchase", "fieldtype": "Date", "width": 110},
    {"fieldname": "avg_days_between", "label": "Average Days Between Purchases", "fieldtype": "Float", "width": 120},
    {"fieldname": "repeat", "label": "Repeat Purchase", "fieldtype": "Check", "width": 90},
]


def execute(filters=None):
    rows, s = purchase_patterns(filters if isinstance(filters, dict) else {})
    summary = [
        {"value": s["repeat_pairs"], "label": "Repeat Customer-Product Pairs", "datatype": "Int"},
        {"value": s["pair_repeat_rate"], "label": "Repeat Rate of Pairs (%)", "datatype": "Percent"},
        {"value": s["repeat_customers"], "label": "Repeat Customers", "datatype": "Int"},
        {"value": s["customer_repeat_rate"], "label": "Repeat Rate of Customers (%)", "datatype": "Percent"},
    ]
    return COLUMNS, rows, None, None, summary
