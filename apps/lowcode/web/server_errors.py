"""An unexpected exception in a request (a database error, an AttributeError in app
code) -> the error its client gets: never a traceback, never a bare 500.

The cause is named where it is known and the client can act on it (409 for a value
already taken, 503 with Retry-After for a lock wait, deadlock or lost connection);
anything else is a 500 with a plain message. Each answer carries a trace id, and the
log line with the traceback carries the same one, so a user's report leads to it."""
import logging
import uuid

from ..database import error_kind
from ..exceptions import (DatabaseError, DatabaseUnavailableError, DuplicateEntryError, InternalServerError,
                          QueryDeadlockError, QueryTimeoutError)

log = logging.getLogger("lowcode.web")

_ANSWERS = {
    "duplicate": (DuplicateEntryError, "A record with the same unique value already exists"),
    "lock_timeout": (QueryTimeoutError, "The database is busy (the records are locked by another "
                                        "request): try again in a moment"),
    "deadlock": (QueryDeadlockError, "The request collided with another one changing the same records: "
                                     "try again"),
    "connection": (DatabaseUnavailableError, "The database cannot be reached: try again in a moment"),
    "schema": (DatabaseError, "The database does not match the site's DocTypes (a table or column is "
                              "missing): the site needs a migrate"),
    "database": (DatabaseError, "The database could not run the request"),
}


def server_error(exc, request):
    """The LowcodeError to answer for ``exc``, logged now with its traceback and trace id
    (``request`` None: a call outside a request, e.g. a job)."""
    trace_id = uuid.uuid4().hex[:16]
    kind = error_kind(exc)
    cls, message = _ANSWERS.get(kind, (InternalServerError, "Internal server error"))
    level = logging.WARNING if cls is DuplicateEntryError else logging.ERROR
    where = f"{request.method} {request.path}" if request is not None else "a call outside a request"
    log.log(level, "%s failed: %s (%s) [trace %s]", where, type(exc).__name__, kind or "unexpected", trace_id,
            exc_info=exc)
    error = cls(f"{message} (trace id {trace_id})")
    error.trace_id = trace_id
    return error
