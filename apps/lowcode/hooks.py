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
        "after_rename": "lowcode.assignments.after_rename",
        # Webhooks set for a DocType's event are queued (lowcode.channels.webhooks).
        **{event: "lowcode.channels.webhooks.run_webhooks" for event in
           ("after_insert", "on_update", "on_submit", "on_cancel", "on_update_after_submit", "on_change")},
    },
}

form_actions = {
    "Webhook": [
        {"label": "Send test", "method": "lowcode.channels.webhooks.send_test", "argument": "webhook",
         "roles": ["System Manager"], "redirect": "/app/webhook-request-log/{log}"},
    ],
}

fixtures = []

scheduler_events = {
    "hourly": ["lowcode.auth.clear_expired_sessions"],
    "daily": ["lowcode.jobs.prune_job_logs", "lowcode.channels.webhooks.prune_request_logs"],
    # Queued SMS whose back-off ended are sent again.
    "cron": {"* * * * *": ["lowcode.channels.sms.retry_due"]},
}

# "Send SMS" from a record with a mobile number (the form actions are in the apps' hooks).
desk_pages = {"send-sms": "lowcode.channels.sms_page.page"}
