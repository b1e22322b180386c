"""The service app's single integration manifest."""

app_name = "service_app"
app_title = "Service"
app_publisher = "Lowcode CRM"
# Shares crm_app's Customer, Contact, Product and Territory.
required_apps = ["lowcode", "crm_app"]

# Who sees which cases, in SQL for lists and per document; see service_app/permissions.py.
permission_query_conditions = {
    "Case": "service_app.permissions.case_conditions",
    "Survey Response": "service_app.survey_results.response_conditions",
    "Survey Invitation": "service_app.survey_results.response_conditions",
}
has_permission = {
    "Case": "service_app.permissions.case_permission",
    "Survey Response": "service_app.survey_results.response_permission",
    "Survey Invitation": "service_app.survey_results.response_permission",
}

# A case that becomes Resolved sends its satisfaction survey; see service_app/surveys.py.
doc_events = {
    "Case": {
        "on_update": "service_app.surveys.on_case_update",
    },
}

scheduler_events = {
    "daily": ["service_app.surveys.expire_invitations"],
}

# Desk pages the app adds: /app/<route>[/<name>]
desk_pages = {
    "survey-results": "service_app.survey_results.page",
}

# Public pages outside the desk: /<prefix>[/<path>]
web_pages = {
    "survey": "service_app.survey_page.view",
    "kb": "service_app.kb_pages.page",  # the knowledge base, for guests too
}

# Buttons on forms (see crm_app/hooks.py for the keys).
form_actions = {
    "Survey": [{"label": "Results", "route": "/app/survey-results/{name}"}],
}

# Scripts on desk forms (Frappe's doctype_js), from the app's public/ folder.
doctype_js = {
    "Case": ["service_app/kb_suggest.js", "service_app/case_form.js"],  # article suggestions on the subject
}

fixtures = []
