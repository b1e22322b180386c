"""A Segment: saved list filters over Leads, Contacts or Customers (see crm_app/campaigns.py)."""
from lowcode import query
from lowcode.desk.doctype.number_card.number_card import parse_filters_json
from lowcode.document import Document
from lowcode.exceptions import ValidationError

from crm_app.campaigns import MEMBER_DOCTYPES, matching_records


class Segment(Document):
    def validate(self):
        if self.segment_doctype not in MEMBER_DOCTYPES:
            raise ValidationError(f"segment_doctype: must be one of {', '.join(MEMBER_DOCTYPES)}",
                                  field="segment_doctype")
        # The same check the list view's filters get: fields and operators from metadata.
        query.normalise_filters(parse_filters_json(self.filters_json), self.segment_doctype)
        # The preview: what the person saving may read now; sending counts again, as the sender.
        self.total_subscribers = len(matching_records(self))
