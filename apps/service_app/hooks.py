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

scheduler_events = {}

# Desk pages the app adds: /app/<route>[/<name>]
desk_pages = {}

# Public pages outside the desk: /<prefix>[/<path>]
web_pages = {
    "kb": "service_app.kb_pages.page",  # the knowledge base, for guests too
}

# Scripts on desk forms (Frappe's doctype_js), from the app's public/ folder.
doctype_js = {
    "Case": ["service_app/kb_suggest.js", "service_app/case_form.js"],  # article suggestions on the subject
}

fixtures = []
