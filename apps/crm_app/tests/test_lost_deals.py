"""What losing a deal records and closes, and quotations that run out:

- a Lost Reason marked ``is_competitor`` makes Opportunity.lost_to_competitor mandatory;
  the competitor's row in the competitors table says they won (added when missing, and
  a ticked row fills lost_to_competitor); the competitors report counts their wins from
  lost_to_competitor (figures by hand on a small data set of its own competitors);
- losing an opportunity loses its open quotations (Draft, Sent) through the workflow;
- the daily job expires sent quotations past their valid-till date, as the system."""
import pytest

import lowcode
from lowcode.exceptions import MandatoryError

from crm_app import hooks, reports
from crm_app.doctype.quotation.quotation import expire_quotations
from crm_app.tests.helpers import (as_user, days_from_today, make_customer, make_opportunity, make_product,
                                   make_quotation, make_user, move, tag)


def _reason(is_competitor):
    return lowcode.get_doc({"doctype": "Lost Reason", "lost_reason": f"Reason {tag()}",
                            "is_competitor": is_competitor}).insert().name


def _competitor():
    return lowcode.get_doc({"doctype": "Competitor", "competitor_name": f"Rival {tag()}"}).insert().name


def _lose(opp, reason, competitor=None):
    opp.reload()
    opp.lost_reason, opp.lost_to_competitor = reason, competitor
    opp.save()
    return move(opp, "Lose")


def test_losing_to_a_competitor_needs_the_competitor(ctx):
    opp = make_opportunity(make_customer().name)
    with pytest.raises(MandatoryError) as e:
        _lose(opp, _reason(1))
    assert e.value.field == "lost_to_competitor"
    assert lowcode.db.get_value("Opportunity", opp.name, "sales_stage") == "Prospecting"
    _lose(make_opportunity(make_customer().name), _reason(0))     # any other reason needs none


def test_an_older_lost_deal_without_the_competitor_still_saves(ctx):
    """Lost before the rule existed: editing it is not blocked, changing the reason is."""
    opp = _lose(make_opportunity(make_customer().name), _reason(0))
    reason = _reason(1)
    lowcode.db.sql("UPDATE `tabOpportunity` SET `lost_reason`=%s WHERE `name`=%s", (reason, opp.name))
    opp.reload()
    opp.notes = "<p>checked</p>"
    opp.save()
    opp.lost_reason = _reason(1)
    with pytest.raises(MandatoryError):
        opp.save()


def test_competitor_wins_are_recorded_and_counted(ctx):
    """By hand: X is in O1 (offer 100, won it) and O2 (offer 300, we won); Y is in O1
    (offer 200), O3 (no row before: lost to Y) and O4 (offer 50, row ticked, lost on
    price). X: 2 opportunities, 1 won by them, 1 by us, average offer 200. Y: 3
    opportunities, 2 won by them, average offer (200 + 50) / 2 = 125."""
    x, y = _competitor(), _competitor()
    competitor_reason, price = _reason(1), _reason(0)
    customer = make_customer().name
    o1 = make_opportunity(customer)
    o1.append("competitors", {"competitor": x, "offered_amount": 100})
    o1.append("competitors", {"competitor": y, "offered_amount": 200})
    o1.save()
    _lose(o1, competitor_reason, x)
    o2 = make_opportunity(customer)
    o2.append("competitors", {"competitor": x, "offered_amount": 300})
    o2.save()
    move(o2, "Qualify", "Propose", "Win")
    o3 = _lose(make_opportunity(customer), competitor_reason, y)
    o4 = make_opportunity(customer)
    o4.append("competitors", {"competitor": y, "offered_amount": 50, "won_by_competitor": 1})
    o4.save()
    _lose(o4, price)

    o1.reload()
    assert {(r.competitor, r.won_by_competitor) for r in o1.competitors} == {(x, 1), (y, 0)}
    assert [(r.competitor, r.won_by_competitor) for r in o3.reload().competitors] == [(y, 1)]
    assert o4.reload().lost_to_competitor == y

    figures = {c["competitor"]: c for c in reports.competitor_analysis() if c["competitor"] in (x, y)}
    assert figures == {
        x: {"competitor": x, "opportunities": 2, "they_won": 1, "we_won": 1, "average_offer": 200.0},
        y: {"competitor": y, "opportunities": 3, "they_won": 2, "we_won": 0, "average_offer": 125.0}}


