"""The service app's single integration manifest."""

app_name = "service_app"
app_title = "Service"
app_publisher = "Lowcode CRM"
# Shares crm_app's Customer, Contact, Product and Territory.
required_apps = ["lowcode", "crm_app"]

# Who sees which rows, in SQL for lists and per document; see service_app/permissions.py
# (cases, time logs, case assignment rules) and survey_results.py (survey records).
permission_query_conditions = {
    "Case": "service_app.permissions.case_conditions",
    "Case Time Log": "service_app.permissions.time_log_conditions",
    "Case Reply": "service_app.permissions.reply_conditions",
    "Assignment Rule": "service_app.permissions.assignment_rule_conditions",
    "Survey Response": "service_app.survey_results.response_conditions",
    "Survey Invitation": "service_app.survey_results.response_conditions",
}
has_permission = {
    "Case": "service_app.permissions.case_permission",
    "Case Time Log": "service_app.permissions.time_log_permission",
    "Case Reply": "service_app.permissions.reply_permission",
    "Assignment Rule": "service_app.permissions.assignment_rule_permission",
    "Survey Response": "service_app.survey_results.response_permission",
    "Survey Invitation": "service_app.survey_results.response_permission",
}

# The SLA clocks (service_app/sla.py) and crises (service_app/escalation.py): the crisis
# rule runs before the clocks, since a crisis raises the priority the due times follow.
doc_events = {
    "Case": {
        # opened when registered unless its channel gives the time (service_app/reports.py)
        "before_insert": ["service_app.reports.stamp_opened_on"],
        "before_validate": ["service_app.sla.protect_fields"],
        "validate": ["service_app.escalation.apply_crisis_rule", "service_app.sla.update_clocks"],
        "on_trash": ["service_app.escalation.forget_case"],
        "on_update": [
            "service_app.escalation.announce_crisis",
            # assigned_to and the assignment table in step (service_app/routing.py)
            "service_app.routing.sync_assignment",
            # a case that becomes Resolved sends its satisfaction survey (service_app/surveys.py)
            "service_app.surveys.on_case_update",
        ],
    },
    "Assignment Rule": {
        "before_validate": ["service_app.routing.case_rule_defaults"],
    },
    "Service Team": {
        "validate": ["service_app.sla.fill_working_week"],
    },
    "Communication": {
        "after_insert": ["service_app.sla.communication_sent"],  # an agent's sent message is a first response
    },
}

# Where a portal user (Website User with the Customer role) lands after login, and
# instead of the desk (Frappe's hook; see lowcode/web/website_users.py).
role_home_page = {"Customer": "portal"}

# crm_app's assignment rules choose a case's agent among its team's members (service_app/routing.py).
assignment_candidates = {
    "Case": "service_app.routing.team_candidates",
}

# Calls, notes, tasks, events, communications and time logs on the case form's timeline.
additional_timeline_content = {"Case": ["service_app.timeline.case_timeline"]}

# The customer's cases, with SLA state and scores, in crm_app's 360° view.
customer_360_sections = ["service_app.customer_360.case_section"]

scheduler_events = {
    "daily": ["service_app.surveys.expire_invitations"],
    # warnings before a breach, breaches and escalation rules (service_app/escalation.py)
    "cron": {
        "*/5 * * * *": ["service_app.escalation.check_service_levels"],
    },
}

# Desk pages the app adds: /app/<route>[/<name>]
desk_pages = {
    "service-dashboard": "service_app.dashboard.page",
    "case-merge": "service_app.merging.merge_page",
    "case-split": "service_app.merging.split_page",
    "service-load": "service_app.load.page",
    "case-hours": "service_app.time_tracking.page",
    "survey-results": "service_app.survey_results.page",
    "portal-invite": "service_app.portal_users.invite_page",
}

# Public pages outside the desk: /<prefix>[/<path>]
web_pages = {
    "survey": "service_app.survey_page.view",
    "kb": "service_app.kb_pages.page",  # the knowledge base, for guests too
    "portal": "service_app.portal.page",  # the customer portal (service_app/portal.py)
    "webform": "service_app.webform.page",  # embeddable contact / quote / support forms
}

# Buttons on forms (see crm_app/hooks.py for the keys); each method checks permission itself.
_SERVICE_ROLES = ["Support Agent", "Support Manager", "CRM Admin", "System Manager"]
form_actions = {
    "Case": [
        {"label": "Start timer", "method": "service_app.time_tracking.start_timer", "argument": "case",
         "condition": "doc.status != 'Resolved' and doc.status != 'Closed'", "roles": _SERVICE_ROLES},
        {"label": "Stop timer", "method": "service_app.time_tracking.stop_timer", "argument": "case",
         "roles": _SERVICE_ROLES},
        {"label": "Log time", "route": "/app/case-time-log/new?case={name}", "roles": _SERVICE_ROLES},
        {"label": "Merge into another case", "route": "/app/case-merge/{name}", "condition": "not doc.merged_into",
         "roles": _SERVICE_ROLES},
        {"label": "Split", "route": "/app/case-split/{name}", "condition": "not doc.merged_into",
         "roles": _SERVICE_ROLES},
        {"label": "Reply to the customer", "route": "/app/case-reply/new?case={name}", "roles": _SERVICE_ROLES},
    ],
    # Invite a contact to the portal; approve a portal sign-up request (service_app/portal_users.py).
    "Contact": [
        {"label": "Invite to the portal", "route": "/app/portal-invite/{name}", "roles": _SERVICE_ROLES},
    ],
    "Portal Sign-up Request": [
        {"label": "Approve and invite", "method": "service_app.portal_users.approve_request", "argument": "name",
         "condition": "doc.status == 'Pending' and doc.customer", "redirect": "/app/portal-invite/{contact}",
         "roles": ["Support Manager", "CRM Admin", "System Manager"]},
        {"label": "Reject", "method": "service_app.portal_users.reject_request", "argument": "name",
         "condition": "doc.status == 'Pending'", "roles": ["Support Manager", "CRM Admin", "System Manager"]},
    ],
    "Survey": [{"label": "Results", "route": "/app/survey-results/{name}"}],
}

# Scripts on desk forms (Frappe's doctype_js), from the app's public/ folder.
doctype_js = {
    "Case": ["service_app/kb_suggest.js", "service_app/case_form.js"],  # article suggestions on the subject
}

fixtures = []

# An Email Account appending to Case opens a case for mail from unknown senders.
email_append_to = {"Case": "service_app.cases.case_from_email"}

# The activity panel (crm_app/activity_panel.py) on a case's form too.
activity_panel = {"Case": ["call", "note", "task", "meeting"]}

# The service page of the user guide (guide/<language>/service.md; lowcode/desk/guide.py).
user_guide = {"service": {
    "case": "cases", "case-reply": "working", "case-time-log": "working", "case-merge": "working",
    "case-split": "working", "service-level-agreement": "sla", "holiday-list": "sla", "survey": "surveys",
    "survey-response": "surveys", "survey-results": "surveys", "help-article": "knowledge-base",
    "help-category": "knowledge-base", "portal-invite": "portal", "portal-sign-up-request": "portal",
    "service-dashboard": "managers", "service-load": "managers", "case-hours": "managers",
    "service-team": "managers", "case-escalation-rule": "managers",
}}
