"""Post-sale analytics (selling/postsale.py) by hand on a small data set, through
Frappe's query_report.run, for a Sales Manager (every customer) and a salesperson
limited to a territory by a User Permission (the Customer's row rules, in SQL).

The data set lives in a year of its own, far in the future and never a leap year, so no
other test's invoices fall in its periods (RFM quintiles depend on every customer in
the period). Days of that year: Jan 5 = 5, Jan 10 = 10, Feb 1 = 32, Mar 11 = 70,
Apr 5 = 95, Jun 15 = 166, Aug 1 = 213, Sep 1 = 244, Oct 2 = 275, Nov 20 = 324,
Dec 1 = 335, Dec 20 = 354, Dec 31 = 365.

    customer territory  invoices (submitted)                             net
    A        mine       Jan 10 p1x2 (200) + p2x1 (50)                     250
                        Mar 11 p1x1                                       100
                        Dec 1  p1x1 (100) + p2x2 (100), discount 20       180 (lines 90 + 90)
    B        mine       Feb 1  p2x4                                       200
                        Nov 20 p2x2                                       100
    C        mine       Jun 15 p3x1                                       200
    D        mine       Dec 20 p4x5                                        50
    E        other      Jan 5  p1x1 (100) + p3x1 (200)                    300
                        Apr 5  p3x2                                       400
    F        other      Sep 1  p1x3 (300) + p4x1 (10)                     310
    G        other      the year before: Jun 1 p1x1 + p4x1; a draft Dec 25 p3x1 (neither counts in the year)

Prices: p1 100, p2 50, p3 200, p4 10."""
import json
import random

import pytest

import lowcode
from lowcode.testing.http import body, ok, token, write

from crm_app.tests.helpers import as_user, make_territory, make_user, refresh
from selling.postsale import quintile_scores, segment
from selling.tests.helpers import invoice, make_customer, make_product, receive

URL = "/api/method/frappe.desk.query_report.run"
ACTION = "/api/method/selling.postsale.create_retention_tasks"


@pytest.fixture
def world(ctx, unique):
    # 2201 + 4k is never a leap year (and never a century)
    year = 2201 + 4 * random.randrange(190)
    d = lambda md, y=year: f"{y}-{md}"  # noqa: E731
    mine, other = make_territory(f"PS Mine {unique}"), make_territory(f"PS Other {unique}")
    manager = make_user(unique, "psmgr", roles=("Sales Manager",))
    seller = make_user(unique, "psrep", roles=("Sales User",))
    accountant = make_user(unique, "psacc", roles=("Accounts User",))
    lowcode.get_doc({"doctype": "User Permission", "user": seller, "allow": "Territory",
                     "for_value": mine}).insert(ignore_permissions=True)
    c = {k: make_customer(f"PS {k} {unique}", territory=mine if k in "ABCD" else other,
                          account_manager=manager if k == "C" else None).name for k in "ABCDEFG"}
    p = {k: make_product(rate=rate) for k, rate in (("p1", 100), ("p2", 50), ("p3", 200), ("p4", 10))}
    for product in p.values():
        receive(product, 100)

    def sell(k, md, lines, y=year, submit=True, **values):
        doc = invoice(c[k], [{"product": p[code], "qty": qty} for code, qty in lines], posting_date=d(md, y),
                      due_date=d(md, y), **values)
        return doc.submit() if submit else doc

    sell("A", "01-10", [("p1", 2), ("p2", 1)])
    sell("A", "03-11", [("p1", 1)])
    sell("A", "12-01", [("p1", 1), ("p2", 2)], discount_amount=20)
    sell("B", "02-01", [("p2", 4)])
    sell("B", "11-20", [("p2", 2)])
    sell("C", "06-15", [("p3", 1)])
    sell("D", "12-20", [("p4", 5)])
    sell("E", "01-05", [("p1", 1), ("p3", 1)])
    sell("E", "04-05", [("p3", 2)])
    sell("F", "09-01", [("p1", 3), ("p4", 1)])
    sell("G", "06-01", [("p1", 1), ("p4", 1)], y=year - 1)
    sell("G", "12-25", [("p3", 1)], submit=False)
    HEADERS.update({u: token(u) for u in (manager, seller, accountant)})
    refresh(ctx)
    return {"unique": unique, "year": year, "d": d, "c": c, "p": p, "manager": manager, "seller": seller,
            "accountant": accountant}


HEADERS = {}


def run(client, user, name, filters):
    return client.get(URL, {"report_name": name, "filters": json.dumps(filters)}, **HEADERS[user])


