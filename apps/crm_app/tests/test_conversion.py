"""Every way a lead becomes a customer, and what it carries over:

- convert_lead: only a Qualified lead; customer + contact + opportunity made from the
  lead's data; the lead's activities get ``customer`` and stay linked to the lead; its
  files show in the customer's 360° view; the lead goes to Converted by its workflow;
- an opportunity from a lead that is won makes the customer (Opportunity.convert_lead_party);
- an accepted quotation wins its opportunity with the quotation's grand total;
- a lead of an existing customer (name, tax id, e-mail, mobile) is refused until the
  user chooses that customer (it joins it) or chooses to create a new one.
"""
import pytest

import lowcode
from lowcode.api.files import save_file
from lowcode.exceptions import DuplicateEntryError, ValidationError

from crm_app.conversion import convert_lead
from crm_app.customer_360 import get_customer_360
from crm_app.tests.helpers import (as_user, make_customer, make_lead, make_opportunity, make_product, make_territory,
                                   make_user, move, qualify, today, unique_mobile)


def _full_lead(unique, **extra):
    territory = make_territory(f"Conv Territory {unique}")
    lowcode.get_doc({"doctype": "Industry", "industry": f"Conv Industry {unique}"}).insert()
    source = lowcode.get_doc({"doctype": "Lead Source", "source_name": f"Conv Source {unique}"}).insert().name
    campaign = lowcode.get_doc({"doctype": "Campaign", "campaign_name": f"Conv Campaign {unique}"}).insert().name
    values = dict(first_name="Nima", last_name="Rahimi", job_title="CTO", email_id=f"nima.{unique}@example.com",
                  mobile_no=unique_mobile(), phone="+98 21 8888 1234", company_name=f"Nima Soft {unique}",
                  territory=territory, industry=f"Conv Industry {unique}", website="https://nima.example.com",
                  city="Tehran", source=source, campaign=campaign, consent_email=1, consent_sms=0, consent_call=1)
    values.update(extra)
    return make_lead(**values)


@pytest.mark.parametrize("actions,status", [((), "New"), (("Contact",), "Contacted"),
                                            (("Disqualify",), "Unqualified")])
def test_convert_lead_refuses_unqualified_states(ctx, actions, status):
    lead = move(make_lead(), *actions)
    assert lead.status == status
    with pytest.raises(ValidationError) as e:
        convert_lead(lead.name)
    assert e.value.field == "status"
    assert status in e.value.message and "qualify" in e.value.message.lower()
    assert not lowcode.db.get_value("Lead", lead.name, "customer")
    assert lowcode.get_count("Customer", filters={"lead": lead.name}) == 0


def test_convert_lead_makes_customer_contact_and_opportunity(ctx, unique):
    owner = make_user(unique, "owner")
    lead = qualify(_full_lead(unique, lead_owner=owner))
    result = convert_lead(lead.name, opportunity_title="Pilot", opportunity_amount=25000,
                          expected_closing="2031-06-30")

    customer = lowcode.get_doc("Customer", result["customer"])
    assert customer.customer_name == f"Nima Soft {unique}"
    assert customer.customer_type == "Company"
    assert customer.territory == lead.territory and customer.industry == lead.industry
    assert customer.email_id == lead.email_id and customer.mobile_no == lead.mobile_no
    assert customer.website == lead.website and customer.city == "Tehran"
    assert customer.account_manager == owner
    assert customer.lead == lead.name

    contacts = lowcode.get_all("Contact", filters=[["Dynamic Link", "link_doctype", "=", "Customer"],
                                                   ["Dynamic Link", "link_name", "=", customer.name]], pluck="name")
    assert len(contacts) == 1
    contact = lowcode.get_doc("Contact", contacts[0])
    assert (contact.first_name, contact.last_name, contact.full_name) == ("Nima", "Rahimi", "Nima Rahimi")
    assert contact.designation == "CTO"
    assert contact.email_id == lead.email_id and contact.mobile_no == lead.mobile_no and contact.phone == lead.phone
    assert (contact.consent_email, contact.consent_sms, contact.consent_call) == (1, 0, 1)
    assert contact.party_type == "Customer"
    assert contact.links[0].link_title == customer.customer_name

    opp = lowcode.get_doc("Opportunity", result["opportunity"])
    assert opp.title == "Pilot"
    assert (opp.opportunity_from, opp.party_name, opp.customer_name) == ("Customer", customer.name,
                                                                          customer.customer_name)
    assert opp.lead == lead.name
    assert (opp.territory, opp.source, opp.campaign) == (lead.territory, lead.source, lead.campaign)
    assert opp.opportunity_owner == owner
    assert float(opp.opportunity_amount) == 25000 and str(opp.expected_closing) == "2031-06-30"
    assert opp.sales_stage == "Prospecting"

    lead.reload()
    assert lead.status == "Converted"
    assert lead.customer == customer.name and lead.opportunity == opp.name
    assert lead.converted_on and str(lead.converted_on)[:10] == today()
    comments = lowcode.get_all("Comment", fields=["content"], filters={"reference_doctype": "Lead",
                                                                       "reference_name": lead.name,
                                                                       "comment_type": "Workflow"}, pluck="content")
    assert any("Convert" in c and "Converted" in c for c in comments), comments


