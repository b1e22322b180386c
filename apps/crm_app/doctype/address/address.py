"""Address: a postal address of a customer, supplier, sales partner or employee."""
from lowcode.document import Document


class Address(Document):
    def validate(self):
        from crm_app.parties import set_link_titles
        set_link_titles(self)
