"""Whitelisted methods of the production security features: a user's sessions (listed
and ended by the user, or by a System Manager for anyone) and the reset of a user's
two-factor secret (Frappe's ``frappe.twofactor.reset_otp_secret``).

A session is named by its public id (auth.session_id), never by its cookie."""
from .. import auth, only_for, twofactor
from ..context import local
from ..exceptions import DoesNotExistError, ValidationError


def _target(user):
    """The user whose sessions are asked for: oneself, or anyone for a System Manager (else 403)."""
    user = user or local.user
    if user != local.user:
        only_for("System Manager")
    if not local.db.exists("User", user):
        raise DoesNotExistError(f"User {user!r} not found")
    return user


def _current_sid():
    return local.session.sid if local.session else None


def get_sessions(user: str = None, **_):
    return auth.list_sessions(_target(user), current_sid=_current_sid())


def revoke_session(session_id: str = None, user: str = None, **_):
    """End one session ("Log out this session"); it stops working at once on every process."""
    user = _target(user)
    if not session_id:
        raise ValidationError("session_id is required", field="session_id")
    if not auth.end_session_by_id(user, session_id):
        raise DoesNotExistError(f"No session {session_id!r} of {user}")
    return "ok"


def revoke_other_sessions(user: str = None, **_):
    """End every session of ``user`` but the caller's own ("Log out all other sessions")."""
    user = _target(user)
    auth.drop_sessions(user, keep_sid=_current_sid())
    return "ok"


def reset_otp_secret(user: str = None, **_):
    """Forget a user's two-factor secret (a lost phone): the next login enrols again."""
    only_for("System Manager")
    if not user or not local.db.exists("User", user):
        raise DoesNotExistError(f"User {user!r} not found")
    twofactor.reset(user)
    return "ok"
