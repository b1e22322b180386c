frappe.query_reports["Opportunities Assigned vs Closed"] = {
	filters: [
		{fieldname: "from_date", label: __("From Date"), fieldtype: "Date"},
		{fieldname: "to_date", label: __("To Date"), fieldtype: "Date"},
		{fieldname: "salesperson", label: __("Salesperson"), fieldtype: "Link", options: "User"},
	],
};
