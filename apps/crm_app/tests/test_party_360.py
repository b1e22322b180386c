"""Parties and their 360° views (crm_app/party_360.py): a Party Relation between real
records (customer, supplier, sales partner, employee) shows on both parties' views; a
supplier's view gathers its contacts, addresses, activities and communications as the
viewer may read them (others' private notes, and the titles of records the viewer may not
read, stay out); an employee's view counts their leads, opportunities and customers, each
figure checked against hand-computed values for every kind of viewer; the desk pages
escape what they show and refuse who may not read the party; the customer's view keeps
its own hook beside the new one."""
import pytest

import lowcode
from lowcode.exceptions import PermissionError, ValidationError
from lowcode.testing.http import error, ok
from lowcode.tests.desk_helpers import login

from crm_app.customer_360 import get_customer_360
from crm_app.party_360 import get_party_360
from crm_app.tests.helpers import (as_user, make_customer, make_lead, make_opportunity, make_territory, make_user,
                                   move, refresh, token)


def _relation(from_type, from_party, relation, to_type, to_party):
    return lowcode.get_doc({"doctype": "Party Relation", "from_type": from_type, "from_party": from_party,
                            "relation": relation, "to_type": to_type, "to_party": to_party}).insert().name


def _supplier(name):
    return lowcode.get_doc({"doctype": "Supplier", "supplier_name": name}).insert().name


def test_a_relation_shows_on_both_parties(ctx, unique):
    supplier = _supplier(f"Kaveh Paper {unique}")
    customer = make_customer(f"Arya Print {unique}").name
    partner = lowcode.get_doc({"doctype": "Sales Partner", "partner_name": f"Partner {unique}"}).insert().name
    employee = lowcode.get_doc({"doctype": "Employee", "employee_name": f"Nima {unique}"}).insert().name
    supplies = _relation("Supplier", supplier, "Supplier of", "Customer", customer)
    refers = _relation("Sales Partner", partner, "Partner of", "Supplier", supplier)
    works = _relation("Employee", employee, "Employee of", "Sales Partner", partner)

    def seen(relations):
        return sorted((r["name"], r["direction"], r["party_type"], r["party"], r["title"]) for r in relations)

    assert seen(get_party_360("Supplier", supplier)["relations"]) == sorted([
        (supplies, "to", "Customer", customer, f"Arya Print {unique}"),
        (refers, "from", "Sales Partner", partner, f"Partner {unique}")])
    assert seen(get_customer_360(customer)["relations"]) == [
        (supplies, "from", "Supplier", supplier, f"Kaveh Paper {unique}")]
    assert seen(get_party_360("Sales Partner", partner)["relations"]) == sorted([
        (refers, "to", "Supplier", supplier, f"Kaveh Paper {unique}"),
        (works, "from", "Employee", employee, f"Nima {unique}")])
    assert seen(get_party_360("Employee", employee)["relations"]) == [
        (works, "to", "Sales Partner", partner, f"Partner {unique}")]


