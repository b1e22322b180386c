"""Structured logs: every record as one JSON line (python-json-logger), carrying the
request id of the request or job it was written in.

Configured in one place, ``web/settings.py`` LOGGING, which names ``JsonFormatter``.
The request id lives in a ContextVar: the middleware sets it for a request (taken from a
valid ``X-Request-ID`` or made here), ``jobs.enqueue`` copies it into the job's payload
and ``job_context`` sets it again where the job runs, so a job's lines carry the id of
the request that queued it. A LogRecord factory puts it on every record, so any handler
sees it, not only ours; the formatter adds the current site."""
import contextlib
import contextvars
import logging
import os
import re
import time

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

request_id = contextvars.ContextVar("lowcode_request_id", default=None)
# Short, and only characters that are safe in a header and a log line (no spaces, quotes,
# control characters): what proxies and tracing systems send (uuids, hex, base64url).
_VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def valid_request_id(value):
    """The client's X-Request-ID when it is short and plain, else None."""
    return value if value and _VALID_ID.fullmatch(value) else None


def new_request_id():
    return os.urandom(16).hex()  # a uuid4's randomness without building a UUID (every request pays it)


@contextlib.contextmanager
def request_id_set(value):
    token = request_id.set(value)
    try:
        yield value
    finally:
        request_id.reset(token)


def _site():
    from ..context import get_state
    state = get_state()
    return state.site if state is not None else None


_previous_factory = logging.getLogRecordFactory()


def _record_factory(*args, **kwargs):
    record = _previous_factory(*args, **kwargs)
    record.request_id = request_id.get()
    return record


if not getattr(_previous_factory, "lowcode_context", False):
    _record_factory.lowcode_context = True
    logging.setLogRecordFactory(_record_factory)


class JsonFormatter(_JsonFormatter):
    """time, level, logger, message, request id, site, and whatever ``extra`` a call
    gives (the request line: method, route, status, duration_ms, user)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("rename_fields", {"levelname": "level", "asctime": "time", "name": "logger"})
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s", *args, **kwargs)

    def add_fields(self, log_record, record, message_dict):
        super().add_fields(log_record, record, message_dict)
        if log_record.get("site") is None:  # a call may name it (the request line does)
            log_record["site"] = _site()
        request = log_record.get("request")
        if hasattr(request, "path") and hasattr(request, "method"):
            # Django's own lines (django.request) carry the request, whose repr has the query
            # string (a password-reset key): its method and path only.
            log_record["request"] = f"{request.method} {request.path}"

    def formatTime(self, record, datefmt=None):  # noqa: N802 - logging's name
        """ISO 8601 in UTC with milliseconds: 2026-12-06T01:53:03.874Z."""
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"
