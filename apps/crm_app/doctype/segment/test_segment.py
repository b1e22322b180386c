"""Segments: saved filters over Leads, Contacts or Customers. Members by product bought
and plain list filters; a segment from a saved list view (one's own views only); the
DocType must be one a campaign sends to, the view one of those DocTypes', and the filters
name real fields (each refused naming its field). Who a segment reaches when a campaign
sends is tested in doctype/campaign/test_campaign.py."""
import json
import urllib.parse

import pytest

import lowcode
from lowcode.exceptions import ValidationError

from crm_app import campaigns
from crm_app.tests.helpers import (as_user, make_customer, make_lead, make_opportunity, make_product, make_quotation,
                                   make_segment, make_territory, make_user, tag)


def test_product_bought_segment(ctx):
    product = make_product()
    buyer, other = make_customer(email_id=f"b-{tag()}@example.com"), make_customer()
    make_quotation(buyer.name, [{"product": product, "qty": 1, "rate": 5}])
    lead = make_lead("Prospect", consent_email=1)
    make_opportunity(lead.name, opportunity_from="Lead", items=[{"product": product, "qty": 1, "rate": 5}])
    assert [r["name"] for r in campaigns.matching_records(make_segment("Customer", product=product))] == [buyer.name]
    assert [r["name"] for r in campaigns.matching_records(make_segment("Lead", product=product))] == [lead.name]
    assert campaigns.matching_records(make_segment("Customer", product=make_product())) == []
    assert other.name  # a customer without the product is left out
    # VIP tier and group are plain list filters; lead score too.
    gold = make_customer(vip_tier="Gold")
    vip = make_segment("Customer", filters=[["Customer", "vip_tier", "in", ["Gold", "Platinum"]],
                                            ["Customer", "name", "in", [gold.name, buyer.name]]])
    assert [r["name"] for r in campaigns.matching_records(vip)] == [gold.name]
    hot = make_lead("Hot", consent_email=1)
    # the score is the scoring rules' points (crm_app/scoring.py): set as their nightly run would
    lowcode.db.sql("UPDATE `tabLead` SET `lead_score`=90 WHERE `name`=%s", (hot.name,))
    scored = make_segment(filters=[["Lead", "lead_score", ">=", 80], ["Lead", "name", "in", [hot.name, lead.name]]])
    assert [r["name"] for r in campaigns.matching_records(scored)] == [hot.name]


def test_segment_from_a_saved_list_view(ctx, unique):
    from lowcode.desk.views.bulk import save_view
    from lowcode.exceptions import PermissionError
    marketer = make_user(unique, "viewer", roles=("Marketing User",))
    other = make_user(unique, "otherviewer", roles=("Marketing User",))
    territory = make_territory(f"View {unique}")
    lead = make_lead("Viewed", territory=territory, lead_owner=marketer, consent_email=1)
    make_lead("Outside", lead_owner=marketer, consent_email=1)
    with as_user(marketer):
        view = save_view("Lead", f"North {unique}", urllib.parse.urlencode({"territory": territory}))
        segment = lowcode.get_doc({"doctype": "Segment", "segment_name": f"From view {unique}",
                                   "segment_doctype": "Contact", "list_view": view.name}).insert()
        assert segment.segment_doctype == "Lead" and territory in segment.filters_json
        assert [r["name"] for r in campaigns.matching_records(segment, user=marketer)] == [lead.name]
        assert segment.total_subscribers == 1
    with as_user(other), pytest.raises(PermissionError):
        lowcode.get_doc({"doctype": "Segment", "segment_name": f"Stolen {unique}", "segment_doctype": "Lead",
                         "list_view": view.name}).insert()



@pytest.mark.parametrize("doctype", ["Opportunity", "User"])
def test_only_leads_contacts_and_customers(ctx, doctype):
    with pytest.raises(ValidationError) as e:
        make_segment(doctype)
    assert e.value.field == "segment_doctype"


def test_a_view_of_another_doctype_is_refused(ctx, unique):
    from lowcode.desk.views.bulk import save_view
    view = save_view("Opportunity", f"Big deals {unique}", urllib.parse.urlencode({"sales_stage": "Proposal"}))
    with pytest.raises(ValidationError) as e:
        lowcode.get_doc({"doctype": "Segment", "segment_name": f"Wrong view {unique}",
                         "list_view": view.name}).insert()
    assert e.value.field == "list_view"


def test_filters_on_an_unknown_field_are_refused(ctx):
    with pytest.raises(ValidationError) as e:
        make_segment(filters=[["Lead", "no_such_field", "=", 1]])
    assert "no_such_field" in str(e.value)
    assert not lowcode.db.exists("Segment", {"filters_json": json.dumps([["Lead", "no_such_field", "=", 1]])})


def test_the_preview_counts_the_matching_records(ctx, unique):
    territory = make_territory(f"Preview {unique}")
    for name in ("One", "Two", "Three"):
        make_lead(name, territory=territory, consent_email=1)
    segment = make_segment(filters=[["Lead", "territory", "=", territory]])
    assert segment.total_subscribers == 3
    assert lowcode.db.get_value("Segment", segment.name, "total_subscribers") == 3
