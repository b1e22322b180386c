"""Customer: an organisation or a person the business sells to."""
from lowcode.document import Document


class Customer(Document):
    def validate(self):
        from crm_app.doctype.lead.lead import normalised_phone
        if not int(self.is_blocked or 0):
            self.blocked_reason = None
        self.mobile_e164 = normalised_phone(self.mobile_no)  # conversion finds the customer by it

    def after_rename(self, old, new, merge=False):
        """Records moved here by a merge still carry the merged customer's name as their
        party title: they take the survivor's."""
        from lowcode.context import local
        title = self.customer_name
        local.db.sql("UPDATE `tabOpportunity` SET `customer_name`=%s WHERE `opportunity_from`='Customer' "
                     "AND `party_name`=%s", (title, new))
        local.db.sql("UPDATE `tabQuotation` SET `customer_name`=%s WHERE `quotation_to`='Customer' "
                     "AND `party_name`=%s", (title, new))
        local.db.sql("UPDATE `tabDynamic Link` SET `link_title`=%s WHERE `link_doctype`='Customer' "
                     "AND `link_name`=%s", (title, new))
