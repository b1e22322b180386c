"""Customer service: cases and complaints with SLAs, satisfaction surveys, a knowledge
base and the customer portal. A second app on the same site as crm_app, sharing its
Customer, Contact, Product and Territory."""
__version__ = "0.1.0"
