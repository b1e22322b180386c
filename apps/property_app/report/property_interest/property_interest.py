"""Property Interest: how many properties each status holds, what they are worth and
how many leads are interested in them; the totals as the report summary. Read through
get_list, so a user sees only the properties their permissions let through."""
import lowcode

COLUMNS = [
    {"fieldname": "status", "label": "Status", "fieldtype": "Data", "width": 140},
    {"fieldname": "properties", "label": "Properties", "fieldtype": "Int", "width": 120},
    {"fieldname": "value", "label": "Total Price", "fieldtype": "Currency", "width": 140},
    {"fieldname": "leads", "label": "Interested Leads", "fieldtype": "Int", "width": 140},
]


def execute(filters=None):
    filters = filters if isinstance(filters, dict) else {}
    where = [["status", "=", filters["status"]]] if filters.get("status") else []
    if filters.get("min_price") not in (None, ""):
        where.append(["price", ">=", filters["min_price"]])
    by_status = {}
    for p in lowcode.get_list("Property", fields=["status", "price", "lead_count"], filters=where,
                              limit_page_length=0):
        row = by_status.setdefault(p["status"], {"status": p["status"], "properties": 0, "value": 0.0, "leads": 0})
        row["properties"] += 1
        row["value"] += float(p["price"] or 0)
        row["leads"] += int(p["lead_count"] or 0)
    rows = [by_status[s] for s in sorted(by_status)]
    summary = [{"value": sum(r["properties"] for r in rows), "label": "Properties", "datatype": "Int"},
               {"value": sum(r["leads"] for r in rows), "label": "Interested Leads", "datatype": "Int",
                "indicator": "Blue"}]
    return COLUMNS, rows, None, None, summary
