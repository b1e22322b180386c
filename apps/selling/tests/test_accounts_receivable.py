"""The Accounts Receivable report, by hand on a small data set, through Frappe's
query_report.run: for the accounts team (who see every invoice), refused to a CRM
salesperson; a bad date names its filter."""
import json

from lowcode.testing.http import body, ok, token

from crm_app.tests.helpers import make_user, refresh
from selling.tests.helpers import invoice, make_customer, make_product, payment, receive

URL = "/api/method/frappe.desk.query_report.run"
ON = "2031-06-30"


def world():
    a, b = make_customer().name, make_customer().name
    p = make_product(rate=100)
    receive(p, 10)
    # a: 100 due 2031-07-10 (not due on 06-30); 200 due 06-15 (15 days late) of which 50 paid -> 150 in 1-30;
    #    100 due 2031-03-01 (121 days late) -> 90+
    invoice(a, [{"product": p, "qty": 1}], posting_date="2031-06-20", due_date="2031-07-10").submit()
    late = invoice(a, [{"product": p, "qty": 2}], posting_date="2031-06-01", due_date="2031-06-15").submit()
    payment(a, 50, [(late.name, 50)]).submit()
    invoice(a, [{"product": p, "qty": 1}], posting_date="2031-02-01", due_date="2031-03-01").submit()
    # b: 300 due 2031-05-01 (60 days late) -> 31-60; a paid one and one after the date do not count
    invoice(b, [{"product": p, "qty": 3}], posting_date="2031-04-01", due_date="2031-05-01").submit()
    paid = invoice(b, [{"product": p, "qty": 1}], posting_date="2031-04-01").submit()
    payment(b, 100, [(paid.name, 100)]).submit()
    invoice(b, [{"product": p, "qty": 1}], posting_date="2031-07-01").submit()
    return a, b


def run(client, headers, filters):
    return client.get(URL, {"report_name": "Accounts Receivable", "filters": json.dumps(filters)}, **headers)


def test_receivables_aged_by_hand(ctx, client, unique):
    a, b = world()
    accountant = make_user(unique, "acc", roles=("Accounts User",))
    seller = make_user(unique, "seller", roles=("Sales User",))
    headers, seller_headers = token(accountant), token(seller)
    refresh(ctx)
    result = ok(run(client, headers, {"report_date": ON, "customer": a}))["message"]
    # a: 100 + 150 + 100 = 350 over 3 invoices
    assert result["result"][:1] == [{"customer": a, "invoices": 3, "outstanding": 350, "not_due": 100,
                                     "range1": 150, "range2": 0, "range3": 0, "range4": 100}]
    assert [s["value"] for s in result["report_summary"]] == [350, 250]  # overdue: 350 - 100 not due
    rows = [r for r in ok(run(client, headers, {"report_date": ON}))["message"]["result"]
            if isinstance(r, dict) and r["customer"] in (a, b)]
    assert rows == [{"customer": a, "invoices": 3, "outstanding": 350, "not_due": 100, "range1": 150, "range2": 0,
                     "range3": 0, "range4": 100},
                    {"customer": b, "invoices": 1, "outstanding": 300, "not_due": 0, "range1": 0, "range2": 300,
                     "range3": 0, "range4": 0}]  # b: 300, 60 days late; sorted by outstanding, largest first
    bad = run(client, headers, {"report_date": "someday"})
    assert bad.status_code == 417 and body(bad)["field"] == "report_date"
    refused = run(client, seller_headers, {"report_date": ON})
    assert refused.status_code == 403
