"""Opportunities: the title defaults to the party, the items total fills the amount,
stage probabilities along the workflow, Lose needs a lost reason, Win needs an amount, a
Won opportunity is edited only by a Sales Manager, and reopening a lost one clears the
reason. The business dates (closed_on) are tested in crm_app/tests/test_figures.py."""
import pytest

import lowcode
from lowcode.workflow import WorkflowTransitionError, apply_workflow

from crm_app.tests.helpers import (as_user, make_customer, make_opportunity, make_product, move, team,  # noqa: F401
                                   today)


def test_opportunity_items_total_fills_the_amount(ctx):
    product = make_product(rate=200)
    opp = lowcode.get_doc({"doctype": "Opportunity", "title": "With items", "party_name": make_customer().name,
                           "items": [{"product": product, "qty": 2, "discount_percentage": 25}]}).insert()
    assert float(opp.items[0].rate) == 200 and float(opp.items[0].amount) == 300
    assert float(opp.total) == 300 and float(opp.opportunity_amount) == 300
    assert float(opp.probability) == 10


def test_lose_needs_a_lost_reason(ctx, team, unique):
    lowcode.get_doc({"doctype": "Lost Reason", "lost_reason": f"Price {unique}"}).insert()
    with as_user(team["user"]):
        opp = make_opportunity(make_customer().name, amount=100)
        with pytest.raises(WorkflowTransitionError) as e:
            apply_workflow(opp, "Lose")
        assert "lost_reason" in e.value.message, e.value.message
        assert lowcode.db.get_value("Opportunity", opp.name, "sales_stage") == "Prospecting"
        opp.reload()
        opp.lost_reason = f"Price {unique}"
        opp.save()
        apply_workflow(opp, "Lose")
    opp.reload()
    assert opp.sales_stage == "Lost" and opp.lost_reason == f"Price {unique}"
    assert str(opp.closed_on) == today() and float(opp.probability) == 0


def test_win_needs_an_amount(ctx, team):
    with as_user(team["user"]):
        opp = make_opportunity(make_customer().name, amount=0)
        move(opp, "Qualify", "Propose")
        with pytest.raises(WorkflowTransitionError) as e:
            apply_workflow(opp, "Win")
        assert "opportunity_amount" in e.value.message


def test_stage_probabilities(ctx, team):
    with as_user(team["user"]):
        opp = make_opportunity(make_customer().name, amount=100)
        seen = [float(opp.probability)]
        for action in ("Qualify", "Propose", "Negotiate", "Win"):
            apply_workflow(opp, action)
            seen.append(float(opp.probability))
    assert seen == [10, 25, 50, 75, 100]
    assert float(opp.won_amount) == 100


def test_won_opportunity_is_edited_only_by_a_sales_manager(ctx, team):
    with as_user(team["user"]):
        opp = make_opportunity(make_customer().name, amount=100, territory=team["territory"])
        move(opp, "Qualify", "Propose", "Win")
        opp.reload()
        opp.notes = "<p>more</p>"
        with pytest.raises(lowcode.PermissionError) as e:
            opp.save()
        assert "Sales Manager" in e.value.message
    with as_user(team["manager"]):
        opp = lowcode.get_doc("Opportunity", opp.name)
        opp.notes = "<p>signed on paper</p>"
        opp.save()
    assert lowcode.db.get_value("Opportunity", opp.name, "notes") == "<p>signed on paper</p>"


def test_reopen_a_lost_opportunity_clears_the_reason(ctx, team, unique):
    lowcode.get_doc({"doctype": "Lost Reason", "lost_reason": f"Timing {unique}"}).insert()
    with as_user(team["user"]):
        opp = make_opportunity(make_customer().name, amount=100, territory=team["territory"],
                               lost_reason=f"Timing {unique}")
        apply_workflow(opp, "Lose")
        with pytest.raises(WorkflowTransitionError):
            apply_workflow(opp, "Reopen")
    with as_user(team["manager"]):
        opp = lowcode.get_doc("Opportunity", opp.name)
        apply_workflow(opp, "Reopen")
    opp.reload()
    assert opp.sales_stage == "Prospecting" and not opp.lost_reason


def test_the_title_defaults_to_the_party(ctx):
    customer = make_customer()
    opp = lowcode.get_doc({"doctype": "Opportunity", "opportunity_from": "Customer", "party_name": customer.name,
                           "opportunity_amount": 10}).insert()
    assert opp.title == customer.customer_name == opp.customer_name