def test_convert_lead_without_company_makes_an_individual(ctx):
    lead = qualify(make_lead(first_name="Maya", last_name="Levi"))
    result = convert_lead(lead.name)
    customer = lowcode.get_doc("Customer", result["customer"])
    assert customer.customer_name == "Maya Levi" and customer.customer_type == "Individual"
    assert lowcode.get_doc("Opportunity", result["opportunity"]).title == "Maya Levi"


def test_converted_lead_cannot_be_converted_again(ctx):
    lead = qualify(make_lead())
    convert_lead(lead.name)
    with pytest.raises(ValidationError):
        convert_lead(lead.name)
    assert lowcode.get_count("Customer", filters={"lead": lead.name}) == 1


def test_activities_get_the_customer_and_stay_on_the_lead(ctx, unique):
    lead = qualify(_full_lead(unique))
    ref = {"reference_doctype": "Lead", "reference_name": lead.name}
    made = {
        "Call Log": lowcode.get_doc(dict(ref, doctype="Call Log", phone=lead.mobile_no)).insert().name,
        "Event": lowcode.get_doc(dict(ref, doctype="Event", subject="Demo", starts_on="2030-01-02 10:00:00")).insert().name,
        "Task": lowcode.get_doc(dict(ref, doctype="Task", subject="Send brochure")).insert().name,
        "Note": lowcode.get_doc(dict(ref, doctype="Note", title="Budget approved")).insert().name,
        "Communication": lowcode.get_doc(dict(ref, doctype="Communication", subject="Hello",
                                              sender=lead.email_id)).insert().name,
    }
    for doctype, name in made.items():
        assert not lowcode.db.get_value(doctype, name, "customer"), doctype
    customer = convert_lead(lead.name)["customer"]
    for doctype, name in made.items():
        row = lowcode.db.sql(f"SELECT `customer`, `reference_doctype`, `reference_name` FROM `tab{doctype}` "
                             "WHERE `name`=%s", (name,))
        assert tuple(row[0]) == (customer, "Lead", lead.name), doctype
    # and a new activity on the converted lead is tied to the customer too
    later = lowcode.get_doc(dict(ref, doctype="Note", title="After conversion")).insert()
    assert later.customer == customer
    timeline = {(t["doctype"], t["name"]) for t in get_customer_360(customer)["timeline"]}
    assert all((doctype, name) in timeline for doctype, name in made.items())


def test_files_of_the_lead_show_in_the_customer_360(ctx, unique):
    lead = qualify(_full_lead(unique))
    file_doc = save_file(f"brief-{unique}.txt", b"requirements", attached_to_doctype="Lead",
                         attached_to_name=lead.name)
    customer = convert_lead(lead.name)["customer"]
    files = [t for t in get_customer_360(customer)["timeline"] if t["doctype"] == "File"]
    assert [(f["name"], f["title"]) for f in files] == [(file_doc.file_url, file_doc.file_name)]


