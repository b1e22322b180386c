"""Customers: the blocked rule (no new opportunities or quotations, existing ones still
editable, a reason required) and the 360° view (totals, private activities of others
hidden, the desk page with and without read permission), merging customers (every
record pointing at the merged one moves, Party Relations too)."""
import json

import pytest

import lowcode
from lowcode.exceptions import MandatoryError

from crm_app.customer_360 import get_customer_360
from crm_app.parties import BlockedCustomerError
from crm_app.tests.helpers import (as_user, make_customer, make_lead, make_opportunity,
                                   make_product, make_user, move, qualify, refresh, today, token, unique_mobile)
from crm_app.conversion import convert_lead


def _block(customer, reason="Unpaid invoices"):
    doc = lowcode.get_doc("Customer", customer)
    doc.is_blocked = 1
    doc.blocked_reason = reason
    return doc.save()


def _quotation(customer, product, **values):
    return lowcode.get_doc(dict({"doctype": "Quotation", "party_name": customer,
                                 "items": [{"product": product, "qty": 1}]}, **values)).insert()


# -- blocked customers -------------------------------------------------------------------------

def test_blocked_customer_gets_no_new_opportunity(ctx):
    customer = make_customer().name
    _block(customer, "Unpaid invoices")
    with pytest.raises(BlockedCustomerError) as e:
        make_opportunity(customer)
    assert e.value.field == "party_name"
    assert customer in e.value.message and "blocked" in e.value.message
    assert "Unpaid invoices" in e.value.message and "opportunities" in e.value.message
    assert lowcode.get_count("Opportunity", filters={"party_name": customer}) == 0


def test_blocked_customer_gets_no_new_quotation(ctx):
    customer = make_customer().name
    product = make_product(rate=10)
    _block(customer)
    with pytest.raises(BlockedCustomerError) as e:
        _quotation(customer, product)
    assert e.value.field == "party_name" and "quotations" in e.value.message
    assert isinstance(e.value, lowcode.ValidationError)


def test_blocked_customer_refused_for_a_sales_user_too(ctx, unique):
    user = make_user(unique, "blocked")
    customer = make_customer().name
    _block(customer)
    with as_user(user):
        with pytest.raises(BlockedCustomerError):
            make_opportunity(customer)


def test_existing_documents_of_a_blocked_customer_can_still_be_saved(ctx):
    customer = make_customer().name
    product = make_product(rate=10)
    opp = make_opportunity(customer, amount=100)
    quotation = _quotation(customer, product, opportunity=opp.name)
    _block(customer)
    opp.reload()
    opp.notes = "<p>on hold</p>"
    opp.save()
    move(opp, "Qualify")
    quotation.reload()
    quotation.terms = "<p>pay first</p>"
    quotation.save()
    assert lowcode.db.get_value("Opportunity", opp.name, "sales_stage") == "Qualification"


def test_moving_an_opportunity_to_a_blocked_customer_is_refused(ctx):
    opp = make_opportunity(make_customer().name)
    blocked = make_customer().name
    _block(blocked)
    opp.party_name = blocked
    with pytest.raises(BlockedCustomerError):
        opp.save()


def test_unblocking_allows_again(ctx):
    customer = make_customer().name
    doc = _block(customer)
    doc.is_blocked = 0
    doc.save()
    assert doc.reload().blocked_reason is None
    opp = make_opportunity(customer)
    assert _quotation(customer, make_product(rate=10), opportunity=opp.name).name


def test_blocked_reason_is_mandatory_when_blocked(ctx):
    doc = make_customer()
    doc.is_blocked = 1
    with pytest.raises(MandatoryError) as e:
        doc.save()
    assert e.value.field == "blocked_reason"
    assert "Blocked Reason" in e.value.message or "blocked_reason" in e.value.message
    with pytest.raises(MandatoryError):
        make_customer(is_blocked=1)


def test_converted_lead_of_a_blocked_customer_gets_no_opportunity(ctx):
    lead = qualify(make_lead(company_name="Blocked via lead"))
    customer = convert_lead(lead.name)["customer"]
    _block(customer)
    with pytest.raises(BlockedCustomerError):
        make_opportunity(lead.name, opportunity_from="Lead")
    with pytest.raises(BlockedCustomerError):
        _quotation(lead.name, make_product(rate=1), quotation_to="Lead")


# -- customer 360 -------------------------------------------------------------------------------

