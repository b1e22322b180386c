"""Call Logs: the defaults (an outgoing, connected call started now), the customer taken
from the record the call is about, a bad phone or outcome refused naming the field, one
log per telephony call id, and a private call log kept from another Sales User over REST."""
import pytest

import lowcode
from lowcode.exceptions import DataError, DuplicateEntryError, ValidationError

from crm_app.tests.helpers import as_user, body, make_customer, make_user, ok, refresh, tag, token, unique_mobile


def _call(**values):
    return lowcode.get_doc(dict({"doctype": "Call Log", "phone": unique_mobile()}, **values)).insert()


def test_defaults(ctx):
    call = _call()
    assert (call.direction, call.outcome, call.is_private) == ("Outgoing", "Connected", 0)
    assert call.started_at and str(call.started_at)[:10] == lowcode.utils.today()
    assert call.customer is None


def test_the_customer_comes_from_the_reference(ctx):
    customer = make_customer().name
    call = _call(reference_doctype="Customer", reference_name=customer)
    assert call.customer == customer
    assert lowcode.db.get_value("Call Log", call.name, "customer") == customer


@pytest.mark.parametrize("field, value", [("phone", "12345"), ("outcome", "Hung up angrily"),
                                          ("direction", "Sideways")])
def test_bad_values_are_refused_naming_the_field(ctx, field, value):
    with pytest.raises(ValidationError) as e:
        _call(**{field: value})
    assert e.value.field == field
    if field == "phone":
        assert isinstance(e.value, DataError)


def test_one_log_per_call_id(ctx):
    call_id = f"call-{tag()}"
    _call(call_id=call_id)
    with pytest.raises(DuplicateEntryError):
        _call(call_id=call_id)
    assert lowcode.db.count("Call Log", {"call_id": call_id}) == 1


def test_a_private_call_log_is_not_shown_to_another_sales_user(ctx, client, unique):
    mine, theirs = make_user(unique, "caller"), make_user(unique, "peer")
    with as_user(mine):
        private = _call(is_private=1, notes="salary")
        public = _call(notes="demo booked")
    peer = token(theirs)
    refresh(ctx)
    listed = ok(client.get("/api/resource/Call Log", {"filters": f'[["name", "in", ["{private.name}", '
                                                                 f'"{public.name}"]]]'}, **peer))["data"]
    assert [row["name"] for row in listed] == [public.name]
    hidden = client.get(f"/api/resource/Call Log/{private.name}", **peer)
    assert hidden.status_code == 403, body(hidden)
