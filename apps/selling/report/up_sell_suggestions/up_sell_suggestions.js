frappe.query_reports["Up-sell Suggestions"] = {
	filters: [
		{fieldname: "customer", label: __("Customer"), fieldtype: "Link", options: "Customer", reqd: 1},
	],
};
