"""Sales Forecast Entries: a salesperson sets their own commit and best case and cannot
touch a colleague's (403, nothing written), a manager sets anyone's; the best case is at
least the commit; without a Period End the entry covers Period Start's month in the
user's calendar (a Jalali month for a Jalali user)."""
import json

import pytest

import lowcode
from lowcode.exceptions import ValidationError

from crm_app.tests.helpers import as_user, body, make_user, refresh, token


def _entry(**values):
    return lowcode.get_doc(dict({"doctype": "Sales Forecast Entry", "period_start": "2031-01-01",
                                 "commit_amount": 1000, "best_case_amount": 1500}, **values)).insert()


def test_the_period_ends_with_the_month_of_its_start(ctx, unique):
    rep = make_user(unique, "fc-month")
    with as_user(rep):
        assert str(_entry(period_start="2031-02-01").period_end) == "2031-02-28"
        assert str(_entry(period_start="2031-02-01", period_end="2031-03-31").period_end) == "2031-03-31"
    lowcode.local.db.sql("UPDATE `tabUser` SET `calendar`='Jalali' WHERE `name`=%s", (rep,))
    lowcode.local.cache.pop("_desk_prefs", None)
    try:
        with as_user(rep):
            # 1 Bahman 1409 is 2031-01-21; Bahman has 30 days, so it ends on 2031-02-19
            assert str(_entry(period_start="2031-01-21").period_end) == "2031-02-19"
    finally:
        lowcode.local.cache.pop("_desk_prefs", None)


def test_a_best_case_below_the_commit_or_a_period_ending_before_it_starts_is_refused(ctx, unique):
    rep = make_user(unique, "fc-bad")
    with as_user(rep):
        with pytest.raises(ValidationError) as e:
            _entry(salesperson=rep, commit_amount=2000, best_case_amount=1000)
        assert e.value.field == "best_case_amount"
        with pytest.raises(ValidationError) as e:
            _entry(salesperson=rep, period_start="2031-02-01", period_end="2031-01-31")
        assert e.value.field == "period_end"
    assert lowcode.db.count("Sales Forecast Entry", {"salesperson": rep}) == 0


def test_a_rep_writes_only_their_own_entries_and_a_manager_all(ctx, client, unique):
    rep, colleague = make_user(unique, "fc-rep"), make_user(unique, "fc-colleague")
    manager = make_user(unique, "fc-manager", roles=("Sales Manager",))
    theirs = _entry(salesperson=colleague).name
    rep_auth, manager_auth = token(rep), token(manager)
    refresh(ctx)
    url = "/api/resource/Sales Forecast Entry"

    mine = client.post(url, json.dumps({"period_start": "2031-01-01", "commit_amount": 10, "best_case_amount": 20}),
                       content_type="application/json", **rep_auth)
    assert mine.status_code == 200, body(mine)
    mine = body(mine)["data"]
    assert mine["salesperson"] == rep  # defaults to the user
    changed = client.put(f"{url}/{mine['name']}", json.dumps({"commit_amount": 15}),
                         content_type="application/json", **rep_auth)
    assert changed.status_code == 200, body(changed)

    for change in ({"commit_amount": 1}, {"salesperson": rep}):
        denied = client.put(f"{url}/{theirs}", json.dumps(change), content_type="application/json", **rep_auth)
        assert denied.status_code == 403, body(denied)
    denied = client.post(url, json.dumps({"salesperson": colleague, "period_start": "2031-01-01"}),
                         content_type="application/json", **rep_auth)
    assert denied.status_code == 403, body(denied)
    assert client.get(f"{url}/{theirs}", **rep_auth).status_code == 403
    listed = body(client.get(url, {"filters": json.dumps([["salesperson", "in", [rep, colleague]]]),
                                   "fields": '["name", "salesperson"]'}, **rep_auth))["data"]
    assert [r["salesperson"] for r in listed] == [rep]
    refresh(ctx)
    assert float(lowcode.db.get_value("Sales Forecast Entry", theirs, "commit_amount")) == 1000
    assert lowcode.db.get_value("Sales Forecast Entry", theirs, "salesperson") == colleague

    allowed = client.put(f"{url}/{theirs}", json.dumps({"commit_amount": 1200}),
                         content_type="application/json", **manager_auth)
    assert allowed.status_code == 200, body(allowed)
    listed = body(client.get(url, {"filters": json.dumps([["salesperson", "in", [rep, colleague]]]),
                                   "fields": '["salesperson"]'}, **manager_auth))["data"]
    assert sorted(r["salesperson"] for r in listed) == sorted([rep, colleague])
