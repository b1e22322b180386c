frappe.query_reports["Lead Score Calibration"] = {
	filters: [],
};
