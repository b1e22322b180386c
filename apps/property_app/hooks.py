"""property_app's one integration manifest (the hook names are listed in lowcode/hook_names.py)."""

app_name = "property_app"
app_title = "Properties"
app_publisher = "Lowcode CRM"
# Leads come from crm_app; its Lead gets an "Interested in" link from fixtures/custom_field.json.
required_apps = ["lowcode", "crm_app"]

# A lead saved with a property recounts that property's interested leads.
doc_events = {
    "Lead": {"on_update": "property_app.events.lead_changed"},
}

# Every night the counts are made again from the leads (a lead deleted or edited in bulk).
scheduler_events = {
    "daily": ["property_app.events.recount_all"],
}