def result(client, user, name, filters):
    return ok(run(client, user, name, filters))["message"]


def test_purchase_patterns_by_hand(world, client):
    c, p, d = world["c"], world["p"], world["d"]
    period = {"from_date": d("01-01"), "to_date": d("12-31")}
    out = result(client, world["manager"], "Purchase Patterns", period)
    rows = {(r["customer"], r["product"]): r for r in out["result"] if isinstance(r, dict)}
    key = lambda k, code: (c[k], p[code])  # noqa: E731
    # (invoices, qty, net revenue, first, last, average days between, repeat)
    expected = {
        key("A", "p1"): (3, 4, 390, "01-10", "12-01", 162.5, 1),  # 200 + 100 + 90; (335 - 10) / 2
        key("A", "p2"): (2, 3, 140, "01-10", "12-01", 325.0, 1),  # 50 + 90; (335 - 10) / 1
        key("B", "p2"): (2, 6, 300, "02-01", "11-20", 292.0, 1),  # 200 + 100; 324 - 32
        key("C", "p3"): (1, 1, 200, "06-15", "06-15", None, 0),
        key("D", "p4"): (1, 5, 50, "12-20", "12-20", None, 0),
        key("E", "p1"): (1, 1, 100, "01-05", "01-05", None, 0),
        key("E", "p3"): (2, 3, 600, "01-05", "04-05", 90.0, 1),  # 200 + 400; 95 - 5
        key("F", "p1"): (1, 3, 300, "09-01", "09-01", None, 0),
        key("F", "p4"): (1, 1, 10, "09-01", "09-01", None, 0),
    }
    assert set(rows) == set(expected)  # G: the year before, and a draft
    for k, (n, qty, net, first, last, avg, repeat) in expected.items():
        assert (rows[k]["invoices"], rows[k]["qty"], rows[k]["net_revenue"], rows[k]["first_purchase"],
                rows[k]["last_purchase"], rows[k]["avg_days_between"], rows[k]["repeat"]) == \
            (n, qty, net, d(first), d(last), avg, repeat), k
    # 4 of 9 pairs repeat (44.4%); customers with more than one invoice: A, B, E of 6 (50%)
    assert [s["value"] for s in out["report_summary"]] == [4, 44.4, 3, 50.0]
    # the salesperson sees territory "mine": A, B, C, D -> 5 pairs, 3 repeat (60%); A, B of 4 customers (50%)
    mine = result(client, world["seller"], "Purchase Patterns", period)
    assert {(r["customer"], r["product"]) for r in mine["result"] if isinstance(r, dict)} == {
        key("A", "p1"), key("A", "p2"), key("B", "p2"), key("C", "p3"), key("D", "p4")}
    assert [s["value"] for s in mine["report_summary"]] == [3, 60.0, 2, 50.0]
    # one product of one customer
    one = result(client, world["seller"], "Purchase Patterns", dict(period, customer=c["A"], product=p["p2"]))
    assert [(r["invoices"], r["net_revenue"]) for r in one["result"] if isinstance(r, dict)] == [(2, 140)]
    bad = run(client, world["manager"], "Purchase Patterns", {"from_date": "soon"})
    assert bad.status_code == 417 and body(bad)["field"] == "from_date"


def test_quintile_boundaries():
    # 1 + floor(5 * worse / n): ten distinct values -> two per score
    assert list(quintile_scores({i: i for i in range(10)}).values()) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    # seven: 1 + floor(0, 5/7, 10/7, 15/7, 20/7, 25/7, 30/7) = 1, 1, 2, 3, 3, 4, 5
    assert list(quintile_scores({i: i * 10 for i in range(7)}).values()) == [1, 1, 2, 3, 3, 4, 5]
    # ties share the score of their first position, whatever their names: [1, 1, 1, 2, 2, 3] of 6
    assert quintile_scores({"z": 1, "a": 1, "m": 1, "b": 2, "y": 2, "c": 3}) == \
        {"z": 1, "a": 1, "m": 1, "b": 3, "y": 3, "c": 5}
    assert quintile_scores({"only": 7}) == {"only": 1}
    assert [segment(5, 5), segment(1, 1), segment(1, 5), segment(3, 3), segment(5, 1), segment(4, 1)] == \
        ["Champions", "Hibernating", "Can't Lose", "Need Attention", "New Customers", "Promising"]
    assert all(segment(r, f) for r in range(1, 6) for f in range(1, 6))  # the grid covers every pair


