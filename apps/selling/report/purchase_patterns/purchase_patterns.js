frappe.query_reports["Purchase Patterns"] = {
	filters: [
		{fieldname: "from_date", label: __("From Date"), fieldtype: "Date"},
		{fieldname: "to_date", label: __("To Date"), fieldtype: "Date"},
		{fieldname: "customer", label: __("Customer"), fieldtype: "Link", options: "Customer"},
		{fieldname: "product", label: __("Product"), fieldtype: "Link", options: "Product"},
	],
};
