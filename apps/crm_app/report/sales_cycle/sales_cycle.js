frappe.query_reports["Sales Cycle"] = {
	filters: [
		{fieldname: "from_date", label: __("From Date"), fieldtype: "Date"},
		{fieldname: "to_date", label: __("To Date"), fieldtype: "Date"},
		{fieldname: "group_by", label: __("Group By"), fieldtype: "Select", default: "rep",
		 options: ["rep", "territory", "source"]},
	],
};
