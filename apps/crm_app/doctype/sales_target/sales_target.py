"""Sales Target: what a user or a territory should reach in a period. A period that ends
before it starts is refused (the sales reports would compare against no days at all)."""
from lowcode import _
from lowcode.document import Document
from lowcode.exceptions import ValidationError


class SalesTarget(Document):
    def validate(self):
        if self.period_start and self.period_end and str(self.period_end) < str(self.period_start):
            raise ValidationError(_("Period End is before Period Start"), field="period_end")
