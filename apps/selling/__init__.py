"""The selling app: sales orders from accepted quotations, sales invoices, payments
against them and stock levels (one warehouse), on the same site as the CRM, sharing its
Customer, Contact, Product, Price List and Territory."""
__version__ = "0.1.0"
