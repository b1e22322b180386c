"""The Opportunity and Customer boards over HTTP, on both engines, as each role sees them:
card titles from the title field, column totals (count, amount and the amount weighted
by probability) over only the deals the user may read, and each card's Move to list
offering only the workflow transitions the user may take (none for a read-only role).

Small hand-checked set, all for one fresh customer in one fresh territory:
alice (Sales User) owns A1 1000 Prospecting (10 %), A2 3000 Qualification (25 %) and
A3 200 Lost; bob (Sales User) owns B1 500 Prospecting. The Sales Manager manages the
territory and sees all four; alice sees only hers."""
import json
from urllib.parse import urlencode
from decimal import Decimal

import pytest

import lowcode
from lowcode.tests.desk_helpers import login
from lowcode.tests.test_desk_kanban import parse_html

from crm_app.tests.helpers import (as_user, make_customer, make_lead, make_opportunity, make_territory, make_user,
                                   move, tag)


@pytest.fixture
def deals(ctx, unique):
    people = {"alice": make_user(unique, "alice"), "bob": make_user(unique, "bob"),
              "manager": make_user(unique, "manager", roles=("Sales Manager",)),
              "reader": make_user(unique, "reader", roles=("Marketing User",))}
    territory = make_territory(f"Kanban Land {tag()}", manager=people["manager"])
    customer = make_customer(f"Kanban Co {tag()}", territory=territory)
    reason = lowcode.get_doc({"doctype": "Lost Reason", "lost_reason": f"Reason {tag()}"}).insert().name
    made = {}
    with as_user(people["alice"]):
        made["A1"] = make_opportunity(customer.name, 1000, territory=territory, title=None)
        made["A2"] = move(make_opportunity(customer.name, 3000, territory=territory), "Qualify")
        made["A3"] = make_opportunity(customer.name, 200, territory=territory, lost_reason=reason)
        move(made["A3"], "Lose")
    with as_user(people["bob"]):
        made["B1"] = make_opportunity(customer.name, 500, territory=territory)
    return {"people": people, "customer": customer, "deals": made}


def board(ctx, client, user, customer):
    login(ctx, client, user)
    url = "/app/opportunity/view/kanban?" + "filters=" + json.dumps([["party_name", "=", customer.name]])
    response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    root = parse_html(response)
    columns = {}
    for section in root.find_all("section", cls="kanban-column"):
        value = section.find("ul", cls="kanban-cards").attrs["data-value"]
        totals = section.find_all("div", cls="kanban-totals")
        cards = {}
        for card in section.find_all("li", cls="kanban-card"):
            select = card.find_all("select")
            cards[card.attrs["data-name"]] = {
                "title": card.find("a").text,
                "moves": json.loads(card.attrs["data-moves"]) if "data-moves" in card.attrs else None,
                "options": [o.attrs["value"] for o in select[0].find_all("option")] if select else []}
        columns[value] = {"count": int(section.find("span", cls="badge").attrs["data-count"]),
                          "amount": Decimal(totals[0].attrs["data-amount"]) if totals else None,
                          "weighted": Decimal(totals[0].attrs["data-weighted"]) if totals else None,
                          "cards": cards}
    return columns


def test_totals_per_role(ctx, client, deals):
    d, customer = deals["deals"], deals["customer"]
    mine = board(ctx, client, deals["people"]["alice"], customer)
    assert (mine["Prospecting"]["count"], mine["Prospecting"]["amount"], mine["Prospecting"]["weighted"]) \
        == (1, Decimal(1000), Decimal(100))
    assert (mine["Qualification"]["count"], mine["Qualification"]["amount"], mine["Qualification"]["weighted"]) \
        == (1, Decimal(3000), Decimal(750))
    assert (mine["Lost"]["count"], mine["Lost"]["amount"], mine["Lost"]["weighted"]) == (1, Decimal(200), 0)
    assert mine["Won"]["count"] == 0 and mine["Won"]["amount"] == 0
    assert d["B1"].name not in mine["Prospecting"]["cards"]  # bob's deal is neither shown nor counted

    team = board(ctx, client, deals["people"]["manager"], customer)
    assert (team["Prospecting"]["count"], team["Prospecting"]["amount"], team["Prospecting"]["weighted"]) \
        == (2, Decimal(1500), Decimal(150))
    assert set(team["Prospecting"]["cards"]) == {d["A1"].name, d["B1"].name}


def test_card_title_is_the_title_field(ctx, client, deals):
    d, customer = deals["deals"], deals["customer"]
    mine = board(ctx, client, deals["people"]["alice"], customer)
    # A1 was made without a title: the deal is named by its party, as Frappe does
    assert mine["Prospecting"]["cards"][d["A1"].name]["title"] == customer.customer_name
    assert mine["Qualification"]["cards"][d["A2"].name]["title"] == d["A2"].title

    login(ctx, client, deals["people"]["manager"])
    response = client.get("/app/customer/view/kanban?field=customer_type&filters="
                          + json.dumps([["name", "=", customer.name]]))
    root = parse_html(response)
    card = root.find("li", cls="kanban-card", data_name=customer.name)
    assert card.find("a").text == customer.customer_name  # not CUST-00186