def test_reopening_clears_the_competitor(ctx, unique):
    manager = make_user(unique, "reopener", roles=("Sales Manager",))
    opp = _lose(make_opportunity(make_customer().name, opportunity_owner=manager), _reason(1), _competitor())
    with as_user(manager):
        move(opp.reload(), "Reopen")
    assert not opp.reload().lost_to_competitor and not opp.lost_reason


# -- quotations of lost deals, expiry ------------------------------------------------------------

def test_losing_an_opportunity_loses_its_open_quotations(ctx, unique):
    user = make_user(unique, "loser")
    product = make_product(rate=10)
    with as_user(user):
        customer = make_customer().name
        opp = make_opportunity(customer)
        items = [{"product": product, "qty": 1}]
        draft = make_quotation(customer, items, opportunity=opp.name)
        sent = move(make_quotation(customer, items, opportunity=opp.name), "Send")
        rejected = move(make_quotation(customer, items, opportunity=opp.name), "Send", "Reject")
        other = move(make_quotation(customer, items), "Send")                  # another deal's
    reason = _reason(0)
    with as_user(user):
        _lose(opp, reason)
    status = {q.name: lowcode.db.get_value("Quotation", q.name, "status") for q in (draft, sent, rejected, other)}
    assert status == {draft.name: "Lost", sent.name: "Lost", rejected.name: "Rejected", other.name: "Sent"}
    comments = lowcode.get_all("Comment", fields=["content", "comment_by"],
                               filters={"reference_doctype": "Quotation", "reference_name": sent.name,
                                        "comment_type": "Workflow"})
    assert {"content": "Lose: Sent → Lost", "comment_by": user} in comments
    versions = lowcode.get_all("Version", filters={"ref_doctype": "Quotation", "docname": sent.name}, pluck="data")
    assert any('"Lost"' in v for v in versions)


def test_daily_job_expires_sent_quotations_past_valid_till(ctx, unique):
    assert "crm_app.doctype.quotation.quotation.expire_quotations" in hooks.scheduler_events["daily"]
    customer = make_customer().name
    items = [{"product": make_product(rate=10), "qty": 1}]
    past = dict(transaction_date=days_from_today(-40), valid_till=days_from_today(-1))
    overdue = move(make_quotation(customer, items, **past), "Send")
    draft = make_quotation(customer, items, **past)
    current = move(make_quotation(customer, items, transaction_date=days_from_today(-5),
                                  valid_till=days_from_today(0)), "Send")
    accepted = move(make_quotation(customer, items, **past), "Send", "Accept")
    user = make_user(unique, "bystander")
    with as_user(user):                      # whoever runs it, the system takes the step
        assert expire_quotations() >= 1
        assert lowcode.local.user == user
    status = {q.name: lowcode.db.get_value("Quotation", q.name, "status") for q in (overdue, draft, current, accepted)}
    assert status == {overdue.name: "Expired", draft.name: "Draft", current.name: "Sent", accepted.name: "Accepted"}
    comments = lowcode.get_all("Comment", fields=["content", "comment_by"],
                               filters={"reference_doctype": "Quotation", "reference_name": overdue.name})
    assert {"content": "Expire: Sent → Expired", "comment_by": "Administrator"} in comments
    assert expire_quotations() == 0 or overdue.name not in lowcode.get_all(
        "Quotation", filters={"status": "Sent"}, pluck="name")
