"""Supplier Group: a kind of supplier (ERPNext's master), picked on Supplier."""
from lowcode.document import Document


class SupplierGroup(Document):
    pass
