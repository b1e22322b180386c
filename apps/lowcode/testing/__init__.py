"""Helpers for testing apps on the engine: the site fixtures in ``pytest_plugin``, HTTP in ``http``."""
