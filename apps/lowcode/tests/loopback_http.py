"""The loopback HTTP server for tests now lives in lowcode/testing/http.py."""
from lowcode.testing.http import LoopbackHTTP  # noqa: F401 - imported from here by older tests
