"""Sales Partners: named by their name (unique), the commission rate a percentage between
0 and 100 (refused by field, nothing written), the mobile normalised, contacts linked;
Sales Managers keep them, a salesperson only reads."""
import pytest

import lowcode
from lowcode.exceptions import DuplicateEntryError, PermissionError, ValidationError
from lowcode.testing.http import error, ok, put_json

from crm_app.tests.helpers import as_user, make_user, refresh, token


def _partner(unique, **values):
    return lowcode.get_doc(dict({"doctype": "Sales Partner", "partner_name": f"Negin Resellers {unique}",
                                 "partner_type": "Reseller", "commission_rate": 7.5}, **values)).insert()


def test_named_by_name(ctx, unique):
    partner = _partner(unique, mobile_no="0912 123 4567")
    assert partner.name == f"Negin Resellers {unique}"
    assert lowcode.db.get_value("Sales Partner", partner.name, "mobile_e164") == "+989121234567"
    with pytest.raises(DuplicateEntryError):
        _partner(unique)


@pytest.mark.parametrize("rate", [-1, 100.5, 250])
def test_commission_rate_is_a_percentage(ctx, unique, rate):
    with pytest.raises(ValidationError) as e:
        _partner(unique, commission_rate=rate)
    assert e.value.field == "commission_rate" and "between 0 and 100" in e.value.message
    assert not lowcode.db.exists("Sales Partner", f"Negin Resellers {unique}")


def test_bounds_are_allowed(ctx, unique):
    assert _partner(f"{unique}-0", commission_rate=0).commission_rate == 0
    assert _partner(f"{unique}-100", commission_rate=100).commission_rate == 100


def test_managers_keep_partners_a_salesperson_reads(ctx, client, unique):
    manager = make_user(unique, "partnermgr", roles=("Sales Manager",))
    rep = make_user(unique, "partnerrep")
    with as_user(manager):
        partner = _partner(unique).name
    with as_user(rep):
        with pytest.raises(PermissionError):
            _partner(f"{unique}-rep")
    auth = token(rep)
    refresh(ctx)
    assert ok(client.get(f"/api/resource/Sales Partner/{partner}", **auth))["data"]["commission_rate"] == 7.5
    error(put_json(client, f"/api/resource/Sales Partner/{partner}", {"commission_rate": 99}, **auth), 403)
    refresh(ctx)
    assert lowcode.db.get_value("Sales Partner", partner, "commission_rate") == 7.5
