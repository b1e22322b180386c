"""Helpers shared by the selling app's tests: stock in, an accepted quotation, and the
documents of the flow made the way users make them (mapped, then submitted)."""
import lowcode

from crm_app.tests.helpers import make_customer, make_product, make_quotation, move  # noqa: F401
from selling.doctype.sales_invoice.sales_invoice import make_payment_entry
from selling.doctype.sales_order.sales_order import make_sales_invoice, make_sales_order


def receive(product, qty):
    return lowcode.get_doc({"doctype": "Stock Entry", "purpose": "Material Receipt",
                            "items": [{"product": product, "qty": qty}]}).insert().submit()


def stock_qty(product):
    return float(lowcode.db.get_value("Product", product, "stock_qty") or 0)


def accepted_quotation(customer, items, **values):
    return move(make_quotation(customer, items, **values), "Send", "Accept")


def order_from(quotation):
    return lowcode.get_doc("Sales Order", make_sales_order(quotation.name)["name"])


def invoice_from(order):
    return lowcode.get_doc("Sales Invoice", make_sales_invoice(order.name)["name"])


def invoice(customer, items, **values):
    return lowcode.get_doc(dict({"doctype": "Sales Invoice", "customer": customer, "items": items}, **values)).insert()


def payment(customer, paid, references):
    return lowcode.get_doc({"doctype": "Payment Entry", "party": customer, "paid_amount": paid,
                            "references": [{"sales_invoice": inv, "allocated_amount": amount}
                                           for inv, amount in references]}).insert()


def payment_for(invoice_name):
    return lowcode.get_doc("Payment Entry", make_payment_entry(invoice_name)["name"])


def field(doctype, name, fieldname):
    return lowcode.db.get_value(doctype, name, fieldname)
