"""The service app's single integration manifest."""

app_name = "service_app"
app_title = "Service"
app_publisher = "Lowcode CRM"
# Shares crm_app's Customer, Contact, Product and Territory.
required_apps = ["lowcode", "crm_app"]

# Who sees which cases, in SQL for lists and per document; see service_app/permissions.py.
permission_query_conditions = {
    "Case": "service_app.permissions.case_conditions",
}
has_permission = {
    "Case": "service_app.permissions.case_permission",
}

doc_events = {
    "Case": {
        # assigned_to and the assignment table in step (service_app/routing.py)
        "on_update": ["service_app.routing.sync_assignment"],
    },
}

# crm_app's assignment rules choose a case's agent among its team's members (service_app/routing.py).
assignment_candidates = {
    "Case": "service_app.routing.team_candidates",
}

scheduler_events = {}

# Desk pages the app adds: /app/<route>[/<name>]
desk_pages = {}

# Public pages outside the desk: /<prefix>[/<path>]
web_pages = {}

fixtures = []
