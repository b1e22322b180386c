"""Accounts Receivable (ERPNext's name): per customer, what the submitted invoices still
owe on a date, aged by days past their due date (not yet due, 1-30, 31-60, 61-90, over
90), with the total as the report summary. Read through lowcode.get_list, so only the
invoices the user may read count."""
import datetime

import lowcode
from lowcode.exceptions import ValidationError
from lowcode.utils import today

from crm_app.totals import round_money

# Ageing buckets by days past the due date: (column, up to N days late); the last is open-ended.
BUCKETS = [{"fieldname": "not_due", "label": "Not Due", "upto": 0},
           {"fieldname": "range1", "label": "1-30 Days", "upto": 30},
           {"fieldname": "range2", "label": "31-60 Days", "upto": 60},
           {"fieldname": "range3", "label": "61-90 Days", "upto": 90},
           {"fieldname": "range4", "label": "Over 90 Days", "upto": None}]
COLUMNS = [{"fieldname": "customer", "label": "Customer", "fieldtype": "Link", "options": "Customer", "width": 200},
           {"fieldname": "invoices", "label": "Invoices", "fieldtype": "Int", "width": 90},
           {"fieldname": "outstanding", "label": "Outstanding", "fieldtype": "Currency", "width": 130}] + [
    {"fieldname": b["fieldname"], "label": b["label"], "fieldtype": "Currency", "width": 110} for b in BUCKETS]


def _bucket(days_late):
    return next(b["fieldname"] for b in BUCKETS if b["upto"] is None or days_late <= b["upto"])


def receivables(report_date=None, customer=None):
    try:
        on = datetime.date.fromisoformat(str(report_date or today())[:10])
    except ValueError:
        raise ValidationError(f"report_date is not a date (YYYY-MM-DD): {report_date!r}", field="report_date") from None
    filters = [["docstatus", "=", 1], ["outstanding_amount", ">", 0], ["posting_date", "<=", on.isoformat()]]
    if customer:
        filters.append(["customer", "=", customer])
    rows = {}
    for inv in lowcode.get_list("Sales Invoice", fields=["customer", "due_date", "posting_date", "outstanding_amount"],
                                filters=filters, order_by="customer asc", limit_page_length=0):
        row = rows.setdefault(inv["customer"], dict({"customer": inv["customer"], "invoices": 0, "outstanding": 0.0},
                                                    **{b["fieldname"]: 0.0 for b in BUCKETS}))
        due = datetime.date.fromisoformat(str(inv["due_date"] or inv["posting_date"])[:10])
        amount = float(inv["outstanding_amount"] or 0)
        row["invoices"] += 1
        row["outstanding"] = round_money(row["outstanding"] + amount)
        key = _bucket((on - due).days)
        row[key] = round_money(row[key] + amount)
    return sorted(rows.values(), key=lambda r: (-r["outstanding"], r["customer"]))


def execute(filters=None):
    filters = filters if isinstance(filters, dict) else {}
    rows = receivables(filters.get("report_date"), filters.get("customer"))
    summary = [{"value": round_money(sum(r["outstanding"] for r in rows)), "label": "Outstanding",
                "datatype": "Currency"},
               {"value": round_money(sum(r["outstanding"] - r["not_due"] for r in rows)), "label": "Overdue",
                "datatype": "Currency"}]
    return COLUMNS, rows, None, None, summary
