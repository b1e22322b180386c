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

# A case is opened when registered unless its channel gives the time; see service_app/reports.py.
doc_events = {
    "Case": {"before_insert": "service_app.reports.stamp_opened_on"},
}

scheduler_events = {}

# Desk pages the app adds: /app/<route>[/<name>]
desk_pages = {
    "service-dashboard": "service_app.dashboard.page",
}

# Public pages outside the desk: /<prefix>[/<path>]
web_pages = {}

fixtures = []
