frappe.query_reports["Sales Forecast"] = {
	filters: [
		{fieldname: "from_date", label: __("From Date"), fieldtype: "Date"},
		{fieldname: "to_date", label: __("To Date"), fieldtype: "Date"},
		{fieldname: "salesperson", label: __("Salesperson"), fieldtype: "Link", options: "User"},
		{fieldname: "territory", label: __("Territory"), fieldtype: "Link", options: "Territory"},
		{fieldname: "group_by", label: __("Group By"), fieldtype: "Select", default: "month,rep,territory",
		 options: ["month,rep,territory", "month,rep", "month,territory", "month", "rep", "territory"]},
	],
};
