"""The selling demo (selling.demo.generate after crm_app's) on a SQLite site of its own:
orders for the accepted quotations, invoices and payments that add up: each invoice's
outstanding amount is its grand total less what payments allocated to it, and each
product's stock is the opening stock less what the invoices sold."""
import pytest

import conftest
import lowcode

from crm_app import demo as crm_demo
from selling import demo
from selling.tests.helpers import stock_qty


@pytest.fixture(scope="module")
def demo_site(bench):
    site = conftest.create_site(bench, "sqlite")
    try:
        with lowcode.site_context(site, bench=bench):
            crm_demo.generate(count=200)
            made = demo.generate(count=50)
            lowcode.db.commit()
        yield {"site": site, "bench": bench, "made": made}
    finally:
        conftest.drop_site(bench, site)


def test_the_demo_documents_add_up(demo_site):
    with lowcode.site_context(demo_site["site"], bench=demo_site["bench"]):
        made = demo_site["made"]
        accepted = lowcode.get_count("Quotation", filters={"status": "Accepted", "quotation_to": "Customer"})
        assert made["Sales Order"] == min(accepted, 50) == lowcode.get_count("Sales Order", filters={"docstatus": 1})
        assert 0 < made["Sales Invoice"] == lowcode.get_count("Sales Invoice", filters={"docstatus": 1})
        assert made["Payment Entry"] == lowcode.get_count("Payment Entry", filters={"docstatus": 1})
        for inv in lowcode.get_all("Sales Invoice", fields=["name", "grand_total", "outstanding_amount", "status"],
                                   filters={"docstatus": 1}, limit_page_length=0):
            paid = lowcode.db.sql("SELECT COALESCE(SUM(`allocated_amount`), 0) FROM `tabPayment Entry Reference` "
                                  "WHERE `sales_invoice`=%s AND `docstatus`=1", (inv["name"],))[0][0]
            assert round(float(inv["grand_total"]) - float(paid), 2) == float(inv["outstanding_amount"]), inv
            assert inv["status"] in {"Unpaid", "Partly Paid", "Paid", "Overdue"}
        sold = {r["product"]: float(r["qty"]) for r in lowcode.db.sql(
            "SELECT i.`product`, SUM(i.`qty`) AS qty FROM `tabSales Invoice Item` i JOIN `tabSales Invoice` s "
            "ON s.`name`=i.`parent` WHERE s.`docstatus`=1 GROUP BY i.`product`", as_dict=True)}
        assert sold
        for product, qty in sold.items():
            assert stock_qty(product) == demo.OPENING_STOCK - qty
        assert lowcode.db.exists("User", "accounts@demo.local")
