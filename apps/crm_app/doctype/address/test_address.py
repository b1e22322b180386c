"""Addresses: title, first line and city are mandatory (refused by field), Office in
Iran by default, the phone is checked like every Phone field, the territory and the
linked parties must exist, a customer's addresses are found through their links, and a
Sales User adds addresses over REST but does not delete them."""
import pytest

import lowcode
from lowcode.exceptions import DataError, LinkValidationError, MandatoryError
from lowcode.testing.http import error, ok, post_json

from crm_app.tests.helpers import make_customer, make_user, refresh, tag, token


def _address(**values):
    return lowcode.get_doc(dict({"doctype": "Address", "address_title": "Head office", "address_line1": "Valiasr 12",
                                 "city": "Tehran"}, **values)).insert()


def test_defaults(ctx):
    address = _address()
    assert (address.address_type, address.country, address.is_primary_address) == ("Office", "Iran", 0)


@pytest.mark.parametrize("missing", ["address_title", "address_line1", "city"])
def test_title_line_and_city_are_mandatory(ctx, missing):
    with pytest.raises(MandatoryError) as e:
        _address(**{missing: None})
    assert e.value.field == missing


def test_the_phone_is_checked(ctx):
    with pytest.raises(DataError) as e:
        _address(phone="12345")
    assert e.value.field == "phone"
    assert _address(phone="+972 3 123 4567").phone == "+972 3 123 4567"


def test_links_and_territory_must_exist(ctx, unique):
    with pytest.raises(LinkValidationError) as e:
        _address(territory=f"Nowhere {unique}")
    assert e.value.field == "territory"
    with pytest.raises(LinkValidationError):
        _address(links=[{"link_doctype": "Customer", "link_name": f"Ghost {unique}"}])


def test_a_customers_addresses_through_their_links(ctx):
    customer = make_customer().name
    billing = _address(address_type="Billing", links=[{"link_doctype": "Customer", "link_name": customer}])
    _address(address_title=f"Someone else {tag()}")
    found = lowcode.get_all("Address", filters=[["Dynamic Link", "link_name", "=", customer]], pluck="name")
    assert found == [billing.name]


def test_a_sales_user_adds_but_does_not_delete(ctx, client, unique):
    rep = token(make_user(unique, "addrrep"))
    refresh(ctx)
    name = ok(post_json(client, "/api/resource/Address", {"address_title": f"Branch {unique}",
                                                         "address_line1": "Herzl 1", "city": "Haifa",
                                                         "country": "Israel"}, **rep))["data"]["name"]
    error(client.delete(f"/api/resource/Address/{name}", **rep), 403)
    refresh(ctx)
    assert lowcode.db.get_value("Address", name, "city") == "Haifa"
