"""Demo data of the selling app for ``make run``: an accountant and a storekeeper, stock
for every product, and for the CRM demo's accepted quotations their sales orders,
invoices (on the quotation's date, due 30 days later, so some are overdue) and payments
(in full, in part, or not yet). Everything goes through the normal document path (the
mappers, submit). ``generate(count)`` runs after crm_app's demo (it needs its quotations)."""
import datetime
import random

import lowcode
from lowcode.context import local

from crm_app.demo import ensure_demo_user
from selling.doctype.sales_invoice.sales_invoice import make_payment_entry
from selling.doctype.sales_order.sales_order import make_sales_invoice, make_sales_order

USERS = [("accounts@demo.local", "Parisa", "Accounts User", "fa"), ("stock@demo.local", "Omid", "Stock User", "fa")]
OPENING_STOCK = 1000


def _users():
    for email, first, role, lang in USERS:
        ensure_demo_user(email, first, role, lang)


def generate(count: int = 200, seed: int = 11):
    """Orders for up to ``count`` accepted quotations, with their invoices and payments."""
    lowcode.only_for("System Manager")
    from lowcode.params import integer
    count = integer(count, "count", default=200, minimum=1, maximum=20000)
    rnd = random.Random(int(seed))
    _users()
    products = lowcode.get_all("Product", filters={"disabled": 0}, pluck="name", limit_page_length=0)
    if products:
        lowcode.get_doc({"doctype": "Stock Entry", "purpose": "Material Receipt", "remarks": "Opening stock (demo)",
                         "items": [{"product": p, "qty": OPENING_STOCK} for p in products]}).insert().submit()
    quotations = local.db.sql(
        "SELECT `name`, `transaction_date` FROM `tabQuotation` WHERE `status`='Accepted' AND `quotation_to`='Customer' "
        "AND `name` NOT IN (SELECT `quotation` FROM `tabSales Order` WHERE `quotation` IS NOT NULL) "
        "ORDER BY `transaction_date`, `name` LIMIT %s", (count,), as_dict=True)
    made = {"Sales Order": 0, "Sales Invoice": 0, "Payment Entry": 0}
    for q in quotations:
        on = str(q["transaction_date"])[:10]
        order = lowcode.get_doc("Sales Order", make_sales_order(q["name"])["name"])
        order.transaction_date = on
        day = datetime.date.fromisoformat(on)
        order.delivery_date = (day + datetime.timedelta(days=rnd.randint(3, 20))).isoformat()
        order.save()
        order.submit()
        made["Sales Order"] += 1
        if rnd.random() < 0.2:
            continue  # not billed yet
        invoice = lowcode.get_doc("Sales Invoice", make_sales_invoice(order.name)["name"])
        invoice.posting_date = on
        invoice.due_date = (datetime.date.fromisoformat(on) + datetime.timedelta(days=30)).isoformat()
        invoice.save()
        invoice.submit()
        made["Sales Invoice"] += 1
        paid = rnd.random()
        if paid < 0.25:
            continue  # unpaid (overdue once 30 days have passed)
        payment = lowcode.get_doc("Payment Entry", make_payment_entry(invoice.name)["name"])
        if paid < 0.5:  # paid in part
            part = round(float(invoice.grand_total) * rnd.choice([0.3, 0.5]), 2)
            payment.paid_amount = part
            payment.references[0].allocated_amount = part
        payment.posting_date = min(datetime.date.fromisoformat(on) + datetime.timedelta(days=rnd.randint(1, 40)),
                                   datetime.date.today()).isoformat()
        payment.save()
        payment.submit()
        made["Payment Entry"] += 1
    local.db.commit()
    local.db.begin()
    return made
