"""Helpers for testing apps on the engine; the site fixtures are in ``pytest_plugin``."""
