"""Sales Stages: named by the stage (unique, mandatory) with its probability and order;
only managers keep them (a Sales User gets 403 over REST). The probabilities an
opportunity takes along its workflow are tested in doctype/opportunity/test_opportunity.py."""
import pytest

import lowcode
from lowcode.exceptions import DuplicateEntryError, MandatoryError
from lowcode.testing.http import error, post_json

from crm_app.tests.helpers import make_user, refresh, tag, token


def test_named_by_the_stage_with_probability_and_order(ctx):
    name = f"Discovery {tag()}"
    stage = lowcode.get_doc({"doctype": "Sales Stage", "stage_name": name, "probability": 15,
                             "idx_order": 2}).insert()
    assert stage.name == name
    assert lowcode.db.get_value("Sales Stage", name, ["probability", "idx_order"]) in ((15, 2), (15.0, 2))
    with pytest.raises(DuplicateEntryError):
        lowcode.get_doc({"doctype": "Sales Stage", "stage_name": name}).insert()
    with pytest.raises(MandatoryError) as e:
        lowcode.get_doc({"doctype": "Sales Stage", "probability": 10}).insert()
    assert e.value.field == "stage_name"


def test_a_sales_user_cannot_add_stages(ctx, client, unique):
    rep = token(make_user(unique, "stagerep"))
    refresh(ctx)
    error(post_json(client, "/api/resource/Sales Stage", {"stage_name": f"Mine {unique}"}, **rep), 403)
    refresh(ctx)
    assert not lowcode.db.exists("Sales Stage", f"Mine {unique}")
