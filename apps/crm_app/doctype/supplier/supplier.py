"""Supplier: an organisation or person the business buys from, a party of its own
(contacts, addresses, relations and a 360° view: crm_app/party_360.py)."""
from lowcode.document import Document


class Supplier(Document):
    def validate(self):
        from crm_app.doctype.lead.lead import normalised_phone
        self.mobile_e164 = normalised_phone(self.mobile_no)  # found by phone as a Customer is

    def on_update(self):
        from crm_app.parties import refresh_link_titles
        refresh_link_titles(self)