def test_conversion_by_a_sales_user(ctx, unique):
    """The ordinary path: the lead's owner qualifies and converts it."""
    user = make_user(unique, "converter")
    with as_user(user):
        lead = qualify(make_lead(company_name=f"Own Co {unique}"))
        result = convert_lead(lead.name, opportunity_amount=500)
        assert lowcode.get_doc("Lead", lead.name).status == "Converted"
        assert lowcode.get_doc("Opportunity", result["opportunity"]).opportunity_owner == user
        assert lowcode.get_doc("Customer", result["customer"]).account_manager == user


def test_conversion_needs_write_permission(ctx, unique):
    owner = make_user(unique, "leadowner")
    other = make_user(unique, "stranger")
    with as_user(owner):
        lead = qualify(make_lead())
    with as_user(other):
        with pytest.raises(lowcode.PermissionError):
            convert_lead(lead.name)
    assert lowcode.db.get_value("Lead", lead.name, "status") == "Qualified"


def test_opportunity_from_lead_won_makes_the_customer(ctx, unique):
    lead = _full_lead(unique)
    note = lowcode.get_doc({"doctype": "Note", "title": "call notes", "reference_doctype": "Lead",
                            "reference_name": lead.name}).insert()
    opp = make_opportunity(lead.name, amount=7000, opportunity_from="Lead")
    assert opp.customer_name == lead.company_name
    move(opp, "Qualify", "Propose", "Win")
    lead.reload()
    assert lead.customer, "winning an opportunity from a lead made no customer"
    customer = lowcode.get_doc("Customer", lead.customer)
    assert customer.customer_name == lead.company_name and customer.lead == lead.name
    assert customer.email_id == lead.email_id
    assert lead.opportunity == opp.name
    opp.reload()
    assert (opp.opportunity_from, opp.party_name, opp.lead) == ("Customer", customer.name, lead.name)
    assert opp.sales_stage == "Won" and float(opp.won_amount) == 7000
    assert lowcode.db.get_value("Note", note.name, "customer") == customer.name
    assert lowcode.get_count("Contact", filters=[["Dynamic Link", "link_name", "=", customer.name]]) == 1
    assert get_customer_360(customer.name)["totals"]["won_revenue"] == 7000


def test_opportunity_from_an_already_converted_lead_reuses_its_customer(ctx):
    lead = qualify(make_lead(company_name="Reuse Co"))
    customer = convert_lead(lead.name)["customer"]
    opp = make_opportunity(lead.name, amount=100, opportunity_from="Lead")
    move(opp, "Qualify", "Propose", "Win")
    assert lowcode.get_count("Customer", filters={"lead": lead.name}) == 1
    assert opp.reload().party_name == customer


def test_accepted_quotation_wins_the_opportunity_with_its_net_total(ctx):
    """Revenue is net: the VAT goes to the opportunity's grand total, kept apart."""
    customer = make_customer().name
    opp = make_opportunity(customer, amount=1000)
    product = make_product(rate=400)
    quotation = lowcode.get_doc({"doctype": "Quotation", "party_name": customer, "opportunity": opp.name,
                                 "items": [{"product": product, "qty": 3}],
                                 "taxes": [{"description": "VAT", "rate": 10}]}).insert()
    assert (float(quotation.net_total), float(quotation.grand_total)) == (1200, 1320)
    move(quotation, "Send", "Accept")
    opp.reload()
    assert opp.sales_stage == "Won"
    assert float(opp.opportunity_amount) == 1200 and float(opp.won_amount) == 1200
    assert float(opp.grand_total) == 1320
    assert str(opp.closed_on) == today() and float(opp.probability) == 100
    comments = lowcode.get_all("Comment", filters={"reference_doctype": "Opportunity", "reference_name": opp.name},
                               pluck="content")
    assert any(quotation.name in c for c in comments), comments


def test_accepted_quotation_by_a_sales_user_wins_the_opportunity(ctx, unique):
    user = make_user(unique, "quoter")
    product = make_product(rate=50)
    with as_user(user):
        customer = make_customer().name
        opp = make_opportunity(customer, amount=10)
        quotation = lowcode.get_doc({"doctype": "Quotation", "party_name": customer, "opportunity": opp.name,
                                     "items": [{"product": product, "qty": 2}]}).insert()
        move(quotation, "Send", "Accept")
    opp.reload()
    assert opp.sales_stage == "Won" and float(opp.won_amount) == 100


