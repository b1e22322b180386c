"""Lost Reasons: named by the reason (unique); a deal is lost only for an existing
reason; a reason marked as a competitor's win makes the deal say which competitor (the
full rule is tested in crm_app/tests/test_lost_deals.py); only managers keep the list
(a Sales User gets 403 over REST)."""
import pytest

import lowcode
from lowcode.exceptions import DuplicateEntryError, LinkValidationError, MandatoryError
from lowcode.testing.http import error, post_json

from crm_app.tests.helpers import make_customer, make_opportunity, make_user, refresh, tag, token


def _reason(**values):
    return lowcode.get_doc(dict({"doctype": "Lost Reason", "lost_reason": f"Price {tag()}"}, **values)).insert()


def test_named_by_the_reason_which_is_unique(ctx):
    reason = _reason()
    assert reason.name == reason.lost_reason and reason.is_competitor == 0
    with pytest.raises(DuplicateEntryError):
        _reason(lost_reason=reason.name)


def test_a_deal_takes_only_an_existing_reason(ctx):
    with pytest.raises(LinkValidationError) as e:
        make_opportunity(make_customer().name, lost_reason=f"Nope {tag()}")
    assert e.value.field == "lost_reason"


def test_a_competitor_reason_asks_which_competitor(ctx):
    reason = _reason(is_competitor=1).name
    opp = make_opportunity(make_customer().name, lost_reason=reason)
    opp.sales_stage = "Lost"
    with pytest.raises(MandatoryError) as e:
        opp.save()
    assert e.value.field == "lost_to_competitor"


def test_a_sales_user_cannot_add_reasons(ctx, client, unique):
    rep = token(make_user(unique, "reasonrep"))
    refresh(ctx)
    error(post_json(client, "/api/resource/Lost Reason", {"lost_reason": f"Mine {unique}"}, **rep), 403)
    refresh(ctx)
    assert not lowcode.db.exists("Lost Reason", f"Mine {unique}")
