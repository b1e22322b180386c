"""Demo data (crm_app.demo.generate) on a SQLite site of its own: leads in several
statuses, opportunities in several stages, quotations and activities, all of them
valid documents (a sample is reloaded and saved again without error), dated over
the last year so the reports show history."""
import datetime

import pytest

import conftest
import lowcode

from crm_app import demo, reports


@pytest.fixture(scope="module")
def demo_site(bench):
    site = conftest.create_site(bench, "sqlite")
    try:
        with lowcode.site_context(site, bench=bench):
            made = demo.generate(count=200)
            lowcode.db.commit()
        yield {"site": site, "bench": bench, "made": made}
    finally:
        conftest.drop_site(bench, site)


@pytest.fixture
def dctx(demo_site):
    with lowcode.site_context(demo_site["site"], bench=demo_site["bench"]) as local:
        yield local


def _count_by(doctype, field):
    return {r[field]: r["n"] for r in lowcode.get_all(doctype, fields=[field, "count(*) as n"], group_by=field)}


def test_generate_reports_what_it_made(dctx, demo_site):
    made = demo_site["made"]
    assert made["Lead"] == 50
    assert made["Lead"] == lowcode.get_count("Lead")
    assert made["Customer"] == lowcode.get_count("Customer") > 0
    assert made["Opportunity"] == lowcode.get_count("Opportunity") > 0
    assert made["Quotation"] == lowcode.get_count("Quotation") > 0
    activities = sum(lowcode.get_count(d) for d in ("Call Log", "Event", "Task", "Note", "Communication"))
    assert made["activities"] == activities


def test_leads_in_several_statuses(dctx):
    statuses = _count_by("Lead", "status")
    assert len(statuses) >= 4, statuses
    assert {"New", "Contacted", "Converted"} <= set(statuses)


def test_opportunities_in_several_stages(dctx):
    stages = _count_by("Opportunity", "sales_stage")
    assert len(stages) >= 3, stages


def test_quotations_and_activities(dctx):
    assert len(_count_by("Quotation", "status")) >= 2
    for doctype in ("Call Log", "Event", "Task"):
        assert lowcode.get_count(doctype) > 0, doctype


def test_demo_masters_and_users(dctx):
    assert lowcode.get_count("Lead Source") == len(demo.SOURCES)
    assert lowcode.get_count("Product") == len(demo.PRODUCTS)
    assert lowcode.db.get_value("Territory", "Iran", "territory_manager") == "manager@demo.local"
    assert lowcode.db.exists("Assignment Rule", "Leads round robin")
    owners = {r["lead_owner"] for r in lowcode.get_all("Lead", fields=["lead_owner"])}
    assert owners <= {e for e, _, r in demo.USERS if r == "Sales User"}, owners  # the round robin spread them


def test_demo_parties(dctx):
    """Suppliers and partners with a contact and an address each, an employee for every demo
    user (the salespeople reporting to the manager's), and relations between real records."""
    from crm_app.party_360 import contacts, addresses
    suppliers = lowcode.get_all("Supplier", pluck="name")
    partners = lowcode.get_all("Sales Partner", pluck="name")
    assert len(suppliers) == len(demo.SUPPLIERS) and len(partners) == len(demo.PARTNERS)
    for doctype, names in (("Supplier", suppliers), ("Sales Partner", partners)):
        for name in names:
            assert len(contacts(doctype, name)) == 1 and len(addresses(doctype, name)) == 1, (doctype, name)
    employees = {r["user_id"]: r for r in lowcode.get_all("Employee", fields=["name", "user_id", "reports_to"])}
    assert set(employees) == {e for e, _, _ in demo.USERS}
    manager = employees["manager@demo.local"]
    assert manager["reports_to"] is None
    assert {employees[e]["reports_to"] for e, _, r in demo.USERS if r == "Sales User"} == {manager["name"]}
    relations = lowcode.get_all("Party Relation", fields=["from_type", "from_party", "to_type", "to_party"])
    assert {r["from_type"] for r in relations} | {r["to_type"] for r in relations} >= {
        "Customer", "Supplier", "Sales Partner", "Employee"}
    for r in relations:
        assert lowcode.db.exists(r["from_type"], r["from_party"]) and lowcode.db.exists(r["to_type"], r["to_party"])


def test_converted_leads_are_tied_to_their_customer(dctx):
    """Each converted lead has its customer, and is a contact of it (several leads of one
    organisation share one customer, which names the first of them as its lead)."""
    for lead in lowcode.get_all("Lead", fields=["name", "customer", "opportunity", "email_id"],
                                filters={"status": "Converted"}):
        assert lead["customer"] and lead["opportunity"]
        first = lowcode.db.get_value("Customer", lead["customer"], "lead")
        assert lowcode.db.get_value("Lead", first, "customer") == lead["customer"]
        emails = lowcode.get_all("Contact", filters=[["Dynamic Link", "link_name", "=", lead["customer"]]],
                                 pluck="email_id")
        assert lead["email_id"] in emails, (lead, emails)