def test_accepted_quotation_on_a_lead_opportunity_converts_the_lead(ctx):
    lead = make_lead(company_name="Quote Lead Co")
    opp = make_opportunity(lead.name, amount=1, opportunity_from="Lead")
    product = make_product(rate=250)
    quotation = lowcode.get_doc({"doctype": "Quotation", "quotation_to": "Lead", "party_name": lead.name,
                                 "opportunity": opp.name, "items": [{"product": product, "qty": 2}]}).insert()
    move(quotation, "Send", "Accept")
    opp.reload()
    assert opp.sales_stage == "Won" and float(opp.won_amount) == 500
    customer = lowcode.db.get_value("Lead", lead.name, "customer")
    assert customer and opp.party_name == customer and opp.opportunity_from == "Customer"


# -- an organisation or person that already is a customer -------------------------------------

@pytest.mark.parametrize("key", ["name", "tax_id", "email", "mobile"])
def test_conversion_joins_the_existing_customer(ctx, unique, key):
    """A lead of a known customer (same name in any case, tax id, e-mail in any case, or
    mobile however typed) is refused naming it until the user chooses it; then it links
    to it: no second customer, the person becomes a contact."""
    mobile = unique_mobile()
    existing = make_customer(f"Known Co {unique}", tax_id=f"TX-{unique}", email_id=f"office.{unique}@known.example",
                             mobile_no=mobile).name
    lead_values = {"name": {"company_name": f"KNOWN co {unique}"},
                   "tax_id": {"company_name": f"Known Company Ltd {unique}", "tax_id": f"TX-{unique}"},
                   "email": {"company_name": f"Other name {unique}", "email_id": f"Office.{unique}@KNOWN.example"},
                   "mobile": {"company_name": f"Another name {unique}",
                              "mobile_no": "+98 " + mobile[1:4] + " " + mobile[4:7] + " " + mobile[7:]}}[key]
    lead = qualify(make_lead(first_name="Ava", **lead_values))
    customers = lowcode.get_count("Customer")
    with pytest.raises(DuplicateEntryError) as refused:
        convert_lead(lead.name)
    assert refused.value.field == "customer" and existing in refused.value.message
    assert f"Known Co {unique}" in refused.value.message
    assert lowcode.get_count("Customer") == customers
    result = convert_lead(lead.name, customer=existing)
    assert result["customer"] == existing
    assert lowcode.get_count("Customer") == customers
    assert lowcode.db.get_value("Lead", lead.name, "customer") == existing
    assert lowcode.db.get_value("Opportunity", result["opportunity"], "party_name") == existing
    contacts = lowcode.get_all("Contact", fields=["first_name", "email_id"],
                               filters=[["Dynamic Link", "link_name", "=", existing]])
    assert [c["first_name"] for c in contacts] == ["Ava"]


def test_two_people_of_one_organisation_make_one_customer_with_two_contacts(ctx, unique):
    first = qualify(make_lead(first_name="Ava", company_name=f"Shared Co {unique}"))
    second = qualify(make_lead(first_name="Ben", company_name=f"Shared Co {unique}"))
    a = convert_lead(first.name)["customer"]
    b = convert_lead(second.name, customer=a)["customer"]
    assert a == b
    assert lowcode.get_count("Customer", filters={"customer_name": f"Shared Co {unique}"}) == 1
    names = lowcode.get_all("Contact", filters=[["Dynamic Link", "link_name", "=", a]], pluck="first_name")
    assert sorted(names) == ["Ava", "Ben"]


def test_the_same_person_converted_twice_gets_no_second_contact(ctx, unique):
    email = f"twice.{unique}@example.com"
    first = qualify(make_lead(email_id=email, company_name=f"Twice {unique}"))
    customer = convert_lead(first.name)["customer"]
    again = qualify(make_lead(email_id=email.upper(), company_name=f"Twice {unique}"))
    assert convert_lead(again.name, customer=customer)["customer"] == customer
    assert lowcode.get_count("Contact", filters=[["Dynamic Link", "link_name", "=", customer]]) == 1
