"""Helpers for testing lowcode apps against real sites (HTTP: http.py)."""
