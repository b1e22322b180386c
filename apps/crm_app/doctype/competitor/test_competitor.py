"""Competitors: named by their name (unique), the website must be an http(s) URL, a
competitor on a deal must exist, and a Sales User may add one over REST (their DocPerm)
but not delete it."""
import pytest

import lowcode
from lowcode.exceptions import DataError, DuplicateEntryError, LinkValidationError
from lowcode.testing.http import error, ok, post_json

from crm_app.tests.helpers import make_customer, make_opportunity, make_user, refresh, tag, token


def _competitor(**values):
    return lowcode.get_doc(dict({"doctype": "Competitor", "competitor_name": f"Rival {tag()}"}, **values)).insert()


def test_named_by_its_name_which_is_unique(ctx):
    rival = _competitor(website="https://rival.example.com")
    assert rival.name == rival.competitor_name
    with pytest.raises(DuplicateEntryError):
        _competitor(competitor_name=rival.name)


@pytest.mark.parametrize("website", ["rival dot com", "javascript:alert(1)", "ftp://rival.example.com"])
def test_the_website_must_be_a_web_url(ctx, website):
    with pytest.raises(DataError) as e:
        _competitor(website=website)
    assert e.value.field == "website"


def test_a_deal_names_only_existing_competitors(ctx):
    rival = _competitor().name
    opp = make_opportunity(make_customer().name, competitors=[{"competitor": rival}])
    assert [r.competitor for r in opp.competitors] == [rival]
    with pytest.raises(LinkValidationError) as e:
        make_opportunity(make_customer().name, competitors=[{"competitor": f"Ghost {tag()}"}])
    assert e.value.field == "competitor"


def test_a_sales_user_adds_but_does_not_delete(ctx, client, unique):
    rep = token(make_user(unique, "rivalrep"))
    refresh(ctx)
    name = f"Rival {unique}"
    ok(post_json(client, "/api/resource/Competitor", {"competitor_name": name}, **rep))
    error(client.delete(f"/api/resource/Competitor/{name}", **rep), 403)
    refresh(ctx)
    assert lowcode.db.exists("Competitor", name)