def test_supplier_360_as_a_salesperson(ctx, unique):
    """Contacts, addresses and the activities naming the supplier, read as a Sales User:
    another user's private note stays out, and so does the title of a lead the viewer
    may not read (the relation itself is theirs to see)."""
    author = make_user(unique, "author360")
    rep = make_user(unique, "rep360")
    supplier = _supplier(f"Sepahan Cables {unique}")
    link = [{"link_doctype": "Supplier", "link_name": supplier}]
    contact = lowcode.get_doc({"doctype": "Contact", "first_name": "Omid", "email_id": f"omid-{unique}@example.com",
                               "links": link}).insert().name
    address = lowcode.get_doc({"doctype": "Address", "address_title": "Warehouse", "address_line1": "Road 7",
                               "city": "Isfahan", "links": link}).insert().name
    lowcode.get_doc({"doctype": "Contact", "first_name": "Elsewhere"}).insert()
    ref = {"reference_doctype": "Supplier", "reference_name": supplier}
    call = lowcode.get_doc(dict(ref, doctype="Call Log", phone="09121234567", started_at="2024-03-01 10:00:00")).insert()
    mail = lowcode.get_doc(dict(ref, doctype="Communication", subject="Price list",
                                communication_date="2024-04-05 09:30:00")).insert()
    with as_user(author):
        private = lowcode.get_doc(dict(ref, doctype="Note", title="their margins", is_private=1)).insert().name
    hidden_lead = make_lead(first_name="Hidden", lead_owner=author).name
    _relation("Lead", hidden_lead, "Referred by", "Supplier", supplier)

    with as_user(rep):
        data = get_party_360("Supplier", supplier)
    assert data["title"] == f"Sepahan Cables {unique}" and data["party"]["name"] == supplier
    assert [(d["fieldname"], d["value"]) for d in data["details"]] == [("supplier_type", "Company")]
    assert [c["name"] for c in data["contacts"]] == [contact]
    assert [a["name"] for a in data["addresses"]] == [address]
    assert [(t["doctype"], t["name"]) for t in data["timeline"]] == [("Communication", mail.name),
                                                                     ("Call Log", call.name)]
    assert [(r["party"], r["title"]) for r in data["relations"]] == [(hidden_lead, None)]
    with as_user(author):
        assert private in {t["name"] for t in get_party_360("Supplier", supplier)["timeline"]}


def test_only_parties_have_a_360_view_and_only_for_readers(ctx, unique):
    with pytest.raises(ValidationError) as e:
        get_party_360("User", "Administrator")
    assert e.value.field == "doctype"
    supplier = _supplier(f"Guarded {unique}")
    with as_user(make_user(unique, "marketer360", roles=("Marketing User",))):  # may not read suppliers
        with pytest.raises(PermissionError):
            get_party_360("Supplier", supplier)


@pytest.fixture
def work(ctx, unique):
    """An employee whose user owns three leads, four opportunities and manages two
    customers; part of them in a territory a Sales Manager manages."""
    owner = make_user(unique, "owner360")
    manager = make_user(unique, "tmgr360", roles=("Sales Manager",))
    territory = make_territory(f"Region {unique}", manager=manager)
    employee = lowcode.get_doc({"doctype": "Employee", "employee_name": f"Owner {unique}",
                                "user_id": owner}).insert().name
    make_lead(lead_owner=owner, territory=territory)                                  # New, in the region
    qualified = make_lead(lead_owner=owner)
    move(qualified, "Contact", "Qualify")                                             # Qualified, elsewhere
    move(make_lead(lead_owner=owner, territory=territory), "Disqualify")              # Unqualified, in the region
    make_lead(lead_owner=manager)                                                     # someone else's
    customer = make_customer(f"Work {unique}", account_manager=owner).name
    make_customer(f"Work 2 {unique}", account_manager=owner)
    make_customer(f"Not theirs {unique}")
    make_opportunity(customer, amount=1000, opportunity_owner=owner, territory=territory)   # Prospecting, region
    move(make_opportunity(customer, amount=2500, opportunity_owner=owner), "Qualify", "Propose")  # Proposal
    move(make_opportunity(customer, amount=400, opportunity_owner=owner, territory=territory),
         "Qualify", "Propose", "Win")                                                 # Won, region
    lowcode.get_doc({"doctype": "Lost Reason", "lost_reason": f"Lost {unique}"}).insert()
    move(make_opportunity(customer, amount=9999, opportunity_owner=owner, lost_reason=f"Lost {unique}"), "Lose")
    make_opportunity(customer, amount=77, opportunity_owner=manager)                  # someone else's
    return {"employee": employee, "owner": owner, "manager": manager,
            "admin": make_user(unique, "admin360", roles=("CRM Admin",)), "other": make_user(unique, "other360")}


def _figures(employee):
    return {f["key"]: f["value"] for s in get_party_360("Employee", employee)["sections"] for f in s["figures"]}


