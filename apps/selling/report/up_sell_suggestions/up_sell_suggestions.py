"""Up-sell Suggestions: for a customer, the products similar customers bought and this
one has not, scored by how many similar customers bought each (selling/postsale.py upsell)."""
from lowcode.exceptions import ValidationError

from selling.postsale import upsell

COLUMNS = [
    {"fieldname": "product", "label": "Product", "fieldtype": "Link", "options": "Product", "width": 200},
    {"fieldname": "score", "label": "Similar Customers Who Bought It", "fieldtype": "Int", "width": 160},
]


def execute(filters=None):
    filters = filters if isinstance(filters, dict) else {}
    if not filters.get("customer"):
        raise ValidationError("customer is required", field="customer")
    return COLUMNS, upsell(filters["customer"])