def test_rfm_by_hand(world, client):
    c, d = world["c"], world["d"]
    period = {"from_date": d("01-01"), "to_date": d("12-31")}
    out = result(client, world["manager"], "RFM Segments", period)
    rows = {r["customer"]: (r["recency"], r["frequency"], r["monetary"], r["r"], r["f"], r["m"], r["segment"])
            for r in out["result"] if isinstance(r, dict)}
    # recency 365 - last day; R by -days: E 270, C 199, F 121, B 41, A 30, D 11 at positions 0..5 of 6 ->
    # 1 + floor(5 * pos / 6) = 1, 1, 2, 3, 4, 5. F: [1 C, 1 D, 1 F, 2 B, 2 E, 3 A] -> 1, 1, 1, 3, 3, 5.
    # M: D 50, C 200, B 300, F 310, A 530, E 700 -> 1, 1, 2, 3, 4, 5. Segment from (R, F).
    assert rows == {
        c["A"]: (30, 3, 530, 4, 5, 4, "Loyal Customers"),  # 250 + 100 + 180
        c["B"]: (41, 2, 300, 3, 3, 2, "Need Attention"),
        c["C"]: (199, 1, 200, 1, 1, 1, "Hibernating"),
        c["D"]: (11, 1, 50, 5, 1, 1, "New Customers"),
        c["E"]: (270, 2, 700, 1, 3, 5, "At Risk"),
        c["F"]: (121, 1, 310, 2, 1, 3, "Hibernating"),
    }
    summary = {s["label"]: s["value"] for s in out["report_summary"]}
    assert summary == {"Hibernating": 2, "At Risk": 1, "Need Attention": 1, "Loyal Customers": 1,
                       "New Customers": 1}
    # the salesperson's customers A, B, C, D (n = 4): R by -days C 199, B 41, A 30, D 11 -> 1 + floor(5*pos/4)
    # = 1, 2, 3, 4; F [1 C, 1 D, 2 B, 3 A] -> 1, 1, 3, 4; M D 50, C 200, B 300, A 530 -> 1, 2, 3, 4
    mine = result(client, world["seller"], "RFM Segments", period)
    assert {r["customer"]: (r["r"], r["f"], r["m"], r["segment"]) for r in mine["result"] if isinstance(r, dict)} == {
        c["A"]: (3, 4, 4, "Loyal Customers"), c["B"]: (2, 3, 3, "At Risk"), c["C"]: (1, 1, 2, "Hibernating"),
        c["D"]: (4, 1, 1, "Promising")}


def contacts(world):
    """F called on Nov 15 (within 90 days of Dec 31: F drops out); an e-mail to C on Aug 1
    (older: C is idle since then, not since its Jun 15 purchase); an event with E the year
    before (before the window: E stays idle since Apr 5)."""
    c, d, year = world["c"], world["d"], world["year"]
    lowcode.get_doc({"doctype": "Call Log", "customer": c["F"], "started_at": d("11-15") + " 10:00:00",
                     "phone": "+989120000000"}).insert()
    lowcode.get_doc({"doctype": "Communication", "customer": c["C"], "subject": "Hello",
                     "communication_date": d("08-01") + " 09:00:00"}).insert()
    lowcode.get_doc({"doctype": "Event", "customer": c["E"], "subject": "Visit",
                     "starts_on": d("06-01", year - 1) + " 09:00:00"}).insert()