def test_employee_360_figures_for_each_viewer(work):
    # The owner and a CRM Admin see every row of the owner's:
    #   leads 3 (New, Qualified, Unqualified), open 2 (New + Qualified);
    #   open opportunities 2: pipeline 1000 + 2500 = 3500; won 400; customers 2.
    everything = {"leads": 3, "open_leads": 2, "open_opportunities": 2, "open_pipeline": 3500.0,
                  "won_revenue": 400.0, "customers": 2}
    for viewer in ("owner", "admin"):
        with as_user(work[viewer]):
            assert _figures(work["employee"]) == everything, viewer
    # The region's Sales Manager sees the rows in the region only:
    #   leads 2 (New + Unqualified), open 1; open opportunities 1 (1000), won 400; customers 2 (no row rule).
    with as_user(work["manager"]):
        assert _figures(work["employee"]) == {"leads": 2, "open_leads": 1, "open_opportunities": 1,
                                              "open_pipeline": 1000.0, "won_revenue": 400.0, "customers": 2}
    # Another salesperson reads none of the owner's leads or opportunities.
    with as_user(work["other"]):
        assert _figures(work["employee"]) == {"leads": 0, "open_leads": 0, "open_opportunities": 0,
                                              "open_pipeline": 0.0, "won_revenue": 0.0, "customers": 2}


def test_employee_360_rows_are_the_viewers(work):
    with as_user(work["manager"]):
        sections = {s["key"]: s for s in get_party_360("Employee", work["employee"])["sections"]}
    assert sorted(r["opportunity_amount"] for r in sections["employee-opportunities"]["rows"]) == [400, 1000]
    assert sorted(r["status"] for r in sections["employee-leads"]["rows"]) == ["New", "Unqualified"]
    assert len(sections["employee-customers"]["rows"]) == 2


def test_an_employee_without_user_has_no_work_sections(ctx, unique):
    employee = lowcode.get_doc({"doctype": "Employee", "employee_name": f"Contractor {unique}"}).insert().name
    assert get_party_360("Employee", employee)["sections"] == []


def test_party_360_desk_pages(ctx, client, unique):
    rep = make_user(unique, "deskrep360")
    marketer = make_user(unique, "deskmkt360", roles=("Marketing User",))
    supplier = _supplier(f"<script>alert(1)</script> {unique}")
    customer = make_customer(f"Buyer {unique}").name
    _relation("Supplier", supplier, "Supplier of", "Customer", customer)
    partner = lowcode.get_doc({"doctype": "Sales Partner", "partner_name": f"Desk Partner {unique}"}).insert().name
    employee = lowcode.get_doc({"doctype": "Employee", "employee_name": f"Desk Employee {unique}",
                                "user_id": rep}).insert().name
    rep_auth, marketer_auth = token(rep), token(marketer)
    refresh(ctx)
    html = client.get(f"/app/supplier-360/{supplier}", **rep_auth)
    assert html.status_code == 200, html.content[:500]
    text = html.content.decode()
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert f"Buyer {unique}" in text and 'id="relations"' in text
    employee_page = client.get(f"/app/employee-360/{employee}", **rep_auth).content.decode()
    assert 'id="details"' in employee_page and f'href="/app/user/{rep.replace("@", "%40")}"' in employee_page  # the user it is
    for route, name, title in (("sales-partner-360", partner, f"Desk Partner {unique}"),
                               ("employee-360", employee, f"Desk Employee {unique}")):
        page = client.get(f"/app/{route}/{name}", **rep_auth)
        assert page.status_code == 200 and title in page.content.decode()
    assert 'id="section-employee-leads-title"' in client.get(f"/app/employee-360/{employee}", **rep_auth).content.decode()
    customer_page = client.get(f"/app/customer-360/{customer}", **rep_auth).content.decode()
    assert "&lt;script&gt;" in customer_page and "<script>alert(1)" not in customer_page
    assert client.get(f"/app/supplier-360/{supplier}", **marketer_auth).status_code == 403
    lowcode.set_value("User", rep, "language", "fa")
    refresh(ctx)
    persian = client.get(f"/app/supplier-360/{supplier}", **rep_auth).content.decode()
    assert 'dir="rtl"' in persian and "ارتباط‌ها" in persian and "نشانی‌ها" in persian
    # the sections' titles and column labels too, which the view builds before the page renders
    persian = client.get(f"/app/employee-360/{employee}", **rep_auth).content.decode()
    assert "سرنخ‌های در اختیار" in persian and "Leads owned" not in persian
    assert client.get("/app/supplier-360/SUP-none", **rep_auth).status_code == 404
    error(client.get("/api/method/crm_app.party_360.get_party_360", {"doctype": "Lead", "name": "x"}, **rep_auth),
          417, field="doctype")
    over_rest = ok(client.get("/api/method/crm_app.party_360.get_party_360", {"doctype": "Employee", "name": employee},
                              **rep_auth))["message"]
    assert over_rest["party"]["user_id"] == rep and {d["fieldname"] for d in over_rest["details"]} == {"user_id", "status"}


