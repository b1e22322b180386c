"""Payment Entry (simple: money received from a customer): ``paid_amount`` allocated to
the customer's submitted invoices in ``references``. Submitting it lowers each invoice's
outstanding amount and sets its status; cancelling gives the amounts back. An allocation
above what the invoice still owes, or allocations above the amount paid, are refused,
naming the row."""
from collections import defaultdict

import lowcode
from lowcode.document import Document
from lowcode.exceptions import ValidationError

from crm_app.totals import round_money

from selling.doctype.sales_invoice.sales_invoice import set_outstanding


class PaymentEntry(Document):
    def validate(self):
        self.party_type = "Customer"
        self.party_name = lowcode.db.get_value("Customer", self.party, "customer_name") if self.party else None
        self.status = "Draft"
        if round_money(self.paid_amount) <= 0:
            raise ValidationError("the paid amount must be more than 0", field="paid_amount")
        self.check_allocations(lock=False)

    def before_submit(self):
        self.check_allocations(lock=True)
        self.status = "Submitted"

    def check_allocations(self, lock):
        allocated = defaultdict(float)
        for row in self.get("references") or []:
            invoice = lowcode.db.get_value("Sales Invoice", row.sales_invoice,
                                           ["customer", "docstatus", "outstanding_amount"], as_dict=True,
                                           for_update=lock)
            where = f"Row {row.idx}: Sales Invoice {row.sales_invoice}"
            if not invoice:
                raise ValidationError(f"{where} not found", field="references")
            if int(invoice["docstatus"] or 0) != 1:
                raise ValidationError(f"{where} is not submitted", field="references")
            if invoice["customer"] != self.party:
                raise ValidationError(f"{where} is another customer's", field="references")
            amount = round_money(row.allocated_amount)
            if amount <= 0:
                raise ValidationError(f"{where}: the allocated amount must be more than 0", field="references")
            row.outstanding_amount = invoice["outstanding_amount"]
            allocated[row.sales_invoice] += amount
            if round_money(allocated[row.sales_invoice]) > round_money(invoice["outstanding_amount"]):
                raise ValidationError(f"{where}: allocated {round_money(allocated[row.sales_invoice])} is more "
                                      f"than its outstanding {round_money(invoice['outstanding_amount'])}",
                                      field="references")
        self.total_allocated_amount = round_money(sum(allocated.values()))
        if self.total_allocated_amount > round_money(self.paid_amount):
            raise ValidationError(f"the invoices are allocated {self.total_allocated_amount}, more than the "
                                  f"{round_money(self.paid_amount)} paid", field="paid_amount")
        self.unallocated_amount = round_money(float(self.paid_amount or 0) - self.total_allocated_amount)

    def on_submit(self):
        for row in self.get("references") or []:
            set_outstanding(row.sales_invoice, -float(row.allocated_amount or 0))

    def before_cancel(self):
        self.status = "Cancelled"

    def on_cancel(self):
        for row in self.get("references") or []:
            set_outstanding(row.sales_invoice, float(row.allocated_amount or 0))
