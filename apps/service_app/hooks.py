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

# The SLA clocks (service_app/sla.py) and crises (service_app/escalation.py). The crisis
# rule runs before the clocks: a crisis raises the priority the due times follow.
doc_events = {
    "Case": {
        "before_validate": ["service_app.sla.protect_fields"],
        "validate": ["service_app.escalation.apply_crisis_rule", "service_app.sla.update_clocks"],
        "on_update": ["service_app.escalation.announce_crisis"],
        "on_trash": ["service_app.escalation.forget_case"],
    },
    "Service Team": {
        "validate": ["service_app.sla.fill_working_week"],
    },
    "Communication": {
        "after_insert": ["service_app.sla.communication_sent"],
    },
}

# Warnings before a breach, breaches and escalation rules, every five minutes.
scheduler_events = {
    "cron": {
        "*/5 * * * *": ["service_app.escalation.check_service_levels"],
    },
}

# Desk pages the app adds: /app/<route>[/<name>]
desk_pages = {}

# Public pages outside the desk: /<prefix>[/<path>]
web_pages = {}

fixtures = []
