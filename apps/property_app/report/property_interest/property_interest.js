frappe.query_reports["Property Interest"] = {
	filters: [
		{fieldname: "status", label: __("Status"), fieldtype: "Select", options: "\nAvailable\nReserved\nSold"},
		{fieldname: "min_price", label: __("Minimum Price"), fieldtype: "Currency"},
	],
};
