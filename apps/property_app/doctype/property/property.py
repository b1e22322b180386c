from lowcode.document import Document
from lowcode.exceptions import ValidationError


class Property(Document):
    def validate(self):
        if self.price is not None and self.price < 0:
            raise ValidationError("the price cannot be negative", field="price")
