"""The customer's purchases in crm_app's 360° view, through its ``customer_360_sections``
hook (crm_app never imports this app): the submitted invoices with what they held, and
figures over them: revenue net of tax (what the goods and services earned), the invoiced
total with tax, and what is still outstanding.

Read through the permission-filtered query API: a user who may not read Sales Invoices
(a CRM salesperson without an accounts role) gets no section."""
from django.utils.translation import gettext as _

import lowcode

FIELDS = ["name", "posting_date", "status", "net_total", "grand_total", "outstanding_amount"]
LIMIT = 100


def invoice_section(customer):
    if not lowcode.has_permission("Sales Invoice", "read"):
        return None
    filters = {"customer": customer, "docstatus": 1}
    rows = lowcode.get_list("Sales Invoice", fields=FIELDS, filters=filters, order_by="posting_date desc",
                            limit_page_length=LIMIT)
    # The lines of the invoices just read (the user may read them: they are those invoices' rows).
    lines = {}
    if rows:
        for item in lowcode.get_all("Sales Invoice Item", fields=["parent", "product", "qty"],
                                    filters={"parenttype": "Sales Invoice",
                                             "parent": ["in", [r["name"] for r in rows]]}, order_by="idx asc"):
            lines.setdefault(item["parent"], []).append(f"{item['product']} × {float(item['qty'] or 0):g}")
    for r in rows:
        r["items"] = ", ".join(lines.get(r["name"], []))
    sums = lowcode.get_list("Sales Invoice", fields=["sum(net_total) as net", "sum(grand_total) as gross",
                                                     "sum(outstanding_amount) as outstanding", "count(name) as n"],
                            filters=filters, order_by=None, limit_page_length=0)[0]
    columns = [("posting_date", _("Date"), "Date"), ("items", _("Items"), "Data"), ("status", _("Status"), "Select"),
               ("net_total", _("Net (before tax)"), "Currency"), ("grand_total", _("Gross (with tax)"), "Currency"),
               ("outstanding_amount", _("Outstanding"), "Currency")]
    money = lambda v: round(float(v or 0), 2)  # noqa: E731
    return {
        "key": "purchases", "title": _("Purchase history"), "doctype": "Sales Invoice", "rows": rows,
        "columns": [{"field": f, "label": label, "fieldtype": t} for f, label, t in columns],
        "figures": [
            {"key": "revenue_net", "label": _("Revenue (net of tax)"), "fieldtype": "Currency",
             "value": money(sums["net"])},
            {"key": "invoiced_gross", "label": _("Invoiced (with tax)"), "fieldtype": "Currency",
             "value": money(sums["gross"])},
            {"key": "outstanding", "label": _("Outstanding"), "fieldtype": "Currency",
             "value": money(sums["outstanding"])},
            {"key": "invoices", "label": _("Invoices"), "fieldtype": "Int", "value": int(sums["n"] or 0)},
        ],
    }
