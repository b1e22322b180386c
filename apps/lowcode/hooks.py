"""The engine's own app manifest: lowcode is the first app on every site, as
frappe is in a Frappe bench."""

app_name = "lowcode"
app_title = "Lowcode"
app_publisher = "Lowcode CRM"
required_apps = []

# Workflows apply to every DocType that has an active one.
doc_events = {
    "*": {
        "before_validate": "lowcode.workflow.before_validate",
        # A deleted document takes its assignments (ToDos) and the notifications about it along.
        "on_trash": ["lowcode.desk.doctype.todo.todo.delete_for_reference", "lowcode.assignments.on_trash",
                     "lowcode.desk.doctype.notification_log.notification_log.delete_for_reference",
                     "lowcode.channels.webhooks.run_webhooks"],
        # The assignment index follows a renamed document (its _assign moves with the row).
        "after_rename": ["lowcode.assignments.after_rename", "lowcode.realtime.notify_update"],
        # Webhooks set for a DocType's event are queued (lowcode.channels.webhooks), and so are
        # the Notifications it fires (lowcode.channels.notifications).
        **{event: ["lowcode.channels.webhooks.run_webhooks", "lowcode.channels.notifications.run_notifications"]
           for event in ("after_insert", "on_update", "on_submit", "on_cancel", "on_update_after_submit")},
        # Open desks hear of every change after the commit (doc_update, list_update).
        "on_change": ["lowcode.channels.webhooks.run_webhooks", "lowcode.channels.notifications.run_notifications",
                      "lowcode.realtime.notify_update"],
        # ... and its attached Files (their bytes once no other File names them).
        "after_delete": ["lowcode.core.doctype.file.file.delete_attachments", "lowcode.realtime.notify_update"],
        "validate": "lowcode.channels.notifications.run_notifications",
    },
}

# Field types an app adds ("my_app.fields.Phone": FieldType subclasses, see lowcode/fields):
# known on the sites that install the app, with their column, checks and desk control.
field_types = []

# Long-running coroutines ``async def fn(site, bench)`` the realtime service starts once per
# site and restarts with back-off should they fail (e.g. a telephony event listener).
realtime_services = []

# The e-mails sent about a record, on its form's timeline (when Communication is installed).
additional_timeline_content = {"*": ["lowcode.channels.email.timeline", "lowcode.channels.bounces.timeline"]}

# An "Email" button on every record that has an e-mail address (channels/compose.py);
# "*" actions come after the DocType's own, and ``when`` is a function of the document.
form_actions = {
    "*": [{"label": "Email", "route": "/app/email?doctype={doctype}&name={name}",
           "when": "lowcode.channels.compose.has_email"}],
    # Set a user's password or e-mail them an invitation (desk/views/users.py).
    "User": [{"label": "Set password", "route": "/app/user-password/{name}", "roles": ["System Manager"]},
             # Sessions to log out, two-factor reset (desk/views/users.py: sessions_page).
             {"label": "Sessions", "route": "/app/user-sessions/{name}"}],
    # A private copy of a workspace to change (desk/doctype/workspace/workspace.py: duplicate).
    "Workspace": [{"label": "Duplicate", "method": "lowcode.desk.doctype.workspace.workspace.duplicate",
                   "argument": "name", "redirect": "/app/workspace/{name}"}],
    "Webhook": [
        {"label": "Send test", "method": "lowcode.channels.webhooks.send_test", "argument": "webhook",
         "roles": ["System Manager"], "redirect": "/app/webhook-request-log/{log}"},
    ],
    # A queued message an admin sends again now or stops (channels/email.py).
    # Data Import's page: mapping, preview, start, progress, failed rows (core/doctype/data_import).
    "Data Import": [{"label": "Preview and import", "route": "/app/data-import-tool/{name}"}],
    # An outside ERP's layout: its records as a file to import there (core/doctype/data_import_mapping;
    # "{doctype}" in a route quotes the name, which may hold spaces and Persian letters).
    "Data Import Mapping": [
        {"label": "Export in this layout", "route": "/api/method/lowcode.core.doctype.data_import_mapping."
         "data_import_mapping.export_data?mapping={name}&file_type=XLSX&doctype={doctype}"},
    ],
    "Email Queue": [
        {"label": "Retry now", "method": "lowcode.channels.email.retry_now", "argument": "name",
         "roles": ["System Manager"], "condition": "doc.status=='Not Sent' || doc.status=='Error'"},
        {"label": "Cancel", "method": "lowcode.channels.email.cancel", "argument": "name",
         "roles": ["System Manager"], "condition": "doc.status=='Not Sent' || doc.status=='Error'"},
    ],
}

