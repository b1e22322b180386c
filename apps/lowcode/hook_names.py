"""Every hook an app's hooks.py may set: the one list the engine checks apps against at
install and migrate (and docs/APPS.md cites), with what each is for and the shape of its
value, so a misspelt name, a dotted path that does not import or a DocType that does not
exist stops the install naming the app, the hook and the value, before anything is written.

Shapes: ``meta`` (the app's own description: no check), ``any`` (free-form settings),
``paths`` (a dotted path or a list of them), ``doctype_paths`` ({DocType or "*": path(s)}),
``doctype_keys`` ({DocType or "*": value}), ``doctypes`` (a list of DocType names),
``route_paths`` ({route: path}), ``apps``, and the two of their own, ``doc_events`` and
``scheduler_events``. A hook added to the engine is added here with its reader.
"""
from .exceptions import ValidationError

HOOKS = {
    # -- the app itself
    "app_name": ("meta", "The app's Python package name."),
    "app_title": ("meta", "The app's name shown to people."),
    "app_publisher": ("meta", "Who publishes the app."),
    "app_description": ("meta", "One line about the app."),
    "app_email": ("meta", "The publisher's contact address."),
    "app_license": ("meta", "The app's licence."),
    "app_version": ("meta", "The app's version (else its package's `__version__`)."),
    "required_apps": ("apps", "Apps installed before this one (lowcode/installer.py)."),
    # -- install and upgrade
    "after_install": ("paths", "fn() run once the app is installed."),
    "after_migrate": ("paths", "fn() run at the end of every migrate (data fixes for new columns)."),
    "before_uninstall": ("paths", "fn() run before the app's records and tables are removed."),
    "fixtures": ("any", "What `lowcode export-fixtures` writes to fixtures/ (DocType names or {dt, filters})."),
    "commands": ("any", "[click command or group paths] added to `lowcode` for a bench whose apps.txt lists the app (cli.py)."),
    # -- documents and permissions
    "doc_events": ("doc_events", "{DocType or '*': {event: fn(doc, method)}} run after the controller's method (document.py)."),
    "override_doctype_class": ("doctype_paths", "{DocType: class} replacing the DocType's controller."),
    "permission_query_conditions": ("doctype_paths", "{DocType: fn(user[, doctype]) -> SQL condition} for lists (permissions.py)."),
    "has_permission": ("doctype_paths", "{DocType: fn(doc, ptype, user)}: False refuses the document (permissions.py)."),
    "ignore_links_on_delete": ("doctypes", "DocTypes whose links never block deleting what they link to."),
    "field_types": ("paths", "[FieldType class] field types the app adds (lowcode/fields: column, checks, control)."),
    "assignment_candidates": ("doctype_paths", "{DocType: fn(rule, doc) -> users or None}: whom crm_app's assignment rules may pick."),
    "scheduler_events": ("scheduler_events",
                         "{all|hourly|daily|weekly|monthly[_long]: [fn]} and {'cron': {expression: [fn]}}."),
    # -- desk
    "desk_pages": ("route_paths", "{route: fn(request, name)}: pages at /app/<route>[/<name>]."),
    "web_pages": ("route_paths", "{prefix: fn(request, path)}: public pages at /<prefix>[/<path>]."),
    "form_actions": ("form_actions", "{DocType or '*': [{label, route|method, when, roles, condition}]} buttons."),
    "form_notices": ("doctype_paths", "{DocType or '*': [fn(doc) -> texts]} shown after a save."),
    "doctype_js": ("doctype_keys", "{DocType: [script]} from desk/static or the app's public/ folder."),
    "record_badges": ("doctype_keys", "{DocType: {field, value, label, style}} marks on forms, lists, links."),
    "indicator_rules": ("doctype_keys", "{DocType: {status: style}} list indicator colours."),
    "activity_panel": ("doctype_keys", "{DocType: [kinds]} the activity panel on the DocType's form."),
    "additional_timeline_content": ("doctype_paths", "{DocType or '*': [fn(doctype, name) -> items]} on a form's timeline."),
    "home_panels": ("paths", "fn(request) -> None or {template, ...} blocks on /app."),
    "settings_tools": ("any", "[{group, label, icon, url, role, keywords}] tools in the Settings hub."),
    "user_guide": ("any", "{page: {route: section}} the app's guide pages and the routes they explain."),
    "role_home_page": ("any", "{role: page} where a Website User with the role lands after login."),
    # -- channels and services
    "realtime_services": ("paths", "async fn(site, bench) run by the realtime service per site."),
    "email_append_to": ("doctype_paths", "{DocType: fn(parsed) -> (doctype, name, customer)}: a record made for mail from an unknown sender."),
    "email_sender_match": ("paths", "fn(address) -> (doctype, name, customer) or None: who sent an incoming mail."),
    "sms_opt_out": ("paths", "fn(numbers) -> the numbers that refused SMS."),
    # -- crm_app's own extension points
    "customer_360_sections": ("paths", "fn(customer) -> a section of crm_app's 360-degree view."),
    "report_actions": ("any", "{Report: [{label, method, column, arg, filters}]}: buttons on a Script Report's desk page calling a whitelisted method with a column of its rows (desk/views/query_report.py)."),
    "party_360_sections": ("doctype_paths", "{DocType or '*': [fn(doctype, name) -> section]} in a party's 360-degree view (crm_app/party_360.py)."),
}