def test_no_duplicate_customers(dctx):
    names = lowcode.get_all("Customer", pluck="customer_name")
    assert len(names) == len({n.strip().lower() for n in names}), sorted(names)
    converted = lowcode.get_count("Lead", filters={"status": "Converted"})
    assert 0 < len(names) <= converted


def test_duplicate_flags_are_realistic(dctx):
    """Only leads that share an e-mail or mobile with an earlier one are flagged (the
    demo re-enters a few people); a shared organisation alone flags nothing."""
    leads = {r["name"]: r for r in lowcode.get_all("Lead", fields=["name", "email_id", "mobile_e164",
                                                                   "is_duplicate", "duplicate_of"])}
    flagged = [r for r in leads.values() if r["is_duplicate"]]
    assert len(flagged) <= 0.1 * len(leads), f"{len(flagged)} of {len(leads)} leads flagged"
    for r in flagged:
        original = leads[r["duplicate_of"]]
        assert r["mobile_e164"] == original["mobile_e164"] or r["email_id"].lower() == original["email_id"].lower()


def test_deals_lost_to_a_competitor_name_it(dctx):
    lost = lowcode.get_all("Opportunity", fields=["name", "lost_reason", "lost_to_competitor"],
                           filters={"sales_stage": "Lost"})
    assert lost
    for opp in lost:
        assert bool(opp["lost_to_competitor"]) == (opp["lost_reason"] == demo.COMPETITOR_REASON), opp


def test_won_opportunities_have_their_amount(dctx):
    for opp in lowcode.get_all("Opportunity", fields=["name", "won_amount", "opportunity_amount", "closed_on"],
                               filters={"sales_stage": "Won"}):
        assert float(opp["won_amount"]) == float(opp["opportunity_amount"]) > 0 and opp["closed_on"]


@pytest.mark.parametrize("doctype", ["Lead", "Customer", "Contact", "Opportunity", "Quotation", "Call Log", "Event",
                                     "Task", "Lead Source", "Campaign", "Supplier", "Sales Partner", "Employee",
                                     "Party Relation", "Address"])
def test_documents_are_valid(dctx, doctype):
    """A sample of every kind reloads and saves again through the full validation."""
    names = lowcode.get_all(doctype, pluck="name", order_by="creation asc")
    assert names, doctype
    for name in names[:3] + names[-3:]:
        doc = lowcode.get_doc(doctype, name)
        doc.save()
        assert lowcode.get_doc(doctype, name).modified == doc.modified


def test_generate_needs_a_system_manager(dctx, unique):
    user = f"demo-{unique}@example.com"
    lowcode.get_doc({"doctype": "User", "email": user, "first_name": "Demo",
                     "roles": [{"role": "Sales Manager"}]}).insert()
    lowcode.set_user(user)
    try:
        with pytest.raises(lowcode.PermissionError):
            demo.generate(count=10)
    finally:
        lowcode.set_user("Administrator")


def test_business_dates_spread_over_the_last_year(dctx):
    """Leads arrive over many months (not all on the day the demo ran), deals close
    weeks after they open, tasks are done on time or late."""
    months = {str(d)[:7] for d in lowcode.get_all("Lead", pluck="lead_date")}
    assert len(months) >= 8, months
    closed = lowcode.get_all("Opportunity", fields=["transaction_date", "closed_on", "sales_stage"],
                             filters=[["sales_stage", "in", ["Won", "Lost"]]])
    assert closed and all(str(o["closed_on"]) >= str(o["transaction_date"]) for o in closed)
    people = reports.salesperson_performance()
    cycles = [p["avg_cycle_days"] for p in people if p["avg_cycle_days"] is not None]
    assert cycles and all(c >= 10 for c in cycles), people
    punctuality = reports.task_punctuality()
    assert sum(p["on_time"] for p in punctuality) > 0 and sum(p["late"] for p in punctuality) > 0, punctuality


def test_reports_for_the_last_quarter_have_costs_and_leads(dctx):
    quarter = ((datetime.date.today() - datetime.timedelta(days=90)).isoformat(), datetime.date.today().isoformat())
    sources = reports.source_roi(*quarter)
    assert sources and all(s["cost"] > 0 for s in sources) and sum(s["leads"] for s in sources) > 0, sources
    everything = reports.sales_funnel()["stages"][0]["count"]
    assert 0 < reports.sales_funnel(*quarter)["stages"][0]["count"] < everything
