"""KPI templates (seed 002, "measurable success"): the public workspaces "Sales KPIs",
"Marketing KPIs" (crm_app) and "Service KPIs" (service_app) shipped as fixtures, each on
the home page of its managers' roles only; their cards computed with the viewer's
permissions (figures by hand on a few records of fresh users, so the shared site's other
records stay out of their rows); and "Duplicate", which gives a manager a private copy
to change."""
import datetime
import json
import re
from urllib.parse import unquote

import pytest
from django.test import Client

import lowcode
from lowcode.desk.doctype.workspace.workspace import duplicate
from lowcode.exceptions import PermissionError, ValidationError
from lowcode.testing.http import login

from .helpers import as_user, body, make_customer, make_opportunity, make_territory, make_user, move, refresh

KPI_WORKSPACES = ("Sales KPIs", "Marketing KPIs", "Service KPIs")


def _home(ctx, client, user):
    login(ctx, client, user)
    response = client.get("/app")
    assert response.status_code == 200
    return response.content.decode()


def _another(client):
    """A second browser on the same site."""
    return Client(HTTP_HOST=client.defaults["HTTP_HOST"])


def _shown(page):
    return {name for name in KPI_WORKSPACES if f'data-workspace="{name}"' in page}


def _cards(page, workspace):
    section = re.search(rf'data-workspace="{re.escape(workspace)}".*?</section>', page, re.S).group(0)
    return {card: float(value) if value else None
            for card, value in re.findall(r'data-card="([^"]+)" data-value="([^"]*)"', section)}


def test_each_kpi_workspace_shows_to_its_managers(ctx, client, unique):
    service = lowcode.db.table_exists("Case")
    people = {"Sales Manager": {"Sales KPIs"}, "Marketing User": {"Marketing KPIs"}, "Sales User": set(),
              "CRM Admin": {"Sales KPIs", "Marketing KPIs"}}
    if service:
        people["Support Manager"] = {"Service KPIs"}
    for role, expected in people.items():
        user = make_user(unique, role.lower().replace(" ", "-"), roles=(role,))
        assert _shown(_home(ctx, _another(client), user)) == expected, role
    everything = set(KPI_WORKSPACES) if service else {"Sales KPIs", "Marketing KPIs"}
    assert _shown(_home(ctx, client, "Administrator")) == everything


def test_sales_kpi_cards_for_a_manager_and_a_salesperson(ctx, unique):
    """A Sales Manager of a fresh territory sees its deals; the salesperson who owns them
    sees theirs, including one elsewhere. Opportunities: A 1000 open (Prospecting) and
    B 3000 won today and C 2000 lost today, all three in the manager's territory; D 500
    open elsewhere."""
    manager = make_user(unique, "kpi-manager", roles=("Sales Manager",))
    rep = make_user(unique, "kpi-rep")
    mine = make_territory(f"KPI {unique}", manager=manager)
    elsewhere = make_territory(f"KPI elsewhere {unique}")
    customer = make_customer().name
    if not lowcode.db.exists("Lost Reason", "KPI test"):
        lowcode.get_doc({"doctype": "Lost Reason", "lost_reason": "KPI test"}).insert()
    make_opportunity(customer, 1000, territory=mine, opportunity_owner=rep)
    move(make_opportunity(customer, 3000, territory=mine, opportunity_owner=rep), "Qualify", "Propose", "Win")
    move(make_opportunity(customer, 2000, territory=mine, opportunity_owner=rep, lost_reason="KPI test"), "Lose")
    make_opportunity(customer, 500, territory=elsewhere, opportunity_owner=rep)
    cards = ("Open pipeline", "Won this month", "Deals won this quarter", "Deals lost this quarter", "Average won deal")
    by_hand = {
        # A 1000 open; B 3000 won (this month and quarter); C lost; the average won deal is B
        manager: [1000, 3000, 1, 1, 3000],
        # A + D open: 1500
        rep: [1500, 3000, 1, 1, 3000],
    }
    for user, expected in by_hand.items():
        with as_user(user):
            got = [lowcode.get_doc("Number Card", card).get_value() for card in cards]
        assert [float(v or 0) for v in got] == expected, user


