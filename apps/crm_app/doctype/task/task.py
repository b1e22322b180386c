"""Task: assigned work with a due date, priority and overdue tracking; see
crm_app/activities.py."""
from crm_app.activities import Task  # noqa: F401 - the controller class lives with the other activities
