"""A Segment: saved list filters over Leads, Contacts or Customers (see crm_app/campaigns.py).

The filters are the list view's own: a user filters the Lead, Contact or Customer list
with the desk's filter builder, saves that as a view (List View Settings), and picks the
view here; its DocType and filters are copied on save (the JSON field stays for admins
and the API, checked the same way)."""
import lowcode
from lowcode import query
from lowcode.desk.doctype.number_card.number_card import parse_filters_json
from lowcode.document import Document
from lowcode.exceptions import ValidationError

from crm_app.campaigns import MEMBER_DOCTYPES, matching_records


class Segment(Document):
    def validate(self):
        if self.list_view:
            view = lowcode.get_doc("List View Settings", self.list_view)
            view.check_permission("read")  # one's own views (or a System Manager's reading any)
            if view.ref_doctype not in MEMBER_DOCTYPES:
                raise ValidationError(f"list_view: a view of {view.ref_doctype}, not of "
                                      f"{', '.join(MEMBER_DOCTYPES)}", field="list_view")
            self.segment_doctype, self.filters_json = view.ref_doctype, view.filters or "[]"
        if self.segment_doctype not in MEMBER_DOCTYPES:
            raise ValidationError(f"segment_doctype: must be one of {', '.join(MEMBER_DOCTYPES)}",
                                  field="segment_doctype")
        # The same check the list view's filters get: fields and operators from metadata.
        query.normalise_filters(parse_filters_json(self.filters_json), self.segment_doctype)
        # The preview: what the person saving may read now; sending counts again, as the sender.
        self.total_subscribers = len(matching_records(self))
