"""Contact: a person at a customer, supplier or partner."""
from lowcode.document import Document


class Contact(Document):
    def validate(self):
        from crm_app.doctype.lead.lead import normalised_phone
        self.full_name = " ".join(p for p in (self.first_name, self.last_name) if p)
        # The caller lookup of telephony finds the contact by these (indexed) columns.
        self.mobile_e164 = normalised_phone(self.mobile_no)
        self.phone_e164 = normalised_phone(self.phone)
        from crm_app.parties import set_link_titles
        set_link_titles(self)
