"""The engine's own app manifest: lowcode is the first app on every site, as
frappe is in a Frappe bench. It declares the core DocTypes' behaviour."""

app_name = "lowcode"
app_title = "Lowcode"
app_publisher = "Lowcode CRM"
required_apps = []

fixtures = []

scheduler_events = {
    "hourly": ["lowcode.auth.clear_expired_sessions"],
    "daily": ["lowcode.jobs.prune_job_logs"],
}