def test_each_role_sees_the_parts_it_may_read(ctx, unique):
    """A view shows what the viewer may read and leaves the rest out rather than refusing
    the page: purchasing sees a supplier's contacts and addresses (ERPNext's roles on
    Contact and Address) but no relations or activities; HR sees an employee without the
    sales sections; a Marketing User sees a customer without its relations."""
    buyer = make_user(unique, "buyer360", roles=("Purchase User",))
    hr = make_user(unique, "hr360", roles=("HR User",))
    marketer = make_user(unique, "mkt360", roles=("Marketing User",))
    supplier = _supplier(f"Purchased {unique}")
    customer = make_customer(f"Bought {unique}").name
    link = [{"link_doctype": "Supplier", "link_name": supplier}]
    contact = lowcode.get_doc({"doctype": "Contact", "first_name": "Parsa", "links": link}).insert().name
    lowcode.get_doc({"doctype": "Call Log", "phone": "09121234567", "reference_doctype": "Supplier",
                     "reference_name": supplier}).insert()
    _relation("Supplier", supplier, "Supplier of", "Customer", customer)
    employee = lowcode.get_doc({"doctype": "Employee", "employee_name": f"Staff {unique}",
                                "user_id": make_user(unique, "staff360")}).insert().name
    with as_user(buyer):
        data = get_party_360("Supplier", supplier)
        assert [c["name"] for c in data["contacts"]] == [contact]
        assert data["relations"] == [] and data["timeline"] == []
        lowcode.get_doc({"doctype": "Address", "address_title": "Buyer's", "address_line1": "Road 1", "city": "Yazd",
                         "links": link}).insert()  # purchasing keeps its suppliers' addresses
    with as_user(hr):
        assert get_party_360("Employee", employee)["sections"] == []
    with as_user(marketer):
        data = get_customer_360(customer)
        assert data["relations"] == [] and data["customer"]["name"] == customer
    assert [r["party"] for r in get_customer_360(customer)["relations"]] == [supplier]


def test_a_call_logged_on_a_suppliers_form_is_in_its_view(ctx, client, unique):
    """The activity panel is on the supplier's and the partner's forms; what it logs there
    is the supplier's history."""
    from urllib.parse import urlencode
    rep = make_user(unique, "panel360")
    supplier = _supplier(f"Panel {unique}")
    partner = lowcode.get_doc({"doctype": "Sales Partner", "partner_name": f"Panel {unique}"}).insert().name
    csrf = login(ctx, client, rep)
    assert 'id="activity-panel"' in client.get(f"/app/sales-partner/{partner}").content.decode()
    assert 'id="activity-panel"' in client.get(f"/app/supplier/{supplier}").content.decode()
    query = urlencode({"doctype": "Supplier", "name": supplier})
    saved = client.post(f"/app/activity-panel/call?{query}", {
        "csrf_token": csrf, "act-call-direction": "Outgoing", "act-call-phone": "09121234567",
        "act-call-outcome": "Connected", "act-call-notes": f"Asked for prices {unique}"}, HTTP_HX_REQUEST="true")
    assert saved.status_code == 200, saved.content[:500]
    refresh(ctx)
    with as_user(rep):
        timeline = get_party_360("Supplier", supplier)["timeline"]
    assert [(t["doctype"], t["title"]) for t in timeline] == [("Call Log", "09121234567")]
