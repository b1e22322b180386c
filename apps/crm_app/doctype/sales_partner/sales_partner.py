"""Sales Partner: a reseller, agent or distributor who sells for the business for a
commission, a party of its own (contacts, addresses, relations, 360° view)."""
from lowcode.document import Document
from lowcode.exceptions import ValidationError


class SalesPartner(Document):
    def validate(self):
        from crm_app.doctype.lead.lead import normalised_phone
        self.mobile_e164 = normalised_phone(self.mobile_no)
        rate = float(self.commission_rate or 0)
        if not 0 <= rate <= 100:
            raise ValidationError(f"Commission Rate must be between 0 and 100, not {rate:g}", field="commission_rate")

    def on_update(self):
        from crm_app.parties import refresh_link_titles
        refresh_link_titles(self)
