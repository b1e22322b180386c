"""Customer: an organisation or a person the business sells to."""
from lowcode.document import Document


class Customer(Document):
    def validate(self):
        from crm_app.doctype.lead.lead import normalised_phone
        if not int(self.is_blocked or 0):
            self.blocked_reason = None
        self.mobile_e164 = normalised_phone(self.mobile_no)  # conversion finds the customer by it
