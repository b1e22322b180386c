"""A Report, in Frappe's types: a saved report of the report view (Report Builder), whose
settings live in ``json`` (columns, filters, order_by, group_by, aggregate, aggregate_on,
chart; see lowcode/desk/views/report.py), a Script Report (an app's
``<app>/report/<name>/<name>.py``) or a Query Report (SQL); the last two run through
``frappe.desk.query_report.run`` (lowcode/api/query_report.py) and open on the desk page
/app/query-report/<name> (lowcode/desk/views/query_report.py), which shows the report's
``filters`` rows (Report Filter)."""
from lowcode import params
from lowcode.context import local
from lowcode.document import Document
from lowcode.exceptions import ValidationError
from lowcode.meta import get_meta

from ..public_share import check_may_publish, sync_public_share


class Report(Document):
    def validate(self):
        if get_meta(self.ref_doctype).istable:
            raise ValidationError(f"{self.ref_doctype} is a child table: report on its parent", field="ref_doctype")
        if int(self.is_standard or 0) and local.user != "Administrator":
            raise ValidationError("Only Administrator may mark a report as standard", field="is_standard")
        if self.report_type in ("Query Report", "Script Report") and local.user != "Administrator":
            # they run SQL or an app's code: Frappe keeps them to the Administrator too
            raise ValidationError("Only Administrator may save a Query or Script Report", field="report_type")
        check_may_publish(self)
        settings = params.loads(self.json or "{}", "json", error=ValidationError)
        if not isinstance(settings, dict):
            raise ValidationError("JSON: must be an object of report settings", field="json")

    def on_update(self):
        sync_public_share(self)
