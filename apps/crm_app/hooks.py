"""The CRM app's single integration manifest."""

app_name = "crm_app"
app_title = "CRM"
app_publisher = "Lowcode CRM"
required_apps = ["lowcode"]

doc_events = {}
scheduler_events = {}
fixtures = []
