"""Lead Sources: named by their name (unique), the channel is one of the listed ones,
each cost row needs its date and amount, a lead's source must exist, and a Marketing
User keeps sources over REST while a Sales User only reads them. What the costs give in
the ROI report is tested in crm_app/tests/test_reports.py."""
import pytest

import lowcode
from lowcode.exceptions import DuplicateEntryError, LinkValidationError, MandatoryError, ValidationError
from lowcode.testing.http import error, ok, post_json

from crm_app.tests.helpers import make_lead, make_user, refresh, tag, token


def _source(**values):
    return lowcode.get_doc(dict({"doctype": "Lead Source", "source_name": f"Expo {tag()}"}, **values)).insert()


def test_named_by_its_name_with_its_costs(ctx):
    source = _source(channel="Exhibition", costs=[{"date": "2026-03-01", "amount": 1500},
                                                  {"date": "2026-04-01", "amount": 500}])
    stored = lowcode.get_doc("Lead Source", source.source_name)
    assert stored.channel == "Exhibition"
    assert [(str(c.date), float(c.amount)) for c in stored.costs] == [("2026-03-01", 1500.0), ("2026-04-01", 500.0)]
    with pytest.raises(DuplicateEntryError):
        _source(source_name=source.name)


def test_the_channel_is_one_of_the_list(ctx):
    with pytest.raises(ValidationError) as e:
        _source(channel="Carrier Pigeon")
    assert e.value.field == "channel"


@pytest.mark.parametrize("missing", ["date", "amount"])
def test_a_cost_needs_its_date_and_amount(ctx, missing):
    row = {"date": "2026-03-01", "amount": 100}
    del row[missing]
    with pytest.raises(MandatoryError) as e:
        _source(costs=[row])
    assert e.value.field == missing


def test_a_leads_source_must_exist(ctx):
    source = _source().name
    assert make_lead(source=source).source == source
    with pytest.raises(LinkValidationError) as e:
        make_lead(source=f"Nowhere {tag()}")
    assert e.value.field == "source"


def test_marketing_keeps_sources_sales_reads_them(ctx, client, unique):
    rep = token(make_user(unique, "srcrep"))
    marketer = token(make_user(unique, "srcmkt", roles=("Marketing User",)))
    refresh(ctx)
    error(post_json(client, "/api/resource/Lead Source", {"source_name": f"Rep {unique}"}, **rep), 403)
    ok(post_json(client, "/api/resource/Lead Source", {"source_name": f"Mkt {unique}", "channel": "Website"},
                 **marketer))
    assert ok(client.get(f"/api/resource/Lead Source/Mkt {unique}", **rep))["data"]["channel"] == "Website"
    refresh(ctx)
    assert not lowcode.db.exists("Lead Source", f"Rep {unique}")