def test_churn_risk_by_hand(world, ctx, client):
    c, d = world["c"], world["d"]
    on = {"as_of": d("12-31"), "days": 90}
    # cutoff Dec 31 - 90 days = Oct 2 (275): A (Dec 1), B (Nov 20), D (Dec 20) bought since; before contacts:
    # C idle 365 - 166 = 199: 200 * 199 / 365 = 109.04; E 270: 700 * 270 / 365 = 517.81;
    # F 365 - 244 = 121: 310 * 121 / 365 = 102.77
    before = [r for r in result(client, world["manager"], "Churn Risk", on)["result"] if isinstance(r, dict)]
    assert [(r["customer"], r["days_idle"], r["value"], r["risk"]) for r in before] == [
        (c["E"], 270, 700, 517.81), (c["C"], 199, 200, 109.04), (c["F"], 121, 310, 102.77)]
    write(ctx)
    contacts(world)
    refresh(ctx)
    out = result(client, world["manager"], "Churn Risk", on)
    rows = [r for r in out["result"] if isinstance(r, dict)]
    # C: idle since Aug 1 (213): 152 days, 200 * 152 / 365 = 83.29; E: 517.81; F called Nov 15: not listed
    assert [(r["customer"], r["last_purchase"], r["last_contact"], r["days_idle"], r["value"], r["risk"])
            for r in rows] == [(c["E"], d("04-05"), None, 270, 700, 517.81),
                               (c["C"], d("06-15"), d("08-01"), 152, 200, 83.29)]
    assert rows[1]["account_manager"] == world["manager"]
    # the accounts team sees every customer too
    assert [r["customer"] for r in result(client, world["accountant"], "Churn Risk", on)["result"]
            if isinstance(r, dict)] == [c["E"], c["C"]]
    assert [s["value"] for s in out["report_summary"]] == [2, 900]  # 700 + 200
    # the first one only; the summary still counts both
    first = result(client, world["manager"], "Churn Risk", dict(on, limit=1))
    assert [r["customer"] for r in first["result"] if isinstance(r, dict)] == [c["E"]]
    assert [s["value"] for s in first["report_summary"]] == [2, 900]
    # the salesperson: C only (E is in the other territory)
    assert [r["customer"] for r in result(client, world["seller"], "Churn Risk", on)["result"]
            if isinstance(r, dict)] == [c["C"]]
    # 200 days: cutoff Jun 14 (165); C bought Jun 15 -> out; E (Apr 5) stays
    assert [(r["customer"], r["risk"]) for r in result(client, world["manager"], "Churn Risk",
                                                       dict(on, days=200))["result"] if isinstance(r, dict)] == \
        [(c["E"], 517.81)]
    bad = run(client, world["manager"], "Churn Risk", dict(on, days="0"))
    assert bad.status_code == 417 and body(bad)["field"] == "days"


def open_retention_tasks(ctx, customer):
    return list(ctx.db.sql("SELECT `name`, `assigned_to`, `subject` FROM `tabTask` WHERE `customer`=%s "
                      "AND `reference_doctype`='Report' AND `reference_name`='Churn Risk'", (customer,)))


def test_retention_tasks_idempotent_and_permission_checked(world, ctx, client):
    c, d = world["c"], world["d"]
    args = {"customers": json.dumps([c["C"]]), "as_of": d("12-31")}
    # an accounts user reads customers but may not create tasks: 403, nothing written
    refused = client.post(ACTION, args, **HEADERS[world["accountant"]])
    assert refused.status_code == 403
    # the salesperson may not read E (the other territory): 404 naming it, nothing written (C neither)
    hidden = client.post(ACTION, {"customers": json.dumps([c["C"], c["E"]]), "as_of": d("12-31")},
                         **HEADERS[world["seller"]])
    assert hidden.status_code == 404 and c["E"] in body(hidden)["message"]
    refresh(ctx)
    assert open_retention_tasks(ctx, c["C"]) == [] and open_retention_tasks(ctx, c["E"]) == []
    made = ok(client.post(ACTION, args, **HEADERS[world["seller"]]))["message"]
    assert len(made["created"]) == 1 and made["skipped"] == []
    refresh(ctx)
    # C is Hibernating among all customers (test_rfm_by_hand) -> a win-back campaign; to its account manager
    [(name, assigned, subject)] = open_retention_tasks(ctx, c["C"])
    assert name == made["created"][0] and assigned == world["manager"]
    assert subject == f"Retention: Win-back campaign for PS C {world['unique']}"
    again = ok(client.post(ACTION, args, **HEADERS[world["seller"]]))["message"]
    assert again == {"created": [], "skipped": [c["C"]], "summary": "Tasks created: 0, already open: 1"}
    refresh(ctx)
    assert len(open_retention_tasks(ctx, c["C"])) == 1
    nothing = client.post(ACTION, {"customers": "[]"}, **HEADERS[world["seller"]])
    assert nothing.status_code == 417 and body(nothing)["field"] == "customers"
    assert client.get(ACTION, args, **HEADERS[world["seller"]]).status_code in (403, 405)  # GET never writes


