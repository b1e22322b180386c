"""The service app's single integration manifest."""

app_name = "service_app"
app_title = "Service"
app_publisher = "Lowcode CRM"
# Shares crm_app's Customer, Contact, Product and Territory.
required_apps = ["lowcode", "crm_app"]

# Who sees which cases, in SQL for lists and per document; see service_app/permissions.py.
permission_query_conditions = {
    "Case": "service_app.permissions.case_conditions",
    "Case Reply": "service_app.permissions.reply_conditions",
}
has_permission = {
    "Case": "service_app.permissions.case_permission",
    "Case Reply": "service_app.permissions.reply_permission",
}

# Where a portal user (Website User with the Customer role) lands after login, and
# instead of the desk (Frappe's hook; see lowcode/web/website_users.py).
role_home_page = {"Customer": "portal"}

# Invite a contact to the portal; approve a portal sign-up request (see service_app/portal_users.py).
form_actions = {
    "Contact": [
        {"label": "Invite to the portal", "route": "/app/portal-invite/{name}",
         "roles": ["Support Agent", "Support Manager", "CRM Admin", "System Manager"]},
    ],
    "Portal Sign-up Request": [
        {"label": "Approve and invite", "method": "service_app.portal_users.approve_request", "argument": "name",
         "condition": "doc.status == 'Pending' and doc.customer", "redirect": "/app/portal-invite/{contact}",
         "roles": ["Support Manager", "CRM Admin", "System Manager"]},
        {"label": "Reject", "method": "service_app.portal_users.reject_request", "argument": "name",
         "condition": "doc.status == 'Pending'", "roles": ["Support Manager", "CRM Admin", "System Manager"]},
    ],
    "Case": [
        {"label": "Reply to the customer", "route": "/app/case-reply/new?case={name}",
         "roles": ["Support Agent", "Support Manager", "CRM Admin", "System Manager"]},
    ],
}

scheduler_events = {}

# Desk pages the app adds: /app/<route>[/<name>]
desk_pages = {"portal-invite": "service_app.portal_users.invite_page"}

# Public pages outside the desk: /<prefix>[/<path>]
web_pages = {"portal": "service_app.portal.page", "webform": "service_app.webform.page"}

fixtures = []
