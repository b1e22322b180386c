"""Case: a complaint, a service request or a question from a customer. The rules every
case obeys, whoever saves it (desk, portal, API, another channel):

- resolving needs a resolution note;
- moving a resolved or closed case back to work counts as a reopening;
- the figures other modules keep on the case (reopenings, hours, survey scores, merge
  and split links) are never taken from a client's payload: the engine lets a payload
  reach read-only fields, as Frappe does, so a save keeps the stored values unless server
  code saves with ignore_permissions (the SLA fields are kept by service_app/sla.py).

SLA clocks, routing and surveys hang on the app's hooks (see service_app/hooks.py)."""
from django.utils.translation import gettext

from lowcode.document import Document
from lowcode.exceptions import MandatoryError

DONE = ("Resolved", "Closed")
#: kept by server code only: time_tracking (hours), surveys (scores), merging (links)
BOOKKEEPING = ("reopen_count", "total_hours", "satisfaction_score", "nps_score", "survey_answered_on",
               "merged_into", "split_from")


class Case(Document):
    def before_validate(self):
        if self.flags.ignore_permissions:
            return
        before = self._doc_before_save
        for field in BOOKKEEPING:
            self.set(field, before.get(field) if before is not None else None)

    def validate(self):
        if self.status in DONE and not (self.resolution_details or "").strip():
            raise MandatoryError(gettext("A resolution note is required to resolve a case"),
                                 doctype="Case", field="resolution_details")
        before = self._doc_before_save
        if before is not None and before.status in DONE and self.status not in DONE:
            self.reopen_count = int(self.reopen_count or 0) + 1

    def is_open(self):
        return self.status not in DONE
