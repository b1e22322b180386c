"""The CRM app's single integration manifest."""

app_name = "crm_app"
app_title = "CRM"
app_publisher = "Lowcode CRM"
required_apps = ["lowcode"]

# Assignment rules apply to any DocType an admin names in one.
doc_events = {
    "*": {
        "after_insert": "crm_app.assignment.apply_rules",
    },
    # A received e-mail answering a campaign message marks its member replied.
    "Communication": {
        "after_insert": "crm_app.campaigns.record_reply",
    },
    # A permanent bounce (lowcode/channels/bounces.py) marks the campaign member it was sent to.
    "Email Bounce": {
        "on_update": "crm_app.campaigns.on_bounce",
    },
    # Lead scoring (crm_app/scoring.py): a saved lead, and a call, message or opened e-mail
    # logged on one, rescores that lead.
    "Lead": {"on_update": "crm_app.scoring.on_lead_update", "before_insert": "crm_app.scoring.before_lead_insert"},
    "Call Log": {"on_update": "crm_app.scoring.on_activity"},
    "Campaign Member": {"on_update": "crm_app.scoring.on_activity"},
}
doc_events["Communication"]["on_update"] = "crm_app.scoring.on_activity"

# "Assigned to ... by rule ..." on the form after the save a rule assigned (crm_app/assignment.py).
form_notices = {"*": ["crm_app.assignment.form_notices"]}

# Who sees which rows, in SQL for lists and per document; see crm_app/permissions.py.
permission_query_conditions = {
    "Lead": "crm_app.permissions.owned_or_territory_conditions",
    "Opportunity": "crm_app.permissions.owned_or_territory_conditions",
    "Call Log": "crm_app.permissions.private_activity_conditions",
    "Event": "crm_app.permissions.private_activity_conditions",
    "Task": "crm_app.permissions.private_activity_conditions",
    "Note": "crm_app.permissions.private_activity_conditions",
    "Communication": ["crm_app.permissions.private_activity_conditions",
                      "crm_app.permissions.communication_reference_conditions"],
    "Campaign Member": "crm_app.permissions.campaign_member_conditions",
    "Announcement": "crm_app.announcements.conditions",  # the roles it targets
    "Sales Forecast Entry": "crm_app.permissions.forecast_entry_conditions",  # a rep's own, managers all
}
has_permission = {
    "Lead": "crm_app.permissions.owned_or_territory_permission",
    "Opportunity": "crm_app.permissions.owned_or_territory_permission",
    "Call Log": "crm_app.permissions.private_activity_permission",
    "Event": "crm_app.permissions.private_activity_permission",
    "Task": "crm_app.permissions.private_activity_permission",
    "Note": "crm_app.permissions.private_activity_permission",
    "Communication": ["crm_app.permissions.private_activity_permission",
                      "crm_app.permissions.communication_reference_permission"],
    "Campaign Member": "crm_app.permissions.campaign_member_permission",
    "Announcement": "crm_app.announcements.permission",
    "Sales Forecast Entry": "crm_app.permissions.forecast_entry_permission",
}

scheduler_events = {
    "daily": [
        "crm_app.followup.run_all_rules",
        "crm_app.activities.mark_overdue_tasks",
        "crm_app.doctype.quotation.quotation.expire_quotations",
        "crm_app.scoring.nightly",  # every lead's score, the learned model and its predictions
    ],
    "hourly": ["crm_app.activities.send_task_reminders"],
    # Campaign messages: start when due, throttled batches, A/B winners, delivery states.
    "cron": {"* * * * *": ["crm_app.campaigns.run"]},
}

# Numbers whose Lead or Contact refused SMS are never sent to (lowcode/channels/sms.py).
sms_opt_out = ["crm_app.sms.refused_numbers"]

# Desk pages the app adds: /app/<route>[/<name>]
desk_pages = {
    "customer-360": "crm_app.customer_360.page",
    # the other parties' 360° views (crm_app/party_360.py)
    "supplier-360": "crm_app.party_360.supplier_page",
    "sales-partner-360": "crm_app.party_360.sales_partner_page",
    "employee-360": "crm_app.party_360.employee_page",
    "sales-dashboard": "crm_app.sales_dashboard.page",
    "follow-ups": "crm_app.follow_ups.page",
    "inbox": "crm_app.inbox.page",  # the team inbox: crm_app/inbox.py
    "call": "crm_app.telephony.api.page",
    "activity-panel": "crm_app.activity_panel.page",  # the activity panel's dialogs on records
    "convert-lead": "crm_app.convert_page.page",  # the lead conversion dialog
    "announcement-read": "crm_app.announcements.read_page",  # POST: opened; GET: who read it
    "best-leads": "crm_app.best_leads.page",  # my open leads by score, not contacted today
}

