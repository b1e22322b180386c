"""Suppliers: a party of their own. Named by series with their name as title, the mobile
normalised as a Customer's is, contacts and addresses linked through Dynamic Link (with
the supplier's name as link title, following a new name), and who may do what: purchasing writes, a
salesperson only reads (over REST, as an attacker with a low role would try)."""
import pytest

import lowcode
from lowcode.exceptions import PermissionError
from lowcode.testing.http import error, ok, post_json, put_json

from crm_app.tests.helpers import as_user, make_user, refresh, token


def _supplier(unique, **values):
    return lowcode.get_doc(dict({"doctype": "Supplier", "supplier_name": f"Pars Steel {unique}"}, **values)).insert()


def test_named_by_series_titled_by_name(ctx, unique):
    supplier = _supplier(unique)
    assert supplier.name.startswith("SUP-") and supplier.supplier_type == "Company"
    assert lowcode.get_meta("Supplier").get_title_field() == "supplier_name"


@pytest.mark.parametrize("typed", ["0912 123 4567", "+98 912 123 4567", "۰۹۱۲۱۲۳۴۵۶۷"])
def test_mobile_is_normalised_as_a_customers(ctx, unique, typed):
    supplier = _supplier(unique, mobile_no=typed)
    assert lowcode.db.get_value("Supplier", supplier.name, "mobile_e164") == "+989121234567"


def test_contacts_and_addresses_link_to_it(ctx, unique):
    supplier = _supplier(unique)
    link = [{"link_doctype": "Supplier", "link_name": supplier.name}]
    contact = lowcode.get_doc({"doctype": "Contact", "first_name": "Reza", "links": link}).insert()
    address = lowcode.get_doc({"doctype": "Address", "address_title": "Depot", "address_line1": "Road 5",
                               "city": "Isfahan", "links": link}).insert()
    assert lowcode.get_doc("Contact", contact.name).links[0].link_title == f"Pars Steel {unique}"
    assert lowcode.get_doc("Address", address.name).links[0].link_title == f"Pars Steel {unique}"
    assert lowcode.get_all("Contact", filters=[["Dynamic Link", "link_doctype", "=", "Supplier"],
                                               ["Dynamic Link", "link_name", "=", supplier.name]],
                           pluck="name") == [contact.name]
    other = lowcode.get_doc({"doctype": "Contact", "first_name": "Other", "links": [
        {"link_doctype": "Supplier", "link_name": _supplier(f"{unique}-other").name}]}).insert()
    supplier.supplier_name = f"Pars Steel Group {unique}"
    supplier.save()  # the new name reaches the links to it, and only those
    assert lowcode.get_doc("Contact", contact.name).links[0].link_title == f"Pars Steel Group {unique}"
    assert lowcode.get_doc("Address", address.name).links[0].link_title == f"Pars Steel Group {unique}"
    assert lowcode.get_doc("Contact", other.name).links[0].link_title == f"Pars Steel {unique}-other"


def test_the_contact_form_offers_the_party_types(ctx):
    """The Dynamic Link's type is a Link to DocType: its search offers the new parties."""
    from lowcode.query import search_link
    for doctype in ("Supplier", "Sales Partner", "Employee"):
        assert doctype in [hit["value"] for hit in search_link("DocType", doctype)]


def test_purchasing_writes_a_salesperson_only_reads(ctx, client, unique):
    buyer = make_user(unique, "buyer", roles=("Purchase User",))
    rep = make_user(unique, "suprep")
    supplier = _supplier(unique).name
    with as_user(buyer):
        made = _supplier(f"{unique}-b")
        made.website = "https://steel.example.com"
        made.save()
    with as_user(rep):
        with pytest.raises(PermissionError):
            _supplier(f"{unique}-r")
    rep_auth, buyer_auth = token(rep), token(buyer)
    refresh(ctx)
    assert ok(client.get(f"/api/resource/Supplier/{supplier}", **rep_auth))["data"]["name"] == supplier
    error(put_json(client, f"/api/resource/Supplier/{supplier}", {"tax_id": "stolen"}, **rep_auth), 403)
    error(client.delete(f"/api/resource/Supplier/{supplier}", **rep_auth), 403)
    error(client.delete(f"/api/resource/Supplier/{supplier}", **buyer_auth), 403)  # a Purchase User does not delete
    ok(post_json(client, "/api/resource/Supplier", {"supplier_name": f"Over REST {unique}"}, **buyer_auth))
    refresh(ctx)
    assert lowcode.db.get_value("Supplier", supplier, "tax_id") is None
