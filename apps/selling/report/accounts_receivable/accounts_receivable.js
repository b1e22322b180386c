frappe.query_reports["Accounts Receivable"] = {
	filters: [
		{fieldname: "report_date", label: __("As on Date"), fieldtype: "Date"},
		{fieldname: "customer", label: __("Customer"), fieldtype: "Link", options: "Customer"},
	],
};