DOC_EVENTS = {"before_insert", "after_insert", "before_validate", "validate", "before_save", "on_update",
              "before_submit", "on_submit", "before_cancel", "on_cancel", "on_update_after_submit",
              "before_update_after_submit", "on_change", "on_trash", "after_delete", "before_rename",
              "after_rename"}
SCHEDULER_FREQUENCIES = {"all", "hourly", "daily", "weekly", "monthly", "hourly_long", "daily_long",
                         "weekly_long", "monthly_long", "cron"}


def markdown_table():
    """HOOKS as the table in docs/APPS.md (its test checks the doc holds exactly this):
    ``python -m lowcode.hook_names`` prints it."""
    def cell(text):  # a | ends the cell, <route> would be an HTML tag
        return text.replace("|", "\\|").replace("<", "&lt;")
    rows = ["| hook | what it takes and does |", "|---|---|"]
    rows += [f"| `{name}` | {cell(text)} |" for name, (shape, text) in HOOKS.items()]
    return "\n".join(rows) + "\n"


class HookError(ValidationError):
    """An app's hooks.py names an unknown hook, a path that does not import or a missing DocType."""


def validate_app_hooks(app, hooks, known_doctypes):
    """Check ``hooks`` (the app's hooks.py as a dict) against HOOKS; ``known_doctypes``: the
    DocTypes the site will have (those installed plus those being installed)."""
    for name, value in hooks.items():
        if name not in HOOKS:
            raise HookError(f"app {app}: unknown hook {name!r} in hooks.py (known hooks: lowcode/hook_names.py)",
                            field=name)
        _Checker(app, name, known_doctypes).check(HOOKS[name][0], value)


class _Checker:
    def __init__(self, app, hook, known):
        self.app, self.hook, self.known = app, hook, known

    def fail(self, what):
        raise HookError(f"app {self.app}, hook {self.hook}: {what}", field=self.hook)

    def check(self, shape, value):
        getattr(self, "_" + shape)(value)

    def _meta(self, value):
        pass

    _any = _meta

    def _apps(self, value):
        import importlib
        for app in self._list(value):
            try:
                importlib.import_module(f"{app}.hooks")
            except ModuleNotFoundError:
                self.fail(f"app {app!r} is not installed in this environment")

    def _list(self, value):
        if isinstance(value, str):
            return [value]
        if not isinstance(value, (list, tuple)):
            self.fail(f"expected a list, got {type(value).__name__}")
        return list(value)

    def _dict(self, value):
        if not isinstance(value, dict):
            self.fail(f"expected a dict, got {type(value).__name__}")
        return value

    def path(self, path):
        from .apps import get_attr
        if not isinstance(path, str):
            self.fail(f"{path!r} is not a dotted path")
        try:
            get_attr(path)
        except (ImportError, AttributeError) as e:
            self.fail(f"{path!r} does not import ({e})")

    def doctype(self, name, star=True):
        if not (star and name == "*") and name not in self.known:
            self.fail(f"{name!r} is not a DocType")

    def _paths(self, value):
        for path in self._list(value):
            self.path(path)

    def _doctype_paths(self, value):
        for doctype, paths in self._dict(value).items():
            self.doctype(doctype)
            self._paths(paths)

    def _doctype_keys(self, value):
        for doctype in self._dict(value):
            self.doctype(doctype)

    def _doctypes(self, value):
        for doctype in self._list(value):
            self.doctype(doctype, star=False)

    def _route_paths(self, value):
        for path in self._dict(value).values():
            self.path(path)

    def _form_actions(self, value):
        for doctype, actions in self._dict(value).items():
            self.doctype(doctype)
            for action in self._list(actions):
                if not isinstance(action, dict):
                    self.fail(f"{doctype}: an action is a dict, got {action!r}")
                for key in ("method", "when"):
                    if action.get(key):
                        self.path(action[key])

    def _doc_events(self, value):
        for doctype, events in self._dict(value).items():
            self.doctype(doctype)
            for event, paths in self._dict(events).items():
                if event not in DOC_EVENTS:
                    self.fail(f"{doctype}: unknown event {event!r}")
                self._paths(paths)

    def _scheduler_events(self, value):
        from croniter import croniter
        for frequency, paths in self._dict(value).items():
            if frequency not in SCHEDULER_FREQUENCIES:
                self.fail(f"unknown frequency {frequency!r}")
            if frequency != "cron":
                self._paths(paths)
                continue
            for expression, cron_paths in self._dict(paths).items():
                if not croniter.is_valid(expression):
                    self.fail(f"cron {expression!r} is not a valid cron expression")
                self._paths(cron_paths)


if __name__ == "__main__":
    print(markdown_table(), end="")
