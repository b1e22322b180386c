"""Event: an activity linked to any record; see crm_app/activities.py. As Frappe's, an
event may not end before it starts (calendars and the ICS feed would show nonsense)."""
from lowcode import _
from lowcode.exceptions import ValidationError

from crm_app.activities import Activity


class Event(Activity):
    def validate(self):
        super().validate()
        if self.starts_on and self.ends_on and str(self.ends_on) < str(self.starts_on):
            raise ValidationError(_("Ends On is before Starts On"), field="ends_on")
