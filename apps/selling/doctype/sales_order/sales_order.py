"""Sales Order: what a customer ordered, made from an accepted quotation
(``make_sales_order``) or typed in; submitted, it is billed by Sales Invoices
(``make_sales_invoice``), which keep its ``per_billed`` and status."""
import lowcode
from lowcode.document import Document
from lowcode.exceptions import ValidationError
from lowcode.utils import today

from crm_app.parties import check_not_blocked, customer_of, settings
from crm_app.totals import round_money, set_totals

from selling.mapping import draft_from


class SalesOrder(Document):
    def validate(self):
        before = self._doc_before_save
        if self.is_new() or (before and before.customer != self.customer):
            check_not_blocked(self.customer, "orders")
        if self.delivery_date and self.transaction_date and self.delivery_date < self.transaction_date:
            raise ValidationError("Delivery Date is before the order date", field="delivery_date")
        self.price_list = self.price_list or settings().default_price_list
        set_totals(self, self.price_list, self.transaction_date)
        self.status, self.per_billed = "Draft", 0

    def before_submit(self):
        # nothing is billed yet: invoices are made from submitted orders
        self.per_billed = 0 if float(self.net_total or 0) else 100
        self.status = "To Bill" if self.per_billed < 100 else "Completed"

    def before_cancel(self):
        invoices = lowcode.db.sql("SELECT `name` FROM `tabSales Invoice` WHERE `sales_order`=%s AND `docstatus`=1",
                                  (self.name,), pluck=True)
        if invoices:
            raise ValidationError(f"Sales Invoice {', '.join(invoices)} bills this order: cancel it first",
                                  field="docstatus")
        self.status = "Cancelled"


def billed_amount(order, excluding=None):
    """The net total of the submitted invoices billing ``order`` (taxes are not billed goods)."""
    rows = lowcode.db.sql("SELECT COALESCE(SUM(`net_total`), 0) FROM `tabSales Invoice` WHERE `sales_order`=%s "
                          "AND `docstatus`=1 AND `name`<>%s", (order, excluding or ""))
    return float(rows[0][0] or 0)


def update_billing(order):
    """per_billed and status from the order's submitted invoices (after each submit or cancel)."""
    net = float(lowcode.db.get_value("Sales Order", order, "net_total") or 0)
    billed = billed_amount(order)
    per_billed = min(100.0, round_money(billed * 100 / net)) if net else 100.0
    lowcode.db.sql("UPDATE `tabSales Order` SET `per_billed`=%s, `status`=%s WHERE `name`=%s AND `docstatus`=1",
                   (per_billed, "Completed" if per_billed >= 100 else "To Bill", order))


@lowcode.whitelist(methods=["POST"])
def make_sales_order(source_name: str):
    """ERPNext's ``quotation.make_sales_order``: a draft order for the quotation's
    customer with its items, prices, discount and taxes. The quotation must be accepted
    and readable by the user; the order is saved as a draft (our desk opens saved
    records, where ERPNext's form opens the unsaved mapped document)."""
    quotation = lowcode.get_doc("Quotation", source_name)
    quotation.check_permission("read")
    if quotation.status != "Accepted":
        raise ValidationError(f"Quotation {source_name} is {quotation.status}: only an accepted quotation "
                              f"becomes an order", field="source_name")
    made = lowcode.db.sql("SELECT `name` FROM `tabSales Order` WHERE `quotation`=%s AND `docstatus`<2",
                          (quotation.name,), pluck=True)
    if made:
        raise ValidationError(f"Sales Order {made[0]} is already made from quotation {source_name}",
                              field="source_name")
    customer = customer_of(quotation.quotation_to, quotation.party_name)
    if not customer:
        raise ValidationError(f"Quotation {source_name} is for a lead without a customer: convert the lead first",
                              field="source_name")
    order = draft_from(quotation, "Sales Order", customer=customer, quotation=quotation.name,
                       transaction_date=today(), delivery_date=today())
    order.insert()
    return order.as_dict()


@lowcode.whitelist(methods=["POST"])
def make_sales_invoice(source_name: str):
    """ERPNext's ``sales_order.make_sales_invoice``: a draft invoice for a submitted
    order's lines (the whole order: it may be billed once in full)."""
    order = lowcode.get_doc("Sales Order", source_name)
    order.check_permission("read")
    if int(order.docstatus or 0) != 1:
        raise ValidationError(f"Sales Order {source_name} is not submitted", field="source_name")
    if billed_amount(order.name) > 0:
        raise ValidationError(f"Sales Order {source_name} is already billed", field="source_name")
    invoice = draft_from(order, "Sales Invoice", customer=order.customer, sales_order=order.name)
    invoice.insert()
    return invoice.as_dict()

