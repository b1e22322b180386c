"""Sales Invoice: made from a submitted order (``make_sales_invoice``) or standalone.
Submitting it takes its goods out of stock and opens its ``outstanding_amount`` (the
grand total, taxes included); Payment Entries reduce it; cancelling puts the goods back.
Invoices imported from an outside ERP (docs/EXTERNAL_ERP.md) carry its External ID and
are submitted by the import; they take no stock when the ERP keeps it. Status as
ERPNext's: Draft, Unpaid, Partly Paid, Paid, Overdue (past the due date with money
outstanding), Cancelled."""
import lowcode
from lowcode.document import Document
from lowcode.exceptions import ValidationError
from lowcode.utils import today

from crm_app.parties import check_not_blocked, settings
from crm_app.totals import round_money, set_totals

from selling import stock
from selling.doctype.sales_order.sales_order import billed_amount, update_billing


def invoice_status(docstatus, grand_total, outstanding, due_date, on=None):
    if int(docstatus or 0) == 0:
        return "Draft"
    if int(docstatus) == 2:
        return "Cancelled"
    outstanding = round_money(outstanding)
    if outstanding <= 0:
        return "Paid"
    if due_date and str(due_date)[:10] < (on or today()):
        return "Overdue"
    return "Partly Paid" if outstanding < round_money(grand_total) else "Unpaid"


class SalesInvoice(Document):
    def validate(self):
        before = self._doc_before_save
        if self.is_new() or (before and before.customer != self.customer):
            check_not_blocked(self.customer, "invoices")
        self.due_date = self.due_date or self.posting_date
        if self.due_date and self.posting_date and str(self.due_date) < str(self.posting_date):
            raise ValidationError("Payment Due Date is before the invoice date", field="due_date")
        self.price_list = self.price_list or settings().default_price_list
        set_totals(self, self.price_list, self.posting_date)
        self.outstanding_amount = self.grand_total
        self.status = "Draft"

    def before_submit(self):
        if self.sales_order:
            order = lowcode.db.get_value("Sales Order", self.sales_order, ["docstatus", "net_total", "customer"],
                                         as_dict=True)
            if not order or int(order["docstatus"] or 0) != 1:
                raise ValidationError(f"Sales Order {self.sales_order} is not submitted", field="sales_order")
            if order["customer"] != self.customer:
                raise ValidationError(f"Sales Order {self.sales_order} is another customer's", field="customer")
            billed = billed_amount(self.sales_order, excluding=self.name)
            if round_money(billed + float(self.net_total or 0)) > round_money(order["net_total"]):
                raise ValidationError(
                    f"Sales Order {self.sales_order} has {round_money(float(order['net_total']) - billed)} left to "
                    f"bill, this invoice bills {self.net_total}", field="sales_order")
        if self.moves_stock():
            stock.check_available(self.get("items"))
        self.outstanding_amount = self.grand_total
        self.status = invoice_status(1, self.grand_total, self.outstanding_amount, self.due_date)

    def on_submit(self):
        if self.moves_stock():
            stock.post(self, self.get("items"), -1)
        if self.sales_order:
            update_billing(self.sales_order)

    def moves_stock(self):
        """An invoice from an outside ERP (an External ID) moves no stock here when the site
        keeps its stock in that ERP (CRM Settings); every other invoice does."""
        return not (self.external_id and int(settings().get("stock_in_external_erp") or 0))

    def before_cancel(self):
        payments = lowcode.db.sql(
            "SELECT DISTINCT p.`name` FROM `tabPayment Entry` p JOIN `tabPayment Entry Reference` r "
            "ON r.`parent`=p.`name` AND r.`parenttype`='Payment Entry' WHERE r.`sales_invoice`=%s AND p.`docstatus`=1",
            (self.name,), pluck=True)
        if payments:
            raise ValidationError(f"Payment Entry {', '.join(sorted(payments))} pays this invoice: cancel it first",
                                  field="docstatus")
        self.status = "Cancelled"

    def on_cancel(self):
        stock.cancel(self)
        if self.sales_order:
            update_billing(self.sales_order)


def set_outstanding(invoice, change):
    """Add ``change`` to a submitted invoice's outstanding amount and set its status
    (Payment Entry's submit and cancel); refuses going below zero."""
    row = lowcode.db.get_value("Sales Invoice", invoice, ["outstanding_amount", "grand_total", "due_date", "docstatus"],
                               as_dict=True, for_update=True)
    outstanding = round_money(float(row["outstanding_amount"] or 0) + change)
    if outstanding < 0:
        raise ValidationError(f"Sales Invoice {invoice} has only {row['outstanding_amount']} outstanding",
                              field="references")
    status = invoice_status(row["docstatus"], row["grand_total"], outstanding, row["due_date"])
    lowcode.db.sql("UPDATE `tabSales Invoice` SET `outstanding_amount`=%s, `status`=%s WHERE `name`=%s",
                   (outstanding, status, invoice))


def mark_overdue():
    """Daily: submitted invoices with money outstanding past their due date become Overdue."""
    lowcode.db.sql("UPDATE `tabSales Invoice` SET `status`='Overdue' WHERE `docstatus`=1 AND `outstanding_amount`>0 "
                   "AND `due_date`<%s AND `status`<>'Overdue'", (today(),))


@lowcode.whitelist(methods=["POST"])
def make_payment_entry(source_name: str):
    """ERPNext's ``get_payment_entry`` for an invoice: a draft payment of its outstanding amount."""
    invoice = lowcode.get_doc("Sales Invoice", source_name)
    invoice.check_permission("read")
    outstanding = float(invoice.outstanding_amount or 0)
    if int(invoice.docstatus or 0) != 1 or outstanding <= 0:
        raise ValidationError(f"Sales Invoice {source_name} has nothing to pay", field="source_name")
    payment = lowcode.new_doc("Payment Entry", party_type="Customer", party=invoice.customer,
                              paid_amount=outstanding, posting_date=today())
    payment.append("references", {"sales_invoice": invoice.name, "allocated_amount": outstanding})
    payment.insert()
    return payment.as_dict()

