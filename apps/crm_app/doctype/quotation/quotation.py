"""Quotation (pre-invoice): items, discounts, taxes and totals; accepting it wins
its opportunity."""
import datetime

import lowcode
from lowcode.context import local
from lowcode.document import Document
from lowcode.exceptions import ValidationError
from lowcode.utils import today
from lowcode.workflow import add_comment, apply_workflow

from crm_app.parties import check_not_blocked, customer_of, party_title, settings
from crm_app.totals import set_totals


class Quotation(Document):
    def validate(self):
        self.customer_name = party_title(self.quotation_to, self.party_name)
        before = self._doc_before_save
        if self.is_new() or (before and before.party_name != self.party_name):
            check_not_blocked(customer_of(self.quotation_to, self.party_name), "quotations")
        if not self.valid_till and self.transaction_date:
            days = int(settings().quotation_validity_days or 30)
            self.valid_till = (datetime.date.fromisoformat(self.transaction_date)
                               + datetime.timedelta(days=days)).isoformat()
        if self.valid_till and self.transaction_date and self.valid_till < self.transaction_date:
            raise ValidationError("Valid Till is before the quotation date", field="valid_till")
        self.compute_totals()

    def compute_totals(self):
        self.price_list = self.price_list or settings().default_price_list
        set_totals(self, self.price_list, self.transaction_date)

    def on_update(self):
        before = self._doc_before_save
        if self.status == "Accepted" and (before is None or before.status != "Accepted") and self.opportunity:
            mark_opportunity_won(self)


def mark_opportunity_won(quotation):
    """An accepted quotation wins its opportunity, whatever stage it was in: the
    system takes the step, and the timeline says why."""
    opp = lowcode.get_doc("Opportunity", quotation.opportunity)
    if opp.sales_stage == "Won":
        return
    opp.sales_stage = "Won"
    opp.opportunity_amount = quotation.net_total  # revenue is net: taxes are not ours
    opp.grand_total = quotation.grand_total
    opp.flags.workflow_action = "Win"
    opp.flags.ignore_permissions = True
    try:
        opp.save()
    finally:
        opp.flags.workflow_action = None
    add_comment("Opportunity", opp.name, "Workflow", f"Won: quotation {quotation.name} was accepted")
    local.flags.opportunity_won = opp.name


OPEN_STATES = ("Draft", "Sent")


def lose_open_quotations(opportunity):
    """A lost opportunity loses its open quotations, each through the workflow's Lose
    step taken by the user who lost the deal (the same roles may take both)."""
    for name in local.db.sql("SELECT `name` FROM `tabQuotation` WHERE `opportunity`=%s AND `status` IN (%s, %s) "
                             "ORDER BY `creation`", (opportunity, *OPEN_STATES), pluck=True):
        apply_workflow(lowcode.get_doc("Quotation", name), "Lose")


def expire_quotations():
    """Daily: sent quotations whose valid-till date has passed take the Expire step, as
    the system (Administrator), so the timeline and versions record it like any step."""
    previous = local.user
    lowcode.set_user("Administrator")
    try:
        names = local.db.sql("SELECT `name` FROM `tabQuotation` WHERE `status`='Sent' AND `valid_till` < %s "
                             "ORDER BY `valid_till`", (today(),), pluck=True)
        for name in names:
            apply_workflow(lowcode.get_doc("Quotation", name), "Expire")
    finally:
        lowcode.set_user(previous)
    return len(names)
