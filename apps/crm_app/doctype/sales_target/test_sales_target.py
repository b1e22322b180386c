"""Sales Targets: the period is mandatory and may not end before it starts (refused
naming period_end), the salesperson performance report sets a target against revenue,
and a Sales User reads targets over REST but cannot set them."""
import pytest

import lowcode
from lowcode.exceptions import MandatoryError, ValidationError

from crm_app.tests.helpers import body, make_user, refresh, token


def _target(**values):
    return lowcode.get_doc(dict({"doctype": "Sales Target", "period_start": "2026-01-01",
                                 "period_end": "2026-03-31", "target_amount": 1000}, **values)).insert()


@pytest.mark.parametrize("missing", ["period_start", "period_end"])
def test_the_period_is_mandatory(ctx, missing):
    with pytest.raises(MandatoryError) as e:
        _target(**{missing: None})
    assert e.value.field == missing


def test_a_period_ending_before_it_starts_is_refused(ctx, unique):
    user = make_user(unique, "target")
    with pytest.raises(ValidationError) as e:
        _target(user=user, period_start="2026-04-01", period_end="2026-03-31")
    assert e.value.field == "period_end"
    assert lowcode.db.count("Sales Target", {"user": user}) == 0
    assert str(_target(user=user, period_start="2026-04-01", period_end="2026-04-01").period_end) == "2026-04-01"


def test_the_performance_report_counts_targets_overlapping_the_period(ctx, unique):
    from crm_app.reports import salesperson_performance
    user = make_user(unique, "perf")
    _target(user=user, target_amount=1000, period_start="2026-01-01", period_end="2026-03-31")
    _target(user=user, target_amount=500, period_start="2026-03-01", period_end="2026-06-30")
    _target(user=user, target_amount=9999, period_start="2025-01-01", period_end="2025-12-31")  # before the period
    rows = {r["user"]: r for r in salesperson_performance("2026-02-01", "2026-04-30")}
    assert rows[user]["target"] == 1500.0
    assert rows[user]["revenue"] == 0 and rows[user]["target_percent"] == 0


def test_a_sales_user_reads_targets_but_cannot_set_them(ctx, client, unique):
    user = make_user(unique, "tgtrep")
    target = _target(user=user)
    rep = token(user)
    refresh(ctx)
    assert client.get(f"/api/resource/Sales Target/{target.name}", **rep).status_code == 200
    denied = client.put(f"/api/resource/Sales Target/{target.name}", '{"target_amount": 1}',
                        content_type="application/json", **rep)
    assert denied.status_code == 403, body(denied)
    denied = client.post("/api/resource/Sales Target", '{"period_start": "2026-01-01", "period_end": "2026-01-31"}',
                         content_type="application/json", **rep)
    assert denied.status_code == 403, body(denied)
    refresh(ctx)
    assert float(lowcode.db.get_value("Sales Target", target.name, "target_amount")) == 1000
