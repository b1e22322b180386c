"""Desk URLs, as Frappe users know them: /login, /app, /app/<doctype-route>[/<name>],
/app/<doctype-route>/new and /app/<doctype-route>/view/<kanban|calendar|report>."""
from django.urls import path

from . import assets
from .views import auth, form, home, listview, settings
from .views import customize, doctype_builder, permission_manager, user_permissions
from .views import calendar, kanban  # noqa: F401 - they register their views
from .views import bulk, report  # noqa: F401 - report registers OTHER_VIEWS["report"]
from .views import add_to_workspace, archive, collaboration, email_template, filter_builder, help_pages, hub, printview
from .views import query_report, quick_entry, users, workflow_builder

urlpatterns = [
    path("assets/<str:digest>/<path:name>", assets.serve),
    path("login", auth.login_page),
    path("logout", auth.logout),
    path("", home.root),
    path("app", home.home),
    path("app/", home.home),
    path("app/my-settings", settings.my_settings),
    path("app/help", help_pages.contents),
    path("app/help/<str:slug>", help_pages.help_page),
    path("app/build", hub.hub),
    path("app/build/__modules", hub.modules),
    path("app/archive", archive.browse),  # the document archive (views/archive.py)
    path("app/archive/new-folder", archive.new_folder),
    path("app/archive/upload", archive.upload),
    path("app/archive/move", archive.move),
    path("app/archive/rename", archive.rename),
    path("app/archive/preview/<path:name>", archive.preview),
    path("app/user-password/<path:name>", users.password_page),
    path("app/user-sessions/<path:name>", users.sessions_page),
    path("update-password", users.update_password),
    path("manifest.webmanifest", settings.manifest),
    path("favicon.ico", assets.favicon),
    # Pages of their own: before the DocType routes, so these paths never read as DocTypes.
    path("app/customize-form", customize.customize_form),
    path("app/customize-form/remove", customize.remove_field),
    path("app/customize-form/export", customize.export_fixtures),
    path("app/doctype-builder", doctype_builder.doctype_builder),
    path("app/doctype-builder/<path:name>", doctype_builder.doctype_builder),
    path("app/permission-manager", permission_manager.permission_manager),
    path("app/user-permissions", user_permissions.user_permissions),
    path("printview", printview.printview),
    path("app/print-format-preview", printview.format_preview),
    path("app/workflow-builder", workflow_builder.workflow_list),
    path("app/workflow-builder/new", workflow_builder.builder, {"name": None}),
    path("app/workflow-builder/__check", workflow_builder.check_condition),
    path("app/workflow-builder/__graph", workflow_builder.graph_preview),
    path("app/workflow-builder/<path:name>", workflow_builder.builder),
    path("app/email-template-editor", email_template.editor_home),
    path("app/email-template-editor/new", email_template.editor, {"name": None}),
    path("app/email-template-editor/__preview", email_template.preview),
    path("app/email-template-editor/<path:name>", email_template.editor),
    path("app/query-report", query_report.reports_page),
    path("app/query-report/<path:name>", query_report.query_report_page),  # Script Reports (views/query_report.py)
    path("app/__filter-builder", filter_builder.mounted),
    path("app/__add-to-workspace", add_to_workspace.add_to_workspace),
    path("app/__notifications", collaboration.notifications),
    path("app/__notifications/read-all", collaboration.mark_all_read),
    path("app/__notifications/<str:name>/open", collaboration.open_notification),
    path("app/<str:route>/<path:name>/__collab", collaboration.panel),
    path("app/<str:route>/<path:name>/__collab/<str:action>", collaboration.act),
    path("app/<str:route>", listview.list_view),
    path("app/<str:route>/new", form.form_view, {"name": None}),
    path("app/<str:route>/__quick", quick_entry.quick_entry),
    path("app/<str:route>/view/<str:view>", listview.other_view),
    path("app/<str:route>/view/report/<path:name>", report.open_saved),
    path("app/<str:route>/view/kanban/move", kanban.move_card),
    path("app/<str:route>/view/calendar/move", calendar.reschedule),
    path("app/<str:route>/view/list/bulk", bulk.bulk_action),
    path("app/<str:route>/view/list/export", bulk.export_list),
    path("app/<str:route>/view/list/saved-views", bulk.saved_views_view),
    path("app/<str:route>/<path:name>/__depends", form.depends),
    path("app/<str:route>/<path:name>", form.form_view),
]
