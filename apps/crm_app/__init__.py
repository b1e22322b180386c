"""The CRM app: leads to customers, built only from DocTypes, controllers, workflows,
hooks and reports on the lowcode engine."""
__version__ = "0.1.0"
