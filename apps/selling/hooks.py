"""The selling app's single integration manifest: orders, invoices, payments and stock
beside the CRM, sharing its Customer, Product, Price List and Territory."""

app_name = "selling"
app_title = "Selling"
app_publisher = "Lowcode CRM"
app_description = "Sales orders, sales invoices, payments and stock levels on the CRM's site"
required_apps = ["lowcode", "crm_app"]

# A product's stock level comes from the stock ledger only (selling/stock.py).
doc_events = {
    "Product": {"validate": "selling.stock.keep_stock_qty"},
}

# Invoices past their due date with money outstanding become Overdue.
scheduler_events = {
    "daily": ["selling.doctype.sales_invoice.sales_invoice.mark_overdue"],
}

# The next document of the flow from a form (each method checks permissions itself).
form_actions = {
    "Quotation": [
        {"label": "Make sales order", "method": "selling.doctype.sales_order.sales_order.make_sales_order",
         "argument": "source_name", "condition": "doc.status == 'Accepted'",
         "roles": ["Sales User", "Sales Manager", "System Manager"], "redirect": "/app/sales-order/{name}"},
    ],
    "Sales Order": [
        {"label": "Make sales invoice", "method": "selling.doctype.sales_order.sales_order.make_sales_invoice",
         "argument": "source_name", "condition": "doc.docstatus == 1 and (doc.per_billed or 0) < 100",
         "roles": ["Accounts User", "Accounts Manager", "System Manager"], "redirect": "/app/sales-invoice/{name}"},
    ],
    "Sales Invoice": [
        {"label": "Make payment", "method": "selling.doctype.sales_invoice.sales_invoice.make_payment_entry",
         "argument": "source_name", "condition": "doc.docstatus == 1 and (doc.outstanding_amount or 0) > 0",
         "roles": ["Accounts User", "Accounts Manager", "System Manager"], "redirect": "/app/payment-entry/{name}"},
    ],
}

# Purchase history, net revenue and what is outstanding in crm_app's 360° view of a customer.
# Products similar customers bought and this one has not (selling/postsale.py).
customer_360_sections = ["selling.customer_360.invoice_section", "selling.postsale.upsell_section"]

# The Churn Risk report's "Create retention tasks" button (lowcode/desk/views/query_report.py):
# a retention task for each customer the report lists.
report_actions = {"Churn Risk": [{"label": "Create retention tasks", "method": "selling.postsale.create_retention_tasks",
                                  "column": "customer", "arg": "customers", "filters": ["as_of"]}]}

# Status colours (lowcode/desk/indicators.py).
indicator_rules = {
    "Sales Invoice": {"Draft": "secondary", "Unpaid": "warning", "Partly Paid": "info", "Paid": "success",
                      "Overdue": "danger", "Cancelled": "secondary"},
    "Sales Order": {"Draft": "secondary", "To Bill": "warning", "Completed": "success", "Cancelled": "secondary"},
}

# The user guide's page for the app's users (guide/<language>/selling.md; lowcode/desk/guide.py):
# the section each desk route's Help link opens.
user_guide = {"selling": {
    "sales-order": "orders", "sales-invoice": "invoices", "payment-entry": "payments", "stock-entry": "stock",
    "stock-ledger-entry": "stock",
}}
