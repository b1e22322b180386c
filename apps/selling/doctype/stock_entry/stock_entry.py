"""Stock Entry: goods received into the warehouse or issued from it, by hand (the
invoices take sold goods out themselves). Submit posts the stock ledger; cancel takes it back."""
from lowcode.document import Document

from selling import stock


class StockEntry(Document):
    def before_submit(self):
        if self.purpose != "Material Receipt":
            stock.check_available(self.get("items"))

    def on_submit(self):
        stock.post(self, self.get("items"), 1 if self.purpose == "Material Receipt" else -1)

    def on_cancel(self):
        stock.cancel(self)
