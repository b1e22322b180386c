"""Customer: an organisation or a person the business sells to."""
from lowcode.document import Document


class Customer(Document):
    def validate(self):
        if not int(self.is_blocked or 0):
            self.blocked_reason = None
