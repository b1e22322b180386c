frappe.query_reports["Churn Risk"] = {
	filters: [
		{fieldname: "as_of", label: __("As on Date"), fieldtype: "Date"},
		{fieldname: "days", label: __("Days Without Purchase or Contact"), fieldtype: "Int", default: 90},
		{fieldname: "limit", label: __("Limit"), fieldtype: "Int", default: 500},
	],
	onload(report) {
		// The retention list: a task per customer shown, with the action its segment suggests.
		report.page.add_inner_button(__("Create retention tasks"), () => {
			const customers = (report.data || []).map((row) => row.customer).filter(Boolean);
			if (!customers.length) return;
			frappe.call({
				method: "selling.postsale.create_retention_tasks",
				type: "POST",
				args: {customers: JSON.stringify(customers), as_of: report.get_filter_value("as_of") || ""},
				callback: (r) => frappe.msgprint(__("Tasks created: {0}, already open: {1}",
					[r.message.created.length, r.message.skipped.length])),
			});
		});
	},
};
