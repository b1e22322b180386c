"""The service app's standard Script Reports (Frappe's layout, as crm_app/report): the
service dashboard's figures from service_app/reports.py, over the cases the user may read."""
