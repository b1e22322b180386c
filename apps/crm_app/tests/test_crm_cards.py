"""A number card on Lead with a Timespan filter, as the CRM's users see it on their
workspace (issue 10, cards): the figure computed by hand over a small set of leads, for
an admin (every lead) and for a Sales User (crm_app's row rules: the leads they own)."""
import datetime
import json
import re

import lowcode
from lowcode.testing.http import login

from .helpers import make_lead, make_user, refresh, tag


def card_value(client, workspace, card):
    page = client.get("/app").content.decode()
    section = re.search(rf'data-workspace="{re.escape(workspace)}".*?</section>', page, re.S).group(0)
    return float(re.search(rf'data-card="{re.escape(card)}" data-value="([^"]*)"', section).group(1))


def test_lead_card_with_timespan_for_admin_and_sales_user(ctx, client, unique):
    company = f"Cards {unique} {tag()}"  # the leads of this test only, on a shared site
    seller, other = make_user(unique, "seller"), make_user(unique, "other")
    today = datetime.date.today()
    leads = [(seller, 1000, today), (seller, 2000, today - datetime.timedelta(days=10)),
             (seller, 4000, today - datetime.timedelta(days=60)), (other, 8000, today)]
    for owner, revenue, day in leads:
        make_lead(company_name=company, lead_owner=owner, annual_revenue=revenue, lead_date=day.isoformat())
    card = lowcode.get_doc({"doctype": "Number Card", "label": f"Recent revenue {unique}", "document_type": "Lead",
                            "function": "Sum", "aggregate_function_based_on": "annual_revenue",
                            "filters_json": json.dumps([["company_name", "=", company],
                                                        ["lead_date", "Timespan", "last 30 days"]])}).insert()
    ws = lowcode.get_doc({"doctype": "Workspace", "label": f"Sales cards {unique}", "is_public": 1,
                          "number_cards": [{"number_card": card.name}]}).insert()
    refresh(ctx)
    start = today - datetime.timedelta(days=29)
    by_hand = {None: sum(r for _o, r, d in leads if start <= d <= today),
               seller: sum(r for o, r, d in leads if o == seller and start <= d <= today)}
    assert by_hand == {None: 11000, seller: 3000}
    login(ctx, client, "Administrator")
    assert card_value(client, ws.name, card.name) == by_hand[None]
    sales = client.__class__(HTTP_HOST=client.defaults["HTTP_HOST"])
    login(ctx, sales, seller)
    assert card_value(sales, ws.name, card.name) == by_hand[seller]
