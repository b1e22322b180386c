"""Event: an activity linked to any record; see crm_app/activities.py."""
from crm_app.activities import Activity


class Event(Activity):
    pass