def test_customer_360_totals(ctx, unique):
    customer = make_customer(f"Three Sixty {unique}").name
    won_a = make_opportunity(customer, amount=1000)
    move(won_a, "Qualify", "Propose", "Win")
    won_b = make_opportunity(customer, amount=2500.5)
    move(won_b, "Qualify", "Propose", "Negotiate", "Win")
    make_opportunity(customer, amount=300)                                   # open, Prospecting
    move(make_opportunity(customer, amount=700), "Qualify", "Propose")      # open, Proposal
    lowcode.get_doc({"doctype": "Lost Reason", "lost_reason": f"Lost {unique}"}).insert()
    lost = make_opportunity(customer, amount=9999, lost_reason=f"Lost {unique}")
    move(lost, "Lose")
    _quotation(customer, make_product(rate=5))
    ref = {"reference_doctype": "Customer", "reference_name": customer}
    lowcode.get_doc(dict(ref, doctype="Call Log", phone="09121234567", started_at="2024-03-01 10:00:00")).insert()
    lowcode.get_doc(dict(ref, doctype="Communication", subject="Offer",
                         communication_date="2024-04-05 09:30:00")).insert()
    lowcode.get_doc(dict(ref, doctype="Event", subject="Visit", starts_on="2024-02-01 10:00:00")).insert()
    other = make_customer().name  # another customer's data stays out
    move(make_opportunity(other, amount=5), "Qualify", "Propose", "Win")

    data = get_customer_360(customer)
    totals = data["totals"]
    assert totals["won_revenue"] == 3500.5
    assert totals["open_pipeline"] == 1000
    assert totals["open_opportunities"] == 2
    assert totals["quotations"] == 1
    assert str(totals["last_contact"])[:19] == "2024-04-05 09:30:00"
    assert data["customer"]["name"] == customer
    kinds = [t["doctype"] for t in data["timeline"]]
    assert kinds.count("Opportunity") == 5 and kinds.count("Quotation") == 1
    assert {"Call Log", "Communication", "Event"} <= set(kinds)
    whens = [t["when"] for t in data["timeline"]]
    assert whens == sorted(whens, reverse=True)


def test_customer_360_last_contact_empty_without_activities(ctx):
    data = get_customer_360(make_customer().name)
    assert data["totals"]["last_contact"] is None
    assert data["totals"]["won_revenue"] == 0 and data["totals"]["open_pipeline"] == 0


def test_customer_360_hides_private_activities_of_others(ctx, unique):
    author = make_user(unique, "author")
    reader = make_user(unique, "reader")
    manager = make_user(unique, "mgr", roles=("Sales Manager",))
    customer = make_customer(f"Private {unique}").name
    ref = {"reference_doctype": "Customer", "reference_name": customer}
    with as_user(author):
        private = lowcode.get_doc(dict(ref, doctype="Note", title="salary of the buyer", is_private=1)).insert().name
        public = lowcode.get_doc(dict(ref, doctype="Note", title="likes tea")).insert().name
        private_call = lowcode.get_doc(dict(ref, doctype="Call Log", phone="09121234567", is_private=1)).insert().name
        names = {t["name"] for t in get_customer_360(customer)["timeline"]}
        assert {private, public, private_call} <= names
    for viewer in (reader, manager):
        with as_user(viewer):
            names = {t["name"] for t in get_customer_360(customer)["timeline"]}
            assert public in names
            assert private not in names and private_call not in names


def test_customer_360_last_contact_ignores_private_activities_of_others(ctx, unique):
    """"Last contact" is read like the timeline: another user's private call or note,
    later than anything the viewer may read, moves only its owner's figure."""
    author = make_user(unique, "lastauthor")
    reader = make_user(unique, "lastreader")
    manager = make_user(unique, "lastmgr", roles=("Sales Manager",))
    customer = make_customer(f"Last contact {unique}").name
    ref = {"reference_doctype": "Customer", "reference_name": customer}
    lowcode.get_doc(dict(ref, doctype="Communication", subject="Offer",
                         communication_date="2024-04-05 09:30:00")).insert()
    with as_user(author):
        lowcode.get_doc(dict(ref, doctype="Call Log", phone="09121234567", started_at="2024-06-01 10:00:00",
                             is_private=1)).insert()
        assert str(get_customer_360(customer)["totals"]["last_contact"])[:19] == "2024-06-01 10:00:00"
        lowcode.get_doc(dict(ref, doctype="Note", title="private thoughts", is_private=1)).insert()  # dated now
        assert str(get_customer_360(customer)["totals"]["last_contact"])[:10] == today()
    for viewer in (reader, manager):
        with as_user(viewer):
            assert str(get_customer_360(customer)["totals"]["last_contact"])[:19] == "2024-04-05 09:30:00"


