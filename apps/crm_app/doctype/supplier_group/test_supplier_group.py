"""Supplier Groups: named by their name (a second one of the same name is refused), picked
on a Supplier, which must name an existing group."""
import pytest

import lowcode
from lowcode.exceptions import DuplicateEntryError, LinkValidationError


def test_named_by_name_and_unique(ctx, unique):
    group = lowcode.get_doc({"doctype": "Supplier Group", "supplier_group_name": f"Raw materials {unique}"}).insert()
    assert group.name == f"Raw materials {unique}"
    with pytest.raises(DuplicateEntryError):
        lowcode.get_doc({"doctype": "Supplier Group", "supplier_group_name": f"Raw materials {unique}"}).insert()
    supplier = lowcode.get_doc({"doctype": "Supplier", "supplier_name": f"Steel {unique}",
                                "supplier_group": group.name}).insert()
    assert lowcode.db.get_value("Supplier", supplier.name, "supplier_group") == group.name
    with pytest.raises(LinkValidationError) as e:
        lowcode.get_doc({"doctype": "Supplier", "supplier_name": f"Ghost {unique}",
                         "supplier_group": f"No group {unique}"}).insert()
    assert e.value.field == "supplier_group"