# Blocks on the desk's home page (/app): the announcements for the user's roles (crm_app/announcements.py).
home_panels = ["crm_app.announcements.home_panel"]

# The activity panel on these records' forms: log a call, add a note, new task, schedule a
# meeting as dialogs prefilled with the record (crm_app/activity_panel.py; kinds in its KINDS).
activity_panel = {doctype: ["call", "note", "task", "meeting"]
                  for doctype in ("Lead", "Opportunity", "Customer", "Contact", "Supplier", "Sales Partner")}

# Tasks made from received messages, on the message's form and its record's (crm_app/inbox.py).
# The calls, notes, tasks and meetings linked to a record (crm_app/activity_panel.py).
additional_timeline_content = {"*": ["crm_app.inbox.timeline", "crm_app.activity_panel.timeline"],
                               "Announcement": ["crm_app.announcements.timeline"]}  # read receipts

# Services the realtime server runs beside the WebSocket, one asyncio task per site:
# the Asterisk (AMI) listener that turns a PBX's calls into Call Logs and screen pops.
realtime_services = ["crm_app.telephony.ami.listen"]

fixtures = []

# Scripts on desk forms (Frappe's doctype_js), from the app's public/ folder: the Lead form's
# duplicate warning while typing and its conversion dialog (crm_app/matching.py, convert_page.py);
# the quotation's prices and totals, live (crm_app/totals.py).
doctype_js = {"Lead": ["crm_app/lead_form.js"], "Quotation": ["crm_app/quotation_form.js"]}

# Fill new columns of records made before them; see crm_app/patches.py.
after_migrate = ["crm_app.patches.fill_business_dates", "crm_app.patches.split_net_and_gross",
                 "crm_app.patches.fill_customer_mobiles", "crm_app.patches.default_duplicate_rule",
                 "crm_app.patches.fill_phone_numbers", "crm_app.patches.lead_lower_indexes"]
# The duplicate check's indexes on a new site too (patches.lead_lower_indexes).
after_install = ["crm_app.patches.lead_lower_indexes"]

# Buttons on forms: a route to open, or a whitelisted method called with the document's name;
# optional: a safe "condition" on the document, and "roles" (any of which shows the button).
form_actions = {
    # Click-to-call through the PBX (AMI) from any record with a phone number.
    "*": [
        {"label": "Call", "route": "/app/call/{name}?doctype={doctype}", "when": "crm_app.telephony.api.can_call"},
    ],
    "Lead": [
        {"label": "Send SMS", "route": "/app/send-sms/{name}?doctype=Lead", "condition": "doc.mobile_no"},
        {"label": "Convert to customer", "route": "/app/convert-lead/{name}", "condition": "doc.status == 'Qualified'"},
        {"label": "Merge into the earlier lead", "method": "crm_app.doctype.lead.lead.merge_into_duplicate",
         "argument": "lead", "condition": "doc.is_duplicate and doc.duplicate_of",
         "confirm": "Merge this lead into the earlier one? Its activities move there and this lead is removed.",
         "redirect": "/app/lead/{name}"},
    ],
    "Customer": [
        {"label": "Send SMS", "route": "/app/send-sms/{name}?doctype=Customer", "condition": "doc.mobile_no"},
        {"label": "360° view", "route": "/app/customer-360/{name}"},
        {"label": "New opportunity", "route": "/app/opportunity/new?opportunity_from=Customer&party_name={name}",
         "condition": "not doc.is_blocked"},
    ],
    "Supplier": [{"label": "360° view", "route": "/app/supplier-360/{name}"}],
    "Sales Partner": [{"label": "360° view", "route": "/app/sales-partner-360/{name}"}],
    "Employee": [{"label": "360° view", "route": "/app/employee-360/{name}"}],
    "Communication": [
        {"label": "Reply", "route": "/app/email?doctype=Communication&name={name}",
         "condition": "doc.sent_or_received == 'Received' and doc.communication_medium == 'Email'"},
        {"label": "Make a task", "route": "/app/inbox/{name}#inbox-task-form",
         "condition": "doc.sent_or_received == 'Received'"},
        {"label": "Share with", "route": "/app/inbox/{name}#inbox-share-form",
         "condition": "doc.sent_or_received == 'Received'"},
        {"label": "Link to record", "route": "/app/inbox/{name}#inbox-link-form",
         "condition": "doc.sent_or_received == 'Received' and not doc.reference_name"},
        {"label": "Close", "method": "crm_app.inbox.close_message", "argument": "communication",
         "condition": "doc.sent_or_received == 'Received' and doc.status != 'Closed'"},
        {"label": "Reopen", "method": "crm_app.inbox.reopen_message", "argument": "communication",
         "condition": "doc.sent_or_received == 'Received' and doc.status == 'Closed'"},
    ],
    "Contact": [
        {"label": "Send SMS", "route": "/app/send-sms/{name}?doctype=Contact", "condition": "doc.mobile_no"},
        {"label": "Export personal data", "method": "crm_app.privacy.export_contact_data", "argument": "contact",
         "download": True},
        # shown only to the roles crm_app.privacy.ERASERS allows to erase (which it checks itself)
        {"label": "Erase personal data", "method": "crm_app.privacy.erase_contact_data", "argument": "contact",
         "condition": "not doc.is_erased", "roles": ["System Manager", "CRM Admin"],
         "confirm": "Erase this person's personal data? This cannot be undone."},
    ],
    "Lead Scoring Model": [
        {"label": "Train now", "method": "crm_app.scoring.train_now", "argument": "model",
         "roles": ["System Manager", "CRM Admin"], "confirm": "Train the lead scoring model on today's history now?"},
    ],
    "Campaign Message": [
        {"label": "Schedule", "method": "crm_app.campaigns.schedule_message", "argument": "message",
         "condition": "doc.status == 'Draft'",
         "confirm": "Send this message to the segment's members you may read, at its time?"},
        {"label": "Cancel sending", "method": "crm_app.campaigns.cancel_message", "argument": "message",
         "condition": "doc.status in ('Scheduled', 'Testing', 'Sending')"},
    ],
}