def test_customer_360_contacts(ctx):
    lead = qualify(make_lead(first_name="Dana", last_name="Katz", company_name="Katz Ltd"))
    customer = convert_lead(lead.name)["customer"]
    contacts = get_customer_360(customer)["contacts"]
    assert [(c["full_name"], c["email_id"]) for c in contacts] == [("Dana Katz", lead.email_id)]


def _permlevel_1(doctype, fieldname):
    from lowcode.customize import FIELD_PROPERTIES
    return lowcode.get_doc({"doctype": "Property Setter", "doctype_or_field": "DocField", "doc_type": doctype,
                            "field_name": fieldname, "property": "permlevel",
                            "property_type": FIELD_PROPERTIES["permlevel"], "value": "1"}).insert().name


def test_customer_360_shows_only_fields_the_user_may_read(ctx, unique):
    """Fields moved to permission level 1 (which no Sales User rule grants) never reach
    a Sales User's 360° view: not on the customer, not in contacts, not in totals."""
    user = make_user(unique, "level0")
    customer = make_customer(f"Levels {unique}", tax_id=f"SECRET-{unique}", account_manager=user).name
    opp = make_opportunity(customer, amount=777, opportunity_owner=user).name
    lowcode.get_doc({"doctype": "Contact", "first_name": "Roya", "mobile_no": unique_mobile(),
                     "links": [{"link_doctype": "Customer", "link_name": customer}]}).insert()
    setters = [_permlevel_1("Customer", "tax_id"), _permlevel_1("Opportunity", "opportunity_amount"),
               _permlevel_1("Contact", "mobile_no")]
    try:
        with as_user(user):
            data = get_customer_360(customer)
        assert "tax_id" not in data["customer"] and f"SECRET-{unique}" not in json.dumps(data, default=str)
        assert data["customer"]["customer_name"] == f"Levels {unique}"
        assert data["totals"]["open_pipeline"] is None and data["totals"]["open_opportunities"] == 1
        assert [(c["full_name"], c["mobile_no"]) for c in data["contacts"]] == [("Roya", None)]
        assert ("Opportunity", opp) in {(t["doctype"], t["name"]) for t in data["timeline"]}
        full = get_customer_360(customer)                       # Administrator reads every level
        assert full["customer"]["tax_id"] == f"SECRET-{unique}" and full["totals"]["open_pipeline"] == 777
        assert full["contacts"][0]["mobile_no"]
    finally:
        for name in setters:
            lowcode.delete_doc("Property Setter", name)


def test_customer_360_needs_read_permission(ctx, unique):
    nobody = make_user(unique, "nobody", roles=())
    customer = make_customer().name
    with as_user(nobody):
        with pytest.raises(lowcode.PermissionError):
            get_customer_360(customer)


def test_customer_360_desk_page(ctx, client, unique):
    reader = make_user(unique, "viewer360")
    nobody = make_user(unique, "noread360", roles=())
    customer = make_customer(f"Desk 360 {unique}").name
    move(make_opportunity(customer, amount=4321), "Qualify", "Propose", "Win")
    reader_auth, nobody_auth = token(reader), token(nobody)
    refresh(ctx)
    response = client.get(f"/app/customer-360/{customer}", **reader_auth)
    assert response.status_code == 200, response.content[:500]
    html = response.content.decode()
    assert f"Desk 360 {unique}" in html
    assert client.get(f"/app/customer-360/{customer}", **nobody_auth).status_code == 403
    assert client.get("/app/customer-360/CUST-does-not-exist", **reader_auth).status_code == 404
    anonymous = client.get(f"/app/customer-360/{customer}")
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]


# -- merging customers and the parties that point at them -------------------------------------

