"""Contacts: the full name, the phones kept in E.164 as well (the caller lookup of
telephony searches those columns), the title of a linked Customer, bad e-mail / phone
refused naming the field, a missing link refused, and who may write one over REST (a
Support Agent reads contacts, never writes them)."""
import pytest

import lowcode
from lowcode.exceptions import DataError, LinkValidationError, MandatoryError

from crm_app.tests.helpers import as_user, body, make_customer, make_user, ok, refresh, tag, token, unique_mobile


def _contact(**values):
    return lowcode.get_doc(dict({"doctype": "Contact", "first_name": "Nika"}, **values)).insert()


def test_full_name_follows_first_and_last(ctx):
    contact = _contact(last_name="Rahimi")
    assert contact.full_name == "Nika Rahimi"
    contact.first_name, contact.last_name = "Dana", None
    contact.save()
    assert lowcode.db.get_value("Contact", contact.name, "full_name") == "Dana"


def test_phones_are_stored_in_e164_too(ctx):
    mobile = unique_mobile()
    contact = _contact(mobile_no=mobile, phone="+972 53 312 3456")
    assert contact.mobile_e164 == "+98" + mobile[1:]
    assert contact.phone_e164 == "+972533123456"
    contact.mobile_no = None
    contact.save()
    assert lowcode.db.get_value("Contact", contact.name, ["mobile_e164", "phone_e164"]) == (None, "+972533123456")


def test_a_linked_customer_gives_the_link_its_title(ctx):
    customer = make_customer(f"Pars Co {tag()}")
    contact = _contact(links=[{"link_doctype": "Customer", "link_name": customer.name}])
    assert contact.links[0].link_title == customer.customer_name
    stored = lowcode.get_doc("Contact", contact.name)
    assert [(r.link_doctype, r.link_name, r.link_title) for r in stored.links] == [
        ("Customer", customer.name, customer.customer_name)]


@pytest.mark.parametrize("field, value", [("email_id", "not-an-email"), ("mobile_no", "12345"), ("phone", "0912123")])
def test_bad_email_or_phone_is_refused_naming_the_field(ctx, field, value):
    with pytest.raises(DataError) as e:
        _contact(**{field: value})
    assert e.value.field == field


def test_first_name_is_mandatory(ctx):
    with pytest.raises(MandatoryError) as e:
        lowcode.get_doc({"doctype": "Contact", "last_name": "Only"}).insert()
    assert e.value.field == "first_name"


def test_a_link_to_a_missing_customer_is_refused(ctx):
    with pytest.raises(LinkValidationError):
        _contact(links=[{"link_doctype": "Customer", "link_name": f"No such {tag()}"}])


def test_sales_user_writes_a_contact_a_support_agent_only_reads(ctx, client, unique):
    rep = make_user(unique, "crep")
    agent = make_user(unique, "cagent", roles=("Support Agent",))
    with as_user(rep):
        contact = _contact(last_name=unique)
    rep_auth, agent_auth = token(rep), token(agent)
    refresh(ctx)
    data = ok(client.put(f"/api/resource/Contact/{contact.name}", '{"designation": "CTO"}',
                         content_type="application/json", **rep_auth))["data"]
    assert data["designation"] == "CTO"
    assert ok(client.get(f"/api/resource/Contact/{contact.name}", **agent_auth))["data"]["designation"] == "CTO"
    denied = client.put(f"/api/resource/Contact/{contact.name}", '{"designation": "Boss"}',
                        content_type="application/json", **agent_auth)
    assert denied.status_code == 403, body(denied)
    created = client.post("/api/resource/Contact", '{"first_name": "Sneaky"}', content_type="application/json",
                          **agent_auth)
    assert created.status_code == 403, body(created)
    assert lowcode.db.get_value("Contact", contact.name, "designation") == "CTO"
