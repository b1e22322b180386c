"""Case Time Log: time an agent spent on a case, from a timer started and stopped on
the case's form or entered by hand. Its hours come from its times (or, given alone,
set its end); the case's total_hours is the sum of its logs (service_app/time_tracking.py)."""
import datetime

from django.utils.translation import gettext

from lowcode.document import Document
from lowcode.exceptions import ValidationError

from service_app.time_tracking import as_datetime, update_case_hours


class CaseTimeLog(Document):
    def validate(self):
        start, end = as_datetime(self.from_time), as_datetime(self.to_time)
        if end is None and self.hours and start is not None:
            end = start + datetime.timedelta(hours=float(self.hours))
            self.to_time = end.strftime("%Y-%m-%d %H:%M:%S")
        if end is None:
            self.hours = 0  # the timer runs
            return
        if end < start:
            raise ValidationError(gettext("To Time is before From Time"), field="to_time", doctype=self.doctype)
        self.hours = round((end - start).total_seconds() / 3600, 2)

    def on_update(self):
        before = self._doc_before_save
        update_case_hours(self.case, before.case if before is not None else None)

    def after_delete(self):  # on_trash runs while the row is still there
        update_case_hours(self.case)