def test_customer_merge_moves_every_linked_record(ctx, unique):
    """rename_doc(merge=True) folds a duplicate customer into the survivor: Links,
    Dynamic Links (in documents and in child rows), attachments, comments and history."""
    from lowcode.api.files import save_file
    gone, survivor = make_customer(f"Merge Me {unique}").name, make_customer(f"Survivor {unique}").name
    doc = lowcode.get_doc("Customer", gone)
    doc.city = "Yazd"
    doc.save()                                               # a Version row
    lead = qualify(make_lead(company_name=f"Merge Me {unique}"))
    assert convert_lead(lead.name, customer=gone)["customer"] == gone  # the lead joined the existing customer
    opp = make_opportunity(gone, amount=10)
    quotation = _quotation(gone, make_product(rate=5))
    call = lowcode.get_doc({"doctype": "Call Log", "phone": "09121234567", "customer": gone}).insert()
    note = lowcode.get_doc({"doctype": "Note", "title": "n", "reference_doctype": "Customer",
                            "reference_name": gone}).insert()
    relation = lowcode.get_doc({"doctype": "Party Relation", "from_type": "Customer", "from_party": gone,
                                "relation": "Referred by", "to_type": "Customer", "to_party": survivor}).insert()
    address = lowcode.get_doc({"doctype": "Address", "address_title": "HQ", "address_line1": "Valiasr 1",
                               "city": "Tehran", "links": [{"link_doctype": "Customer", "link_name": gone}]}).insert()
    attached = save_file(f"deal-{unique}.txt", b"terms", attached_to_doctype="Customer", attached_to_name=gone)
    comment = lowcode.get_doc({"doctype": "Comment", "comment_type": "Comment", "reference_doctype": "Customer",
                               "reference_name": gone, "content": "VIP"}).insert()

    lowcode.rename_doc("Customer", gone, survivor, merge=True)

    assert not lowcode.db.exists("Customer", gone)
    assert lowcode.db.get_value("Lead", lead.name, "customer") == survivor
    assert lowcode.db.get_value("Opportunity", opp.name, "party_name") == survivor
    assert lowcode.db.get_value("Quotation", quotation.name, "party_name") == survivor
    for doctype, name in (("Opportunity", opp.name), ("Quotation", quotation.name)):   # their party title too
        assert lowcode.db.get_value(doctype, name, "customer_name") == f"Survivor {unique}"
    assert lowcode.db.get_value("Call Log", call.name, "customer") == survivor
    assert lowcode.db.get_value("Note", note.name, "reference_name") == survivor
    assert lowcode.db.get_value("Party Relation", relation.name, "from_party") == survivor
    link = lowcode.get_doc("Address", address.name).links[0]
    assert (link.link_name, link.link_title) == (survivor, f"Survivor {unique}")
    contacts = lowcode.get_all("Contact", filters=[["Dynamic Link", "link_name", "=", survivor]], pluck="email_id")
    assert lead.email_id in contacts
    assert lowcode.db.get_value("File", attached.name, "attached_to_name") == survivor
    assert lowcode.db.get_value("Comment", comment.name, "reference_name") == survivor
    assert lowcode.get_count("Version", filters={"ref_doctype": "Customer", "docname": gone}) == 0
    assert lowcode.get_count("Version", filters={"ref_doctype": "Customer", "docname": survivor}) >= 1
    timeline = {(t["doctype"], t["name"]) for t in get_customer_360(survivor)["timeline"]}
    assert {("Opportunity", opp.name), ("Quotation", quotation.name), ("File", attached.file_url)} <= timeline


def test_customer_360_never_links_to_a_script(ctx, client, unique):
    """A File whose URL a browser would run (stored before URLs were checked, or written
    around the engine) is listed without a link; a sound one keeps its link."""
    reader = make_user(unique, "viewer360js")
    customer = make_customer(f"Script 360 {unique}").name
    for i, url in enumerate(("javascript:alert(1)", " JAVASCRIPT:alert(2)", "java\tscript:alert(3)",
                             "//evil.example.com/x", "data:text/html,<script>alert(4)</script>",
                             "https://example.com/ok.pdf")):
        lowcode.db.sql("INSERT INTO `tabFile` (`name`, `file_name`, `file_url`, `attached_to_doctype`, "
                       "`attached_to_name`, `owner`, `creation`, `modified`, `modified_by`, `docstatus`, `idx`) "
                       "VALUES (%s, %s, %s, 'Customer', %s, 'Administrator', '2026-01-01 10:00:00', "
                       "'2026-01-01 10:00:00', 'Administrator', 0, 0)",
                       (f"f{unique}{i}", f"file {i}.pdf", url, customer))
    auth = token(reader)
    refresh(ctx)
    html = client.get(f"/app/customer-360/{customer}", **auth).content.decode()
    assert "file 0.pdf" in html and "file 4.pdf" in html
    lowered = html.lower()
    for bad in ("javascript:", "java\tscript", "//evil.example.com", "data:text/html"):
        assert bad not in lowered, bad
    assert 'href="https://example.com/ok.pdf"' in html