# Public pages: the campaign links in messages (unsubscribe, open pixel, click redirect).
web_pages = {"campaign": "crm_app.campaign_pages.view"}

# Records marked wherever they appear (their form, and every link to them).
record_badges = {
    "Customer": {"field": "is_blocked", "label": "Blocked", "style": "danger"},
    "Lead": {"field": "is_duplicate", "label": "Possible duplicate", "style": "warning"},
    # too little won/lost history for a learned lead score (crm_app/scoring.py)
    "Lead Scoring Model": {"field": "status", "value": "No model", "label": "Not enough won and lost leads to learn from yet",
                           "style": "warning"},
}

# Incoming e-mail (lowcode/channels/email_in.py): who a sender is, and a Lead for an unknown one.
email_sender_match = ["crm_app.email_in.match_sender"]
email_append_to = {"Lead": "crm_app.email_in.lead_from_email"}

# The desk's Settings hub (lowcode/desk/views/hub.py) and global search list these too.
settings_tools = [{"group": "Channels", "label": "Telephony Settings", "icon": "phone", "doctype": "Telephony Settings"}]

# The salespeople's page of the user guide (guide/<language>/sales.md; lowcode/desk/guide.py):
# the section each desk route's Help link opens.
user_guide = {"sales": {
    "lead": "leads", "opportunity": "opportunities", "opportunity/view/kanban": "pipeline",
    "quotation": "quotations", "product": "quotations", "price-list": "quotations", "customer": "customers",
    "customer-360": "customers", "contact": "customers", "supplier": "customers", "supplier-360": "customers",
    "sales-partner": "customers", "sales-partner-360": "customers", "employee": "customers",
    "employee-360": "customers", "party-relation": "customers", "task": "activities", "event": "activities",
    "note": "activities", "call-log": "calls", "call": "calls", "inbox": "inbox", "communication": "inbox",
    "email": "email-sms", "send-sms": "email-sms", "follow-ups": "your-day", "sales-dashboard": "reports",
    "campaign": "managers", "segment": "managers", "campaign-message": "managers", "sales-target": "managers",
    "assignment-rule": "managers", "follow-up-rule": "managers", "crm-settings": "managers",
}}
user_guide["sales"].update({"best-leads": "your-day", "lead-scoring-rule": "managers", "lead-scoring-model": "managers"})
# Status badge colours of DocTypes without a workflow (lowcode/desk/indicators.py), where
# Frappe's guess from the words does not fit: Bootstrap colours by status.
indicator_rules = {"Call Log": {"Ringing": "warning", "In Progress": "info", "Missed": "danger", "No Answer": "danger"}}

# An assignment's log row does not keep its record from being deleted (Frappe's hook; the
# log keeps naming the record, as Frappe's ToDo does).
ignore_links_on_delete = ["Assignment Log"]

# Sections of a party's 360° view (crm_app/party_360.py): an employee's own leads,
# opportunities and the customers they manage.
party_360_sections = {"Employee": ["crm_app.party_360.employee_leads", "crm_app.party_360.employee_opportunities",
                                   "crm_app.party_360.employee_customers"]}
