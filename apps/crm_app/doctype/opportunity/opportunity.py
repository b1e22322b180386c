"""Opportunity: a likely sale, moving through pipeline stages to Won or Lost."""
from lowcode.document import Document
from lowcode.exceptions import ValidationError
from lowcode.utils import today

from crm_app.parties import check_not_blocked, customer_of, party_title
from crm_app.totals import set_item_amounts

STAGE_PROBABILITY = {"Prospecting": 10, "Qualification": 25, "Proposal": 50, "Negotiation": 75, "Won": 100, "Lost": 0}


class Opportunity(Document):
    def validate(self):
        self.customer_name = party_title(self.opportunity_from, self.party_name)
        if not self.title:
            self.title = self.customer_name or self.party_name  # as Frappe: the deal is named by its party
        before = self._doc_before_save
        if self.is_new() or (before and before.party_name != self.party_name):
            check_not_blocked(customer_of(self.opportunity_from, self.party_name), "opportunities")
        if self.items:
            set_item_amounts(self)
            if not self.opportunity_amount:
                self.opportunity_amount = self.total
        stage_changed = before is None or before.sales_stage != self.sales_stage
        if stage_changed or self.probability is None:
            self.probability = STAGE_PROBABILITY.get(self.sales_stage, self.probability)
        if self.sales_stage not in ("Won", "Lost"):
            self.closed_on = None  # open (or reopened): not closed yet
        elif stage_changed and not self.closed_on:
            self.closed_on = today()  # kept when given: imported history closes on its own day
        if self.closed_on and self.transaction_date and str(self.closed_on) < str(self.transaction_date):
            raise ValidationError("Closed On is before the opportunity date", field="closed_on")
        if self.sales_stage == "Won":
            self.won_amount = self.opportunity_amount
        if before is not None and before.sales_stage == "Lost" and self.sales_stage != "Lost":
            self.lost_reason = self.lost_to_competitor = None  # reopened: the old reason no longer holds
        if self.sales_stage == "Lost":
            self.record_competitor_win(check=stage_changed or before.lost_reason != self.lost_reason)

    def record_competitor_win(self, check=True):
        """Lost for a reason marked as a competitor's win: which competitor must be said
        (checked when the deal is lost or the reason changes, so older records still
        save), and their row in the competitors table says they won (added if missing)."""
        from lowcode.context import local
        from lowcode.exceptions import MandatoryError
        flagged = [r.competitor for r in self.get("competitors") or [] if int(r.won_by_competitor or 0)]
        if not self.lost_to_competitor and len(flagged) == 1:
            self.lost_to_competitor = flagged[0]  # ticked in the table: the same fact
        if check and self.lost_reason and not self.lost_to_competitor \
                and int(local.db.get_value("Lost Reason", self.lost_reason, "is_competitor") or 0):
            raise MandatoryError(f"Lost to a competitor ({self.lost_reason}): say which one",
                                 field="lost_to_competitor", doctype=self.doctype)
        if self.lost_to_competitor and not any(r.competitor == self.lost_to_competitor
                                               for r in self.get("competitors") or []):
            self.append("competitors", {"competitor": self.lost_to_competitor})
        for row in self.get("competitors") or []:
            row.won_by_competitor = 1 if row.competitor == self.lost_to_competitor else 0

    def on_update(self):
        before = self._doc_before_save
        if self.sales_stage == "Won" and (before is None or before.sales_stage != "Won") \
                and self.opportunity_from == "Lead":
            self.convert_lead_party()
        if self.sales_stage == "Lost" and (before is None or before.sales_stage != "Lost"):
            from crm_app.doctype.quotation.quotation import lose_open_quotations
            lose_open_quotations(self.name)

    def convert_lead_party(self):
        """Won from a lead: the lead becomes a customer and the opportunity follows it."""
        import lowcode
        from crm_app.conversion import make_customer
        lead = lowcode.get_doc("Lead", self.party_name)
        customer = make_customer(lead)
        from lowcode.context import local
        from lowcode.utils import now
        local.db.sql("UPDATE `tabLead` SET `customer`=%s, `opportunity`=%s, `status`='Converted', "
                     "`converted_on`=%s WHERE `name`=%s", (customer, self.name, now()[:19], lead.name))
        local.db.sql("UPDATE `tabOpportunity` SET `opportunity_from`='Customer', `party_name`=%s, `lead`=%s "
                     "WHERE `name`=%s", (customer, lead.name, self.name))
