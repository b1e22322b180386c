"""Activities: the customer is filled from the record an activity (Task, Call Log, Event,
Communication, Note) is linked to. Each activity DocType's own rules are tested beside it
(doctype/task/test_task.py, doctype/event/test_event.py, ...)."""
import lowcode

from crm_app.activities import linked_customer
from crm_app.conversion import convert_lead
from crm_app.tests.helpers import make_customer, make_lead, make_opportunity, make_product, qualify


def _note(reference_doctype, reference_name, **values):
    return lowcode.get_doc(dict({"doctype": "Note", "title": "about it", "reference_doctype": reference_doctype,
                                 "reference_name": reference_name}, **values)).insert()


# -- customer from the reference -----------------------------------------------------------------

def test_customer_from_a_converted_lead(ctx):
    lead = qualify(make_lead(company_name="Linked Lead Co"))
    assert _note("Lead", lead.name).customer is None
    customer = convert_lead(lead.name)["customer"]
    assert _note("Lead", lead.name).customer == customer


def test_customer_from_an_opportunity(ctx):
    customer = make_customer().name
    opp = make_opportunity(customer)
    for doctype, values in (("Task", {"subject": "prepare"}), ("Call Log", {"phone": "09121234567"}),
                            ("Event", {"subject": "pitch", "starts_on": "2030-01-01 09:00:00"}),
                            ("Communication", {"subject": "offer"})):
        doc = lowcode.get_doc(dict(values, doctype=doctype, reference_doctype="Opportunity",
                                   reference_name=opp.name)).insert()
        assert doc.customer == customer, doctype


def test_no_customer_from_an_opportunity_of_an_unconverted_lead(ctx):
    lead = make_lead()
    opp = make_opportunity(lead.name, opportunity_from="Lead")
    assert _note("Opportunity", opp.name).customer is None


def test_customer_from_a_quotation(ctx):
    customer = make_customer().name
    quotation = lowcode.get_doc({"doctype": "Quotation", "party_name": customer,
                                 "items": [{"product": make_product(rate=1), "qty": 1}]}).insert()
    assert _note("Quotation", quotation.name).customer == customer


def test_customer_from_a_contact(ctx):
    customer = make_customer().name
    contact = lowcode.get_doc({"doctype": "Contact", "first_name": "Ali",
                               "links": [{"link_doctype": "Customer", "link_name": customer}]}).insert()
    assert _note("Contact", contact.name).customer == customer
    assert linked_customer("Contact", contact.name) == customer
    loose = lowcode.get_doc({"doctype": "Contact", "first_name": "Nobody"}).insert()
    assert _note("Contact", loose.name).customer is None


def test_customer_from_the_customer_itself(ctx):
    customer = make_customer().name
    assert _note("Customer", customer).customer == customer
    assert linked_customer(None, None) is None


def test_customer_follows_a_changed_reference(ctx):
    first, second = make_customer().name, make_customer().name
    note = _note("Customer", first)
    note.reference_name = second
    note.save()
    assert note.customer == second
