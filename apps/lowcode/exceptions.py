"""Errors the engine raises, each carrying the HTTP status the REST API answers with.

Names follow Frappe's (clients match on ``exc_type``); every error can name the
field at fault so forms and API clients can point at it.
"""


class LowcodeError(Exception):
    http_status = 500

    def __init__(self, message="", *, field=None, doctype=None):
        super().__init__(message)
        self.message = str(message)
        self.field = field
        self.doctype = doctype

    @property
    def exc_type(self):
        return type(self).__name__


class ValidationError(LowcodeError):
    http_status = 417


class BadRequest(ValidationError):
    """The request itself is malformed (not JSON, missing argument)."""
    http_status = 400


class MandatoryError(ValidationError):
    pass


class LinkValidationError(ValidationError):
    pass


class InvalidFieldError(ValidationError):
    """Unknown field, bad operator or value type in a query or document."""


class DataError(ValidationError):
    pass


class DocTypeDefinitionError(ValidationError):
    """A DocType definition (JSON file or runtime record) is broken."""

    def __init__(self, message="", *, source=None, **kw):
        if source:
            message = f"{source}: {message}"
        super().__init__(message, **kw)
        self.source = source


class AuthenticationError(LowcodeError):
    http_status = 401


class SessionExpired(AuthenticationError):
    pass


class CSRFTokenError(LowcodeError):
    http_status = 400


class RequestEntityTooLarge(LowcodeError):
    """The request body is larger than the site accepts."""
    http_status = 413


class TooManyRequestsError(LowcodeError):
    http_status = 429


class PermissionError(LowcodeError):  # noqa: A001 - Frappe's name, clients match on it
    http_status = 403


class ReadOnlyError(LowcodeError):
    """A write where the HTTP method allows none: GET, HEAD and OPTIONS only read (a
    link on another site can make a logged-in browser send them), and the database
    refuses their writes."""
    http_status = 405


class MethodNotAllowed(LowcodeError):
    """An HTTP method a route does not answer (DELETE on a list, PATCH on a method)."""
    http_status = 405


class DoesNotExistError(LowcodeError):
    http_status = 404


class DuplicateEntryError(LowcodeError):
    http_status = 409


class UniqueValidationError(DuplicateEntryError):
    pass


class TimestampMismatchError(LowcodeError):
    """Stale write: the document changed since the client read it."""

    http_status = 409


class LinkExistsError(LowcodeError):
    """A document cannot be deleted while others link to it (417, as Frappe answers)."""

    http_status = 417


class DocstatusTransitionError(ValidationError):
    pass


class MaxFileSizeReachedError(ValidationError):
    """An upload larger than the site's ``max_file_size``."""
    http_status = 413


class NotWhitelisted(PermissionError):
    pass


class SiteNotFound(LowcodeError):
    http_status = 404


class InternalServerError(LowcodeError):
    """An unexpected error in a request: the client gets this message and a trace id,
    the log the traceback under the same id (web/server_errors.py)."""
    http_status = 500
    trace_id = None


class DatabaseError(InternalServerError):
    """The database refused a statement for a reason no check foresaw (a missing table or
    column: the schema lags the DocTypes)."""


class DatabaseUnavailableError(InternalServerError):
    """The database cannot answer now (connection lost or refused): retry after a moment."""
    http_status = 503
    retry_after = 5


class QueryTimeoutError(DatabaseUnavailableError):
    """A lock wait timed out (another transaction holds the rows; SQLite: the database is locked)."""


class QueryDeadlockError(DatabaseUnavailableError):
    """The transaction was chosen as a deadlock victim and rolled back."""


class CommandError(LowcodeError):
    """A CLI failure reported as one line."""


class InsufficientStorage(LowcodeError):
    """The disk holding the site's files is full: nothing of the upload was kept."""
    http_status = 507


class FileStorageUnavailable(LowcodeError):
    """The site's file storage (an S3 bucket) cannot be reached now: retry after a moment."""
    http_status = 503
    retry_after = 5