def test_the_churn_risk_page_creates_the_retention_tasks(world, ctx, client):
    """The report page's button (selling's report_actions hook): a POST with the desk's
    CSRF token makes a task for each customer the page lists for the user (the
    salesperson's own territory only), then skips them; without the token, or for a user
    who may not create tasks, nothing is written."""
    from lowcode.testing.http import login
    c, d = world["c"], world["d"]
    page_url = "/app/query-report/Churn Risk?as_of=" + d("12-31")
    listed = [r["customer"] for r in result(client, world["seller"], "Churn Risk", {"as_of": d("12-31")})["result"]
              if isinstance(r, dict)]
    assert listed and c["E"] not in listed  # E is in the other territory
    csrf = login(ctx, client, world["seller"])
    page = client.get(page_url)
    assert page.status_code == 200 and 'id="report-actions"' in page.content.decode()
    assert "Create retention tasks" in page.content.decode()
    assert client.post(page_url, {"action": "0"}).status_code == 400  # no CSRF token (Frappe: CSRFTokenError)
    refresh(ctx)
    assert all(open_retention_tasks(ctx, customer) == [] for customer in listed)
    done = client.post(page_url, {"action": "0", "csrf_token": csrf})
    assert done.status_code == 200, done.content[:400]
    assert f"Tasks created: {len(listed)}, already open: 0" in done.content.decode()
    refresh(ctx)
    assert all(len(open_retention_tasks(ctx, customer)) == 1 for customer in listed)
    assert open_retention_tasks(ctx, c["E"]) == []
    again = client.post(page_url, {"action": "0", "csrf_token": csrf})
    assert f"Tasks created: 0, already open: {len(listed)}" in again.content.decode()
    bad = client.post(page_url, {"action": "9", "csrf_token": csrf})
    assert bad.status_code == 417 and "no action" in bad.content.decode()
    # a report with Frappe's total row: the total row is no customer of the action's
    ctx.db.sql("UPDATE `tabReport` SET `add_total_row`=1 WHERE `name`='Churn Risk'")
    refresh(ctx)
    try:
        totalled = client.post(page_url, {"action": "0", "csrf_token": csrf})
        assert totalled.status_code == 200, totalled.content[:400]
        assert f"Tasks created: 0, already open: {len(listed)}" in totalled.content.decode()
    finally:
        ctx.db.sql("UPDATE `tabReport` SET `add_total_row`=0 WHERE `name`='Churn Risk'")
        refresh(ctx)
    # the accounts user sees the list (E too) but may not create tasks: refused, E untouched
    csrf = login(ctx, client, world["accountant"])
    refused = client.post(page_url, {"action": "0", "csrf_token": csrf})
    assert refused.status_code == 403
    refresh(ctx)
    assert open_retention_tasks(ctx, c["E"]) == []


def test_upsell_by_hand(world, client):
    c, p = world["c"], world["p"]
    # A bought p1, p2. Similar: B (p2), E (p1), F (p1), G (p1, the year before: every purchase counts).
    # Not bought by A: p3 (E) -> 1; p4 (F, G) -> 2. p1, p2 are never suggested.
    rows = result(client, world["manager"], "Up-sell Suggestions", {"customer": c["A"]})["result"]
    assert [(r["product"], r["score"]) for r in rows if isinstance(r, dict)] == [(p["p4"], 2), (p["p3"], 1)]
    # D bought p4: similar F, G (p4) -> p1 by both: 2 (p4 excluded)
    rows = result(client, world["manager"], "Up-sell Suggestions", {"customer": c["D"]})["result"]
    assert [(r["product"], r["score"]) for r in rows if isinstance(r, dict)] == [(p["p1"], 2)]
    # the salesperson: similar customers only among theirs (B for A, who bought only p2): nothing to suggest
    assert [r for r in result(client, world["seller"], "Up-sell Suggestions", {"customer": c["A"]})["result"]
            if isinstance(r, dict)] == []
    assert run(client, world["seller"], "Up-sell Suggestions", {"customer": c["E"]}).status_code == 404
    missing = run(client, world["manager"], "Up-sell Suggestions", {})
    assert missing.status_code == 417 and body(missing)["field"] == "customer"


def test_upsell_in_customer_360(world, ctx):
    from crm_app.customer_360 import get_customer_360
    c, p = world["c"], world["p"]
    with as_user(world["manager"]):
        sections = {s["key"]: s for s in get_customer_360(c["A"])["sections"]}
    assert [(r["product"], r["score"]) for r in sections["upsell"]["rows"]] == [(p["p4"], 2), (p["p3"], 1)]
    with as_user(world["seller"]):
        assert "upsell" not in {s["key"] for s in get_customer_360(c["A"])["sections"]}  # nothing to suggest


def test_the_churn_list_has_its_covering_indexes(ctx):
    """The indexes the churn list reads at scale (sales_invoice.json, call_log.json,
    communication.json, event.json "indexes") exist on both engines: the year's invoices
    grouped in customer order, and each contact table's year by date."""
    have = lambda doctype: [cols for _, cols in ctx.db.get_indexes(doctype).values()]  # noqa: E731
    assert ["docstatus", "customer", "posting_date", "net_total"] in have("Sales Invoice")
    assert ["started_at", "customer"] in have("Call Log")
    assert ["communication_date", "customer"] in have("Communication")
    assert ["starts_on", "customer"] in have("Event")
