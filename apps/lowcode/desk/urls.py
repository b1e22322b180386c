"""Desk URLs, as Frappe users know them: /login, /app, /app/<doctype-route>[/<name>],
/app/<doctype-route>/new and /app/<doctype-route>/view/<kanban|calendar|report>."""
from django.urls import path, re_path

from . import assets
from .views import auth, form, home, listview, settings
from .views import calendar, kanban  # noqa: F401 - they register their views
from .views import bulk, report  # noqa: F401 - report registers OTHER_VIEWS["report"]

urlpatterns = [
    path("assets/<str:digest>/<path:name>", assets.serve),
    path("login", auth.login_page),
    path("logout", auth.logout),
    path("", home.root),
    path("app", home.home),
    path("app/", home.home),
    path("app/my-settings", settings.my_settings),
    path("manifest.webmanifest", settings.manifest),
    path("app/<str:route>", listview.list_view),
    path("app/<str:route>/new", form.form_view, {"name": None}),
    path("app/<str:route>/view/list/bulk", bulk.bulk_action),
    path("app/<str:route>/view/list/export", bulk.export_list),
    path("app/<str:route>/view/list/saved-views", bulk.saved_views_view),
    path("app/<str:route>/view/kanban/move", kanban.move_card),
    path("app/<str:route>/view/calendar/move", calendar.reschedule),
    path("app/<str:route>/view/<str:view>", listview.other_view),
    path("app/<str:route>/<path:name>/__depends", form.depends),
    path("app/<str:route>/<path:name>", form.form_view),
]
