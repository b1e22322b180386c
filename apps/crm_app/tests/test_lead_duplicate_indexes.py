"""The lead duplicate check runs on every save (a Data Import's every row): its lookups
must use an index on both engines, or a large import turns quadratic."""
import lowcode
from lowcode.context import local

from crm_app.doctype.lead.lead import duplicate_signals


def plan(sql, values):
    if local.db.db_type == "sqlite":
        return " ".join(str(r[-1]) for r in local.db.sql(f"EXPLAIN QUERY PLAN {sql}", values))
    return " ".join(str(r) for r in local.db.sql(f"EXPLAIN {sql}", values, as_dict=True))


def test_duplicate_lookups_use_an_index(ctx, unique):
    lead = lowcode.get_doc({"doctype": "Lead", "first_name": "Dup", "last_name": unique, "lead_date": "2024-01-01",
                            "email_id": f"Dup.{unique}@Example.com", "company_name": f"Dup Co {unique}"}).insert()
    twin = lowcode.get_doc({"doctype": "Lead", "first_name": "Dup", "last_name": unique, "lead_date": "2024-01-02",
                            "email_id": f"dup.{unique}@example.COM"}).insert()
    assert twin.duplicate_of == lead.name  # any case is the same address
    for condition, values in duplicate_signals(lead):
        found = plan(f"SELECT `name` FROM `tabLead` WHERE {condition} AND `name`!=%s", values + [""])
        if local.db.db_type == "sqlite":
            assert "USING INDEX" in found and "SCAN" not in found, (condition, found)
        else:
            assert "'key': None" not in found and "'type': 'ALL'" not in found, (condition, found)
