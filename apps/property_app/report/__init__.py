"""property_app's standard Script Reports, in Frappe's layout: ``<name>/<name>.json`` (the
Report record, installed with the app and owned by it: uninstall takes it back),
``<name>.py`` (``execute(filters)``) and ``<name>.js`` (the filters a Frappe client shows),
run through ``frappe.desk.query_report.run`` (lowcode/api/query_report.py)."""
