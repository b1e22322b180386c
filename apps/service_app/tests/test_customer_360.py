"""Cases in the customer's 360° view (crm_app reads the customer_360_sections hook):
SLA state and satisfaction scores, and only the cases the user may read."""
import lowcode

from crm_app.customer_360 import get_customer_360
from crm_app.tests.helpers import as_user
from lowcode.tests.desk_helpers import login
from service_app.tests.helpers import make_agent, make_case, make_customer


def with_sla(case, **values):
    lowcode.db.sql(f"UPDATE `tabCase` SET {', '.join(f'`{k}`=%s' for k in values)} WHERE `name`=%s",
                   (*values.values(), case.name))
    return case.name


def world(unique):
    customer = make_customer().name
    agent = make_agent(unique, "agent", roles=("Support Agent", "Sales Manager"))
    first = with_sla(make_case(customer=customer, assigned_to=agent), agreement_status="First Response Due",
                     response_by="2031-01-02 10:00:00", response_breached=1, satisfaction_score=4, nps_score=9)
    second = with_sla(make_case(customer=customer), agreement_status="Resolution Due",
                      resolution_by="2031-01-05 17:00:00", satisfaction_score=2, status="Resolved",
                      resolution_details="Done")
    make_case(customer=make_customer().name)  # another customer's
    return customer, agent, first, second


def section(customer):
    sections = [s for s in get_customer_360(customer)["sections"] if s["key"] == "cases"]
    return sections[0] if sections else None


def test_cases_show_with_their_sla_state_and_scores(ctx, unique):
    customer, agent, first, second = world(unique)
    cases = section(customer)
    rows = {r["name"]: r for r in cases["rows"]}
    assert set(rows) == {first, second}
    assert (rows[first]["agreement_status"], str(rows[first]["due"])[:19], rows[first]["breached"]) == (
        "First Response Due", "2031-01-02 10:00:00", 1)
    assert (str(rows[second]["due"])[:19], rows[second]["breached"], rows[second]["satisfaction_score"]) == (
        "2031-01-05 17:00:00", 0, 2)
    figures = {f["key"]: f["value"] for f in cases["figures"]}
    assert figures == {"open": 1, "breached": 1, "csat": 3.0, "nps": 9.0}


def test_only_cases_the_user_may_read(ctx, unique):
    customer, agent, first, second = world(unique)
    with as_user(agent):  # an agent: only the case assigned to them
        cases = section(customer)
        assert [r["name"] for r in cases["rows"]] == [first]
        assert {f["key"]: f["value"] for f in cases["figures"]}["csat"] == 4.0
    seller = make_agent(unique, "seller", roles=("Sales Manager",))
    with as_user(seller):  # may read the customer, not cases
        assert section(customer) is None


def test_the_360_page_shows_the_cases_section(ctx, client, unique):
    customer, agent, first, second = world(unique)
    seller = make_agent(unique, "seller", roles=("Sales Manager",))
    login(ctx, client, agent)
    html = client.get(f"/app/customer-360/{customer}").content.decode()
    assert 'id="section-cases"' in html and f'data-name="{first}"' in html and second not in html
    login(ctx, client, seller)
    r = client.get(f"/app/customer-360/{customer}")
    assert r.status_code == 200 and 'id="section-cases"' not in r.content.decode() and first not in r.content.decode()
