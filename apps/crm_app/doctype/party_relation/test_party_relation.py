"""Party Relations between customers, contacts, leads, suppliers, sales partners and
employees: both parties must exist in the DocType their type names (refused by
field, also over REST), the relation is one of the list, and a Sales User records
relations. A merged customer's relations follow it (doctype/customer/test_customer.py)."""
import json

import pytest

import lowcode
from lowcode.exceptions import ValidationError

from crm_app.tests.helpers import as_user, body, make_customer, make_lead, make_user, refresh, token


@pytest.mark.parametrize("field,value", [("from_party", "CUST-NOPE"), ("to_party", "no-such-contact")])
def test_party_relation_needs_existing_parties(ctx, field, value):
    from lowcode.exceptions import LinkValidationError
    customer = make_customer().name
    data = {"doctype": "Party Relation", "from_type": "Customer", "from_party": customer, "relation": "Referred by",
            "to_type": "Contact", "to_party": lowcode.get_doc({"doctype": "Contact", "first_name": "Ali"}).insert().name}
    data[field] = value
    before = lowcode.get_count("Party Relation")
    with pytest.raises(LinkValidationError) as e:
        lowcode.get_doc(data).insert()
    assert e.value.field == field and e.value.http_status == 417 and value in e.value.message
    assert lowcode.get_count("Party Relation") == before


def test_party_relation_party_of_the_wrong_type_is_refused(ctx):
    """A customer's name given as a Contact: the Dynamic Link looks in the named DocType."""
    from lowcode.exceptions import LinkValidationError
    customer = make_customer().name
    with pytest.raises(LinkValidationError) as e:
        lowcode.get_doc({"doctype": "Party Relation", "from_type": "Contact", "from_party": customer,
                         "relation": "Employee of", "to_type": "Customer", "to_party": customer}).insert()
    assert e.value.field == "from_party"


def test_party_relation_over_rest_names_the_field(ctx, client, unique):
    customer = make_customer().name
    auth = token(make_user(unique, "relations"))
    refresh(ctx)
    response = client.post("/api/resource/Party Relation", data=json.dumps(
        {"from_type": "Customer", "from_party": customer, "relation": "Referred by", "to_type": "Customer",
         "to_party": "CUST-MISSING"}), content_type="application/json", **auth)
    assert response.status_code == 417
    assert body(response)["exc_type"] == "LinkValidationError" and "To Party" in body(response)["message"]


def test_the_relation_is_one_of_the_list(ctx):
    customer = make_customer().name
    with pytest.raises(ValidationError) as e:
        lowcode.get_doc({"doctype": "Party Relation", "from_type": "Customer", "from_party": customer,
                         "relation": "Nemesis of", "to_type": "Customer", "to_party": make_customer().name}).insert()
    assert e.value.field == "relation"


def test_a_sales_user_records_a_referral(ctx, unique):
    rep = make_user(unique, "referrer")
    with as_user(rep):
        lead = make_lead()
        relation = lowcode.get_doc({"doctype": "Party Relation", "from_type": "Lead", "from_party": lead.name,
                                    "relation": "Referred by", "to_type": "Customer",
                                    "to_party": make_customer().name}).insert()
    stored = lowcode.get_doc("Party Relation", relation.name)
    assert (stored.from_type, stored.from_party, stored.relation, stored.owner) == (
        "Lead", lead.name, "Referred by", rep)


@pytest.mark.parametrize("party_type", ["Supplier", "Sales Partner", "Employee"])
def test_suppliers_partners_and_employees_are_parties(ctx, unique, party_type):
    """A relation links the new parties' real records, and refuses a name that is not one."""
    from lowcode.exceptions import LinkValidationError
    values = {"Supplier": {"supplier_name": f"Supplier {unique}"},
              "Sales Partner": {"partner_name": f"Partner {unique}"},
              "Employee": {"employee_name": f"Employee {unique}"}}[party_type]
    party = lowcode.get_doc(dict(values, doctype=party_type)).insert().name
    customer = make_customer().name
    relation = lowcode.get_doc({"doctype": "Party Relation", "from_type": party_type, "from_party": party,
                                "relation": "Partner of", "to_type": "Customer", "to_party": customer}).insert()
    assert (relation.from_type, relation.from_party) == (party_type, party)
    with pytest.raises(LinkValidationError) as e:
        lowcode.get_doc({"doctype": "Party Relation", "from_type": "Customer", "from_party": customer,
                         "relation": "Customer of", "to_type": party_type, "to_party": customer}).insert()
    assert e.value.field == "to_party"
