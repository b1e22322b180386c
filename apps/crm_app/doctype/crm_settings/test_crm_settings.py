"""CRM Settings (a single DocType): the defaults the app starts with, the default price
list must exist, the organisation rule is one of its options (each refused naming the
field), and a Sales User reads the settings but does not change them over REST. What
each setting does is tested where it acts (lead duplicates: doctype/lead/test_lead.py;
quotation validity: doctype/quotation/test_quotation.py; the default price list:
doctype/price_list/test_price_list.py)."""
import pytest

import lowcode
from lowcode.exceptions import LinkValidationError, ValidationError
from lowcode.testing.http import error, ok, put_json

from crm_app.tests.helpers import make_user, refresh, tag, token


def test_defaults(ctx):
    settings = lowcode.get_doc("CRM Settings")
    assert (int(settings.default_follow_up_days), int(settings.quotation_validity_days)) == (7, 30)
    assert (settings.default_currency, settings.default_phone_region) == ("IRR", "IR")
    assert settings.duplicate_match_organisation == "With the same name"
    assert (settings.check_lead_duplicates, settings.duplicate_match_email, settings.duplicate_match_mobile) == (1, 1, 1)


@pytest.mark.parametrize("field, value, exc", [("default_price_list", "No such list", LinkValidationError),
                                               ("duplicate_match_organisation", "Sometimes", ValidationError),
                                               ("default_phone_region", "XX", ValidationError)])
def test_bad_values_are_refused_naming_the_field(ctx, field, value, exc):
    settings = lowcode.get_doc("CRM Settings")
    settings.set(field, f"{value} {tag()}" if exc is LinkValidationError else value)
    with pytest.raises(exc) as e:
        settings.save()
    assert e.value.field == field
    assert lowcode.get_doc("CRM Settings").get(field) != settings.get(field)


def test_a_sales_user_reads_but_does_not_change_them(ctx, client, unique):
    rep = token(make_user(unique, "setrep"))
    refresh(ctx)
    data = ok(client.get("/api/resource/CRM Settings/CRM Settings", **rep))["data"]
    assert int(data["quotation_validity_days"]) == int(lowcode.db.get_single_value("CRM Settings",
                                                                                    "quotation_validity_days"))
    error(put_json(client, "/api/resource/CRM Settings/CRM Settings", {"quotation_validity_days": 1}, **rep), 403)
    refresh(ctx)
    assert int(lowcode.db.get_single_value("CRM Settings", "quotation_validity_days")) == \
        int(data["quotation_validity_days"])