def test_marketing_kpi_cards_on_the_home_page(ctx, client, unique):
    """A Marketing User's leads (they own them): two arrived today, one of them from a
    campaign, and one arrived two months ago (imported history: not this month)."""
    marketer = make_user(unique, "kpi-marketer", roles=("Marketing User",))
    campaign = lowcode.get_doc({"doctype": "Campaign", "campaign_name": f"KPI {unique}"}).insert().name
    today = datetime.date.today()
    for values in ({"campaign": campaign}, {}, {"lead_date": (today - datetime.timedelta(days=62)).isoformat()}):
        lowcode.get_doc(dict({"doctype": "Lead", "first_name": "Kpi", "lead_owner": marketer,
                              "email_id": f"kpi-{unique}-{len(values)}-{values.get('lead_date', '')}@example.com"},
                             **values)).insert()
    cards = _cards(_home(ctx, client, marketer), "Marketing KPIs")
    assert cards["New leads this month"] == 2
    assert cards["Leads from campaigns this month"] == 1


def test_a_manager_duplicates_a_kpi_workspace_and_changes_the_copy(ctx, client, unique):
    manager = make_user(unique, "dup-manager", roles=("Sales Manager",))
    colleague = make_user(unique, "dup-colleague", roles=("Sales Manager",))
    token = login(ctx, client, manager)
    form = client.get("/app/workspace/Sales KPIs").content.decode()
    assert "Duplicate" in form
    response = client.post("/app/workspace/Sales KPIs", {"csrf_token": token, "_action": "app:0"})
    assert response.status_code == 302, response.content[:500]
    refresh(ctx)
    name = unquote(response["Location"].split("?")[0].rsplit("/", 1)[1])
    copy = lowcode.get_doc("Workspace", name)
    original = lowcode.get_doc("Workspace", "Sales KPIs")
    assert copy.label.startswith("Sales KPIs (copy)") and copy.owner == manager
    assert int(copy.is_public) == 0 and not copy.roles
    assert [r.number_card for r in copy.number_cards] == [r.number_card for r in original.number_cards]
    assert [r.chart for r in copy.charts] == [r.chart for r in original.charts]
    assert f'data-workspace="{copy.name}"' in _home(ctx, client, manager)
    assert f'data-workspace="{copy.name}"' not in _home(ctx, _another(client), colleague)

    with as_user(manager):
        mine = lowcode.get_doc("Workspace", copy.name)
        mine.number_cards = mine.number_cards[:2]
        mine.save()
        assert len(lowcode.get_doc("Workspace", copy.name).number_cards) == 2
        mine.is_public = 1
        with pytest.raises(ValidationError) as e:
            mine.save()
        assert e.value.field == "is_public"
        again = duplicate("Sales KPIs")["name"]
        assert again != copy.name and again.startswith("Sales KPIs (copy)")
    with as_user(colleague):  # someone else's private workspace is not theirs to copy
        with pytest.raises(PermissionError):
            duplicate(copy.name)
    # the shipped workspace itself stays as it is: not the manager's to change
    token = login(ctx, client, manager)
    denied = client.put("/api/resource/Workspace/Sales KPIs", json.dumps({"sequence_id": 99}),
                        content_type="application/json", HTTP_X_FRAPPE_CSRF_TOKEN=token)
    assert denied.status_code == 403, body(denied)
    refresh(ctx)
    assert int(lowcode.db.get_value("Workspace", "Sales KPIs", "sequence_id")) == 10


def test_an_imported_lead_counts_in_the_week_it_arrived(ctx, unique):
    """The Marketing KPIs' "New leads" chart counts leads by Lead Date, not by when the
    record was typed in: a lead imported today with a lead date of 2031-01-10 is the one
    lead of the week starting Monday 2031-01-06 (the chart seen on 2031-02-01: the last
    quarter, weekly, the viewer's own leads)."""
    import datetime
    marketer = make_user(unique, "kpi-imported", roles=("Marketing User",))
    lowcode.get_doc({"doctype": "Lead", "first_name": "Imported", "lead_owner": marketer, "lead_date": "2031-01-10",
                     "email_id": f"imported-{unique}@example.com"}).insert()
    with as_user(marketer):
        data = lowcode.get_doc("Dashboard Chart", "New leads").get_data(today=datetime.date(2031, 2, 1))
    assert dict(zip(data["labels"], data["values"]))["2031-01-06"] == 1
    assert sum(data["values"]) == 1
