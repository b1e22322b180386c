"""Case: a complaint, a service request or a question from a customer. The rules every
case obeys, whoever saves it (desk, portal, API, another channel):

- resolving needs a resolution note;
- moving a resolved or closed case back to work counts as a reopening.

SLA clocks, routing and surveys hang on the app's hooks (see service_app/hooks.py)."""
from django.utils.translation import gettext

from lowcode.document import Document
from lowcode.exceptions import MandatoryError

DONE = ("Resolved", "Closed")


class Case(Document):
    def validate(self):
        if self.status in DONE and not (self.resolution_details or "").strip():
            raise MandatoryError(gettext("A resolution note is required to resolve a case"),
                                 doctype="Case", field="resolution_details")
        before = self._doc_before_save
        if before is not None and before.status in DONE and self.status not in DONE:
            self.reopen_count = int(self.reopen_count or 0) + 1

    def is_open(self):
        return self.status not in DONE
