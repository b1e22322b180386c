"""What the reports are computed from: business dates (when a lead arrived, a deal
opened and closed) apart from the time a record was typed in, and net amounts apart
from the taxes of an accepted quotation; migrate fills both in on older records."""
import pytest

import lowcode
from lowcode import installer
from lowcode.context import local

from crm_app.tests.helpers import make_customer, make_lead, make_opportunity, make_product, move, today


def _stored(doctype, name, *fields):
    return lowcode.get_all(doctype, filters={"name": name}, fields=list(fields), as_list=True)[0]


def test_business_dates_default_to_today_and_keep_a_given_day(ctx):
    assert str(make_lead().lead_date) == today()
    assert str(make_lead(lead_date="2024-05-01").lead_date) == "2024-05-01"
    customer = make_customer().name
    assert str(make_opportunity(customer).transaction_date) == today()
    assert str(make_opportunity(customer, transaction_date="2024-05-02").transaction_date) == "2024-05-02"


def test_closing_day_is_set_once_kept_when_given_and_cleared_on_reopening(ctx):
    customer = make_customer().name
    if not lowcode.db.exists("Lost Reason", "Figures test"):
        lowcode.get_doc({"doctype": "Lost Reason", "lost_reason": "Figures test"}).insert()
    opp = make_opportunity(customer, lost_reason="Figures test")
    move(opp, "Lose")
    assert str(opp.closed_on) == today()
    move(opp, "Reopen")
    assert opp.closed_on is None  # open again: not closed

    imported = make_opportunity(customer, transaction_date="2024-01-10", lost_reason="Figures test")
    imported.closed_on = "2024-02-20"
    move(imported, "Lose")
    assert str(imported.reload().closed_on) == "2024-02-20"


def test_closing_before_the_opportunity_date_is_refused(ctx):
    opp = make_opportunity(make_customer().name, transaction_date="2024-03-01")
    move(opp, "Qualify", "Propose")
    opp.closed_on = "2024-02-01"
    with pytest.raises(lowcode.ValidationError) as caught:
        move(opp, "Win")
    assert caught.value.field == "closed_on"
    assert _stored("Opportunity", opp.name, "sales_stage", "closed_on") == ["Proposal", None]


def test_quotation_keeps_net_and_gross_apart(ctx):
    customer = make_customer().name
    quotation = lowcode.get_doc({"doctype": "Quotation", "party_name": customer, "discount_amount": 100,
                                 "items": [{"product": make_product(rate=250), "qty": 4}],
                                 "taxes": [{"description": "VAT", "rate": 9}]}).insert()
    assert (float(quotation.total), float(quotation.net_total), float(quotation.total_taxes),
            float(quotation.grand_total)) == (1000, 900, 81, 981)


def test_migrate_fills_business_dates_and_splits_net_from_gross_on_older_records(ctx):
    customer = make_customer().name
    lead = make_lead()
    opp = make_opportunity(customer, amount=1)
    won = make_opportunity(customer, amount=1)
    quotation = lowcode.get_doc({"doctype": "Quotation", "party_name": customer, "opportunity": won.name,
                                 "items": [{"product": make_product(rate=1000), "qty": 1}],
                                 "taxes": [{"description": "VAT", "rate": 10}]}).insert()
    move(quotation, "Send", "Accept")
    # as the records were before: no business dates, the won amount with the VAT in it
    local.db.sql("UPDATE `tabLead` SET `lead_date`=NULL, `creation`='2023-04-05 10:00:00' WHERE `name`=%s",
                 (lead.name,))
    local.db.sql("UPDATE `tabOpportunity` SET `transaction_date`=NULL, `creation`='2023-04-06 11:00:00' "
                 "WHERE `name`=%s", (opp.name,))
    local.db.sql("UPDATE `tabOpportunity` SET `opportunity_amount`=1100, `won_amount`=1100, `grand_total`=NULL "
                 "WHERE `name`=%s", (won.name,))
    local.db.sql("UPDATE `tabQuotation` SET `net_total`=NULL WHERE `name`=%s", (quotation.name,))
    installer.migrate()
    assert str(lowcode.db.get_value("Lead", lead.name, "lead_date")) == "2023-04-05"
    assert str(lowcode.db.get_value("Opportunity", opp.name, "transaction_date")) == "2023-04-06"
    assert float(lowcode.db.get_value("Quotation", quotation.name, "net_total")) == 1000
    amounts = _stored("Opportunity", won.name, "opportunity_amount", "won_amount", "grand_total")
    assert [float(a) for a in amounts] == [1000, 1000, 1100]
