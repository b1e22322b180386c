"""Item Price: a product's rate in a price list, valid between two dates (either open).
As ERPNext's, a validity that ends before it starts is refused: such a price would never
apply and quotations would silently fall back to the standard rate."""
from lowcode import _
from lowcode.document import Document
from lowcode.exceptions import ValidationError


class ItemPrice(Document):
    def validate(self):
        if self.valid_from and self.valid_upto and str(self.valid_upto) < str(self.valid_from):
            raise ValidationError(_("Valid Upto is before Valid From"), field="valid_upto")