# Scripts on desk forms (Frappe's doctype_js), from desk/static: the Notification form
# suggests the chosen DocType's fields; the Print Format form previews its template live;
# Number Card and Dashboard Chart edit their filters with the list's filter builder.
doctype_js = {"Notification": ["notification_form.js"], "Print Format": ["print_format_form.js"],
              "Number Card": ["filter_builder.js"], "Dashboard Chart": ["filter_builder.js"],
              "Data Import": ["data_import.js"]}  # the import's progress bar (data_import_progress)

# A failing channel account is marked on its form, in its list and beside every link to it
# (channels/status.py sets the status).
record_badges = {doctype: {"field": "status", "value": "Failing", "label": "Failing", "style": "danger"}
                 for doctype in ("Email Account", "SMS Settings", "Webhook")}

fixtures = []

scheduler_events = {
    # backup_if_due: a backup when the site's backup_frequency says so (lowcode/backups.py).
    "hourly": ["lowcode.auth.clear_expired_sessions", "lowcode.backups.backup_if_due"],
    "daily": ["lowcode.jobs.prune_job_logs", "lowcode.channels.webhooks.prune_request_logs",
              # Notifications a number of days before or after a document's date.
              "lowcode.channels.notifications.trigger_daily_alerts"],
    # Queued e-mail waiting for a retry or the account's rate limit; queued SMS whose back-off ended;
    # webhook requests whose receiver failed and whose retry time has come.
    "cron": {"* * * * *": ["lowcode.channels.email.flush", "lowcode.channels.sms.retry_due",
                           "lowcode.channels.webhooks.retry_due"],
             # Incoming e-mail: every enabled IMAP account (channels/email_in.py).
             "*/3 * * * *": ["lowcode.channels.email_in.poll"]},
}

# Compose an e-mail about a record; "Send SMS" from a record with a mobile number (its
# form actions are in the apps' hooks).
desk_pages = {"email": "lowcode.channels.compose.page", "send-sms": "lowcode.channels.sms_page.page",
              "data-import-tool": "lowcode.core.doctype.data_import.import_page.page"}

# The user guide (desk/guide.py): pages in guide/<language>/<page>.md, each with the desk
# routes whose Help link opens one of its sections ("*": any list or form not named).
user_guide = {
    "basics": {"": "home", "help": "home", "*": "lists", "my-settings": "settings", "todo": "assignments",
               "notification-log": "assignments", "archive": "archive", "file": "archive",
               "announcement": "archive"},
    "admin": {"build": "settings-hub", "user": "users", "role": "users", "user-password": "users",
              "permission-manager": "permissions", "user-permissions": "user-permissions",
              "customize-form": "customize-form", "doctype-builder": "doctypes", "doctype": "doctypes",
              "workflow-builder": "workflows", "workflow": "workflows", "print-format": "print-formats",
              "email-template": "email", "email-template-editor": "email", "email-account": "email",
              "sms-settings": "sms", "notification": "notifications", "webhook": "notifications",
              "number-card": "dashboards", "dashboard-chart": "dashboards", "workspace": "dashboards",
              "report": "dashboards", "*/view/report": "dashboards", "translation": "translations",
              "system-settings": "security", "user-sessions": "security", "activity-log": "security",
              "access-log": "security"},
}
# The document archive (lowcode/archive.py): a File in a folder is read by the folder's roles
# (everyone when it has none), in SQL for lists and search and per file for downloads.
permission_query_conditions = {"File": "lowcode.archive.conditions"}
has_permission = {"File": "lowcode.archive.permission"}

# The archive's page: folders, upload, move, rename, search, previews (desk/views/archive.py).
# Every desk user finds it in the Modules menu (hub_modules.html); admins in the Settings hub too.
settings_tools = [{"group": "Users and permissions", "label": "Document Archive", "icon": "folder",
                   "url": "/app/archive", "role": "System Manager", "keywords": "files folders"},
                  # Two-factor login (lowcode/twofactor.py) and the audit trail (lowcode/audit.py).
                  {"group": "Users and permissions", "label": "System Settings", "icon": "lock",
                   "doctype": "System Settings", "keywords": "two factor 2fa otp"},
                  {"group": "Users and permissions", "label": "Activity Log", "icon": "table", "url": "/app/activity-log",
                   "role": "System Manager", "keywords": "audit login logout"},
                  {"group": "Users and permissions", "label": "Access Log", "icon": "table", "url": "/app/access-log",
                   "role": "System Manager", "keywords": "audit export"}]

# The audit trail (lowcode/audit.py): permission, role and customisation changes, in the change's transaction.
for _event in ("after_insert", "on_update", "on_trash"):
    doc_events["*"][_event].append("lowcode.audit.on_doc_event")
del _event
# An audit row keeps naming a deleted user or record (as in Frappe).
ignore_links_on_delete = ["Activity Log", "Access Log"]
