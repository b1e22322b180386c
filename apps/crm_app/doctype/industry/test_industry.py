"""Industries: named by the industry (unique, mandatory), a customer's industry must
exist, and a Sales User reads the list but does not add to it over REST."""
import pytest

import lowcode
from lowcode.exceptions import DuplicateEntryError, LinkValidationError, MandatoryError
from lowcode.testing.http import error, post_json

from crm_app.tests.helpers import make_customer, make_user, refresh, tag, token


def test_named_by_the_industry_which_is_unique(ctx):
    name = f"Textiles {tag()}"
    assert lowcode.get_doc({"doctype": "Industry", "industry": name}).insert().name == name
    with pytest.raises(DuplicateEntryError):
        lowcode.get_doc({"doctype": "Industry", "industry": name}).insert()
    with pytest.raises(MandatoryError) as e:
        lowcode.get_doc({"doctype": "Industry"}).insert()
    assert e.value.field == "industry"


def test_a_customers_industry_must_exist(ctx):
    name = lowcode.get_doc({"doctype": "Industry", "industry": f"Mining {tag()}"}).insert().name
    assert make_customer(industry=name).industry == name
    with pytest.raises(LinkValidationError) as e:
        make_customer(industry=f"Alchemy {tag()}")
    assert e.value.field == "industry"


def test_a_sales_user_does_not_add_industries(ctx, client, unique):
    rep = token(make_user(unique, "indrep"))
    refresh(ctx)
    error(post_json(client, "/api/resource/Industry", {"industry": f"Mine {unique}"}, **rep), 403)
    assert client.get("/api/resource/Industry", **rep).status_code == 200