def test_move_menu_offers_only_the_users_transitions(ctx, client, deals):
    d, customer = deals["deals"], deals["customer"]
    mine = board(ctx, client, deals["people"]["alice"], customer)
    # Lose needs a lost reason (a condition on the deal); Reopen is the Sales Manager's
    assert mine["Prospecting"]["cards"][d["A1"].name]["options"] == ["Prospecting", "Qualification"]
    assert mine["Qualification"]["cards"][d["A2"].name]["options"] == ["Qualification", "Proposal"]
    assert mine["Lost"]["cards"][d["A3"].name]["moves"] == ["Lost"]
    assert mine["Lost"]["cards"][d["A3"].name]["options"] == []  # nowhere to go: no menu

    team = board(ctx, client, deals["people"]["manager"], customer)
    assert team["Lost"]["cards"][d["A3"].name]["options"] == ["Prospecting", "Lost"]

    read_only = board(ctx, client, deals["people"]["reader"], customer)
    for column in read_only.values():
        for card in column["cards"].values():
            assert card["moves"] is None and card["options"] == []


def test_move_answers_the_cards_new_menu(ctx, client, deals):
    d = deals["deals"]
    csrf = login(ctx, client, deals["people"]["manager"])
    response = client.post("/app/opportunity/view/kanban/move",
                           {"name": d["A3"].name, "field": "sales_stage", "value": "Prospecting"},
                           HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert response.status_code == 200, response.content[:500]
    # reopened: the lost reason is cleared, so only Qualify leads on
    assert json.loads(response.content)["moves"] == ["Prospecting", "Qualification"]


# -- link titles beside the id ----------------------------------------------------------------------

def test_link_titles_on_list_form_and_card(ctx, client, deals):
    """The customer's name beside its id on the Opportunity list, form and card; a
    linked lead alice may not read (bob's) shows its id only."""
    d, customer, people = deals["deals"], deals["customer"], deals["people"]
    with as_user(people["bob"]):
        lead = make_lead("Hidden", last_name=f"Person {tag()}", territory=deals["customer"].territory)
    lowcode.db.sql("UPDATE `tabOpportunity` SET `lead`=%s WHERE `name`=%s", (lead.name, d["A2"].name))

    def titles(root):
        return [n.text for n in root.iter() if "data-link-title" in n.attrs]

    login(ctx, client, people["alice"])
    listed = parse_html(client.get("/app/opportunity?" + "filters=" + json.dumps([["party_name", "=", customer.name]])))
    assert customer.customer_name in titles(listed)
    form = parse_html(client.get(f"/app/opportunity/{d['A2'].name}"))
    assert customer.customer_name in titles(form)  # the party's name (and the owner's), not the hidden lead's
    assert lead.name in form.text and lead.lead_name not in form.text
    card = parse_html(client.get("/app/opportunity/view/kanban?filters="
                                 + json.dumps([["name", "=", d["A2"].name]])))
    assert titles(card) == [customer.customer_name]

    login(ctx, client, people["manager"])  # manages the territory: may read the lead
    form = parse_html(client.get(f"/app/opportunity/{d['A2'].name}"))
    assert {customer.customer_name, lead.lead_name} <= set(titles(form))


# -- previous/next on the form within the list ------------------------------------------------------

def _nav(client, href):
    """(prev, next) record names of the form at ``href`` (None at either end)."""
    root = parse_html(client.get(href))
    nav = root.find("nav", id="record-nav")
    out = []
    for rel in ("prev", "next"):
        links = [a for a in nav.find_all("a") if a.attrs.get("rel") == rel]
        out.append(links[0].attrs["href"].split("?")[0].rsplit("/", 1)[1] if links else None)
    return tuple(out)


def test_prev_next_follow_the_list_filter_sort_and_permissions(ctx, client, deals):
    d, customer, people = deals["deals"], deals["customer"], deals["people"]
    list_url = "/app/opportunity?" + urlencode({"filters": json.dumps([["party_name", "=", customer.name]]),
                                                "order_by": "opportunity_amount asc", "page": "1"})
    login(ctx, client, people["alice"])
    listed = parse_html(client.get(list_url))
    href = next(a.attrs["href"] for a in listed.find_all("a")
                if a.attrs.get("href", "").startswith(f"/app/opportunity/{d['A1'].name}?"))
    assert "page" not in href.split("list=", 1)[1].replace("page_length", "")  # the list's query, not its paging
    # alice's deals by amount: A3 200, A1 1000, A2 3000 (bob's B1 500 is not hers)
    assert _nav(client, href) == (d["A3"].name, d["A2"].name)
    assert _nav(client, href.replace(d["A1"].name, d["A2"].name)) == (d["A1"].name, None)
    assert _nav(client, href.replace(d["A1"].name, d["A3"].name)) == (None, d["A1"].name)

    login(ctx, client, people["manager"])  # sees bob's deal too, in its place
    assert _nav(client, href) == (d["B1"].name, d["A2"].name)
    descending = href.replace("asc", "desc")
    assert _nav(client, descending) == (d["A2"].name, d["B1"].name)

    # opened directly, not from a list: no navigation
    root = parse_html(client.get(f"/app/opportunity/{d['A1'].name}"))
    assert not root.find_all("nav", id="record-nav")


def test_prev_next_in_the_default_order(ctx, client, deals):
    """The list's default order (modified, newest first): alice's A3 (lost last), A2, A1."""
    d, customer, people = deals["deals"], deals["customer"], deals["people"]
    login(ctx, client, people["alice"])
    query = urlencode({"list": urlencode({"filters": json.dumps([["party_name", "=", customer.name]])})})
    assert _nav(client, f"/app/opportunity/{d['A2'].name}?{query}") == (d["A3"].name, d["A1"].name)
    assert _nav(client, f"/app/opportunity/{d['A3'].name}?{query}") == (None, d["A2"].name)
