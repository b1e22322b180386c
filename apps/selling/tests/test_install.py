"""The selling app on a site of its own, on both engines: installing it brings crm_app
first (required_apps) and gives Product its stock level; uninstalling it takes back its
DocTypes, the Product column and the workspace, and leaves the CRM working (products
save, the 360° view shows no purchases)."""
import lowcode
from lowcode.installer import uninstall_app

from crm_app.customer_360 import get_customer_360
from crm_app.tests.helpers import as_user, make_user
from lowcode.desk.views.dashboard import number_card
from selling.tests.helpers import invoice, make_customer, make_product, receive, stock_qty


def test_install_use_uninstall(site_with_apps, bench):
    site = site_with_apps("selling")
    with lowcode.site_context(site, bench=bench) as local:
        assert {"crm_app", "selling"} <= set(lowcode.get_installed_apps())
        assert "service_app" not in lowcode.get_installed_apps()
        owned = {tuple(r) for r in local.db.sql("SELECT `ref_doctype`, `ref_name` FROM `tabApp Record` "
                                                 "WHERE `app`='selling'")}
        assert {("Custom Field", "Product-stock_qty"), ("Workspace", "Selling"), ("Number Card", "Receivables")} <= owned
        assert all(local.db.exists("Role", r) for r in ("Accounts User", "Accounts Manager", "Stock User",
                                                        "Stock Manager"))
        customer, p = make_customer().name, make_product(rate=10)
        receive(p, 3)
        invoice(customer, [{"product": p, "qty": 1}]).submit()  # unpaid, due today
        invoice(customer, [{"product": p, "qty": 1}], posting_date="2020-01-01").submit()  # overdue
        lowcode.get_doc({"doctype": "Sales Order", "customer": customer, "delivery_date": "2031-01-01",
                         "items": [{"product": p, "qty": 1}]}).insert().submit()  # to bill
        assert stock_qty(p) == 1  # 3 - 1 - 1
        # the workspace's cards on this site alone: receivables 10 + 10 = 20, one overdue, one order to bill
        accountant = make_user("install", "acc", roles=("Accounts User",))
        seller = make_user("install", "seller", roles=("Sales User",))
        with as_user(accountant):
            assert [number_card(c)["value"] for c in ("Receivables", "Overdue invoices", "Orders to bill")] == [
                20, 1, 1]
        with as_user(seller):  # reads orders, not invoices: their cards are left out
            assert [number_card(c) and number_card(c)["value"]
                    for c in ("Receivables", "Overdue invoices", "Orders to bill")] == [None, None, 1]
        assert [s["key"] for s in get_customer_360(customer)["sections"]] == ["purchases"]
        local.db.commit()
    with lowcode.site_context(site, bench=bench) as local:
        uninstall_app("selling")
        local.db.commit()
    with lowcode.site_context(site, bench=bench) as local:
        db = local.db
        for doctype in ("Sales Invoice", "Sales Order", "Payment Entry", "Stock Ledger Entry"):
            assert not db.table_exists(doctype), doctype
        assert "stock_qty" not in db.get_columns("Product")
        assert not db.exists("Workspace", "Selling") and not db.exists("Number Card", "Receivables")
        assert db.exists("Role", "Accounts User")  # crm_app's Customer and Product still name it
        product = lowcode.get_doc("Product", p)
        product.product_name = "Renamed"
        product.save()  # no handler of the app runs
        assert get_customer_360(customer)["sections"] == []
