"""Who is calling: passwords, sessions (the ``sid`` cookie, as Frappe clients expect),
API tokens (``Authorization: token <key>:<secret>``), login throttling and CSRF.

Passwords are hashed with Django's hashers (Argon2 first); API secrets are random
and high-entropy, so a SHA-256 digest suffices and keeps token checks fast.
Sessions live in the site database, cached in Redis or memory.
"""
import datetime
import functools
import hashlib
import hmac
import json
import secrets

from django.contrib.auth.hashers import check_password as django_check_password, make_password

from .caches import cache
from .context import local
from .exceptions import AuthenticationError, TooManyRequestsError, ValidationError
from .utils import Obj

SESSION_DAYS = 7
SESSION_COOKIE = "sid"             # Frappe's name; the realtime service reads it too
MAX_FAILED_LOGINS = 5            # per user in LOCKOUT_SECONDS: then that user is locked
MAX_FAILED_PER_ADDRESS = 20      # per address in LOCKOUT_SECONDS: then the address is throttled
LOCKOUT_SECONDS = 600


def set_password(user, password, *, policy=True, keep_sid=None, field="password"):
    """Store a new password for ``user`` and end their sessions, all but ``keep_sid``
    (the caller's own, when users change their own password): whoever held the old
    password is logged out everywhere else. ``policy`` checks the password's strength
    (Django's validators, AUTH_PASSWORD_VALIDATORS in web/settings.py); only the
    Administrator's password given at site creation skips it, as in Frappe, so an
    operator can start a local site with a simple one. ``field`` names the form
    field in the error (417)."""
    if not password:
        raise ValidationError(f"{field}: the password is empty", field=field)
    if policy:
        check_password_strength(user, password, field)
    _store_secret(user, "password", make_password(password))
    # A set-password link still out (an invitation, a reset) must not outlive the change.
    local.db.sql("DELETE FROM `tabAuth` WHERE `doctype`='User' AND `name`=%s AND `fieldname`='reset_password_key'",
                 (user,))
    drop_sessions(user, keep_sid=keep_sid)


def check_password_strength(user, password, field="password"):
    """ValidationError naming ``field`` unless the password passes the validators."""
    from django.contrib.auth import password_validation
    from django.core.exceptions import ValidationError as DjangoValidationError
    row = local.db.sql("SELECT `name`, `email`, `username`, `first_name`, `last_name` FROM `tabUser` "
                       "WHERE `name`=%s", (user,), as_dict=True)
    person = _PasswordOwner(row[0] if row else {"name": user, "email": user})
    try:
        password_validation.validate_password(password, person)
    except DjangoValidationError as e:
        raise ValidationError(f"{field}: " + " ".join(e.messages), field=field)


PASSWORD_LINK_HOURS = 48  # an invitation or reset link's life; site config ``password_link_hours``


def make_password_key(user, hours=None):
    """A one-time key for a set-password link (an invitation or a reset), valid for
    ``hours``. Only its digest and expiry are kept (tabAuth ``reset_password_key``): a
    new key replaces the user's previous one, and setting a password ends it."""
    hours = hours or float(local.conf.get("password_link_hours") or PASSWORD_LINK_HOURS)
    key = secrets.token_urlsafe(32)
    expires = int(datetime.datetime.now().timestamp() + hours * 3600)
    _store_secret(user, "reset_password_key", f"{hashlib.sha256(key.encode()).hexdigest()}:{expires}")
    return key


def user_for_password_key(key):
    """The enabled user a set-password key belongs to, or None when it is unknown,
    used or expired."""
    if not key or len(key) > 100:
        return None
    digest = hashlib.sha256(key.encode()).hexdigest()
    rows = local.db.sql("SELECT a.`name`, a.`password` FROM `tabAuth` a JOIN `tabUser` u ON u.`name`=a.`name` "
                        "WHERE a.`doctype`='User' AND a.`fieldname`='reset_password_key' AND a.`password` LIKE %s "
                        "AND u.`enabled`=1", (digest + ":%",))
    if not rows:
        return None
    stored, _, expires = rows[0][1].partition(":")
    if not hmac.compare_digest(stored, digest) or int(expires or 0) < datetime.datetime.now().timestamp():
        return None
    return rows[0][0]


class _PasswordOwner(Obj):
    """A user as Django's UserAttributeSimilarityValidator reads one: the attributes it
    compares the password with, and ``_meta.get_field(name).verbose_name`` for its message."""

    class _meta:  # noqa: N801 - the name Django reads
        @staticmethod
        def get_field(name):
            return Obj(verbose_name=name.replace("_", " "))


def _store_secret(user, fieldname, secret):
    db = local.db
    db.sql("DELETE FROM `tabAuth` WHERE `doctype`='User' AND `name`=%s AND `fieldname`=%s", (user, fieldname))
    db.sql("INSERT INTO `tabAuth` (`doctype`, `name`, `fieldname`, `password`) VALUES ('User', %s, %s, %s)",
           (user, fieldname, secret))


def _stored_secret(user, fieldname):
    rows = local.db.sql("SELECT `password` FROM `tabAuth` WHERE `doctype`='User' AND `name`=%s AND `fieldname`=%s",
                        (user, fieldname))
    return rows[0][0] if rows else None


def _find_user(login):
    if not login:
        return None
    rows = local.db.sql("SELECT `name`, `enabled` FROM `tabUser` WHERE `name`=%s OR `email`=%s OR `username`=%s",
                        (login if login == "Administrator" else login.lower(), login.lower(), login))
    return rows[0] if rows else None


@functools.lru_cache(maxsize=1)
def _dummy_hash():
    # Checked against when the login names no user (or one without a password), so an
    # unknown login costs the same hashing time as a known one and timing tells nothing.
    return make_password(secrets.token_urlsafe(16))


def check_login(login, password, ip=None):
    """The user's name for a correct login, else AuthenticationError (the same message
    whether the login is unknown, the password wrong or the user disabled).

    Two limits, both over LOCKOUT_SECONDS:
    - per user (the user's name, or the login as typed, stripped and lower-cased, when
      it names no user): after MAX_FAILED_LOGINS failures every attempt for that user is
      refused, even with the right password, until the window passes: one account
      cannot be brute-forced, from any number of addresses.
    - per address: after MAX_FAILED_PER_ADDRESS failures the address is throttled. A
      correct password from it still logs in (an office behind one NAT address keeps
      working while one person mistypes or someone guesses), but a wrong one locks that
      user at once, so guessing across many users from that address gets one try each.
    A good login resets the user's counter, not the address's: else an attacker with
    one account of their own could reset their address between guesses."""
    login = (login or "").strip()
    row = _find_user(login)
    c = cache()
    user_key = f"login-fail:user:{(row[0] if row else login).lower()}"
    ip_key = f"login-fail:ip:{ip}" if ip else None
    if c.counter(user_key) >= MAX_FAILED_LOGINS:
        raise TooManyRequestsError("Too many failed logins: try again in a few minutes")
    usable = bool(row and row[0] != "Guest" and int(row[1] or 0))
    stored = _stored_secret(row[0], "password") if usable else None
    # The hasher always runs (against a dummy hash when there is nothing to check), and a
    # disabled user is told nothing more than a wrong password would tell.
    correct = django_check_password(password or "", stored or _dummy_hash())
    if correct and stored:
        c.delete(user_key)
        return row[0]
    throttled = bool(ip_key) and c.counter(ip_key) >= MAX_FAILED_PER_ADDRESS
    c.incr(user_key, ttl=LOCKOUT_SECONDS, amount=MAX_FAILED_LOGINS if throttled else 1)
    if ip_key:
        c.incr(ip_key, ttl=LOCKOUT_SECONDS)
    if throttled:
        raise TooManyRequestsError("Too many failed logins: try again in a few minutes")
    raise AuthenticationError("Invalid login or password")


# -- sessions ------------------------------------------------------------------------------

class Session:
    __slots__ = ("sid", "user", "data")

    def __init__(self, sid, user, data):
        self.sid, self.user, self.data = sid, user, data

    @property
    def csrf_token(self):
        return self.data.get("csrf_token")


def start_session(user, ip=None, desk=False, user_agent=None):
    sid = secrets.token_hex(28)
    data = {"csrf_token": secrets.token_urlsafe(24) if desk else None}
    now = datetime.datetime.now()
    expires = now + datetime.timedelta(days=SESSION_DAYS)
    local.db.sql("INSERT INTO `tabSessions` (`sid`, `user`, `data`, `expires`, `ip`, `user_agent`, `created`, "
                 "`last_active`) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                 (sid, user, json.dumps(data), expires.strftime("%Y-%m-%d %H:%M:%S"), ip, (user_agent or "")[:1000],
                  now.strftime("%Y-%m-%d %H:%M:%S"), now.strftime("%Y-%m-%d %H:%M:%S")))
    local.db.sql("UPDATE `tabUser` SET `last_login`=%s, `last_ip`=%s WHERE `name`=%s",
                 (datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S"), ip, user))
    session = Session(sid, user, data)
    cache().set(f"session:{sid}", (user, data), ttl=3600)
    return session


def get_session(sid):
    """The session for a ``sid`` cookie, or None. Sessions of a deleted or disabled user
    are not found: deleting or disabling a user ends their sessions (drop_sessions), and
    the lookup joins the user so a session left behind never comes back."""
    if not sid or len(sid) > 100:
        return None
    c = cache()
    hit = c.get(f"session:{sid}")
    if hit is None:
        rows = local.db.sql("SELECT s.`user`, s.`data`, s.`expires` FROM `tabSessions` s "
                            "JOIN `tabUser` u ON u.`name` = s.`user` WHERE s.`sid`=%s AND u.`enabled`=1", (sid,))
        if not rows or str(rows[0][2]) < datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S"):
            return None
        hit = (rows[0][0], json.loads(rows[0][1] or "{}"))
        c.set(f"session:{sid}", hit, ttl=3600)
    return Session(sid, hit[0], hit[1])


def end_session(sid):
    """End one session. Its cache entry goes now and again after the commit (a request
    running meanwhile may cache it from the row not yet deleted); the cache is Redis
    when configured, so every process forgets it at once."""
    local.db.sql("DELETE FROM `tabSessions` WHERE `sid`=%s", (sid,))
    c = cache()
    c.delete(f"session:{sid}", f"session-seen:{sid}")
    local.db.after_commit(lambda: c.delete(f"session:{sid}"))


def drop_sessions(user, keep_sid=None):
    """End the user's sessions (all but ``keep_sid``). Their cache entries go now and
    again after the commit: a request running meanwhile may have cached a session
    from the rows not yet deleted."""
    c = cache()
    keys = [f"session:{sid}" for sid in local.db.sql("SELECT `sid` FROM `tabSessions` WHERE `user`=%s", (user,),
                                                       pluck=True) if sid != keep_sid]
    c.delete(*keys)
    local.db.after_commit(lambda: c.delete(*keys))
    local.db.sql("DELETE FROM `tabSessions` WHERE `user`=%s AND `sid`<>%s", (user, keep_sid or ""))


def clear_expired_sessions():
    local.db.sql("DELETE FROM `tabSessions` WHERE `expires` < %s",
                 (datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S"),))


def check_csrf(session, header_token):
    """Sessions opened by the desk carry a CSRF token that every state-changing request
    must echo; API sessions (opened by /api/method/login from a client) do not, and
    rely on the SameSite=Lax cookie, as Frappe clients expect."""
    expected = session.csrf_token
    if not expected:
        return True
    return bool(header_token) and hmac.compare_digest(expected, header_token)


# -- API tokens -----------------------------------------------------------------------------

def generate_keys(user):
    """A new API key and secret for a user; the secret is shown once and kept as a digest."""
    drop_token_cache(user)
    api_key = secrets.token_hex(8)
    api_secret = secrets.token_hex(16)
    local.db.sql("UPDATE `tabUser` SET `api_key`=%s WHERE `name`=%s", (api_key, user))
    _store_secret(user, "api_secret", hashlib.sha256(api_secret.encode()).hexdigest())
    return api_key, api_secret


TOKEN_CACHE_SECONDS = 60


def user_for_token(api_key, api_secret):
    """The user an API token belongs to. A verified (key, secret digest) is remembered
    for a minute, so a busy client costs no lookups; regenerating keys or disabling the
    user forgets it at once (drop_token_cache)."""
    digest = hashlib.sha256((api_secret or "").encode()).hexdigest()
    c = cache()
    remembered = c.get(f"token:{api_key}")
    if remembered and hmac.compare_digest(remembered[1], digest):
        return remembered[0]
    user = _verify_token(api_key, digest)
    c.set(f"token:{api_key}", (user, digest), ttl=TOKEN_CACHE_SECONDS)
    return user


def drop_token_cache(user):
    rows = local.db.sql("SELECT `api_key` FROM `tabUser` WHERE `name`=%s", (user,), pluck=True)
    if rows and rows[0]:
        cache().delete(f"token:{rows[0]}")


def _verify_token(api_key, digest):
    rows = local.db.sql("SELECT `name`, `enabled` FROM `tabUser` WHERE `api_key`=%s", (api_key,))
    if not rows:
        raise AuthenticationError("Invalid API key")
    user, enabled = rows[0]
    stored = _stored_secret(user, "api_secret")
    if not stored or not hmac.compare_digest(stored, digest):
        raise AuthenticationError("Invalid API secret")
    if not int(enabled or 0):
        raise AuthenticationError("This user is disabled")
    return user


# -- a user's sessions: listed and ended by the user or a System Manager (api/security.py) --------

SEEN_SECONDS = 60  # last activity is kept to the minute: one cache read per request, a write a minute


def session_id(sid):
    """The public id of a session: a digest, so listing sessions never shows the cookie
    that would open them."""
    return hashlib.sha256(sid.encode()).hexdigest()[:20]


def touch_session(session):
    """Note the session's last activity (in the cache, shared by every process with
    Redis; the row's ``last_active`` keeps the time of login)."""
    c = cache()
    now = int(datetime.datetime.now().timestamp())
    seen = c.get(f"session-seen:{session.sid}")
    if not seen or now - int(seen) >= SEEN_SECONDS:
        c.set(f"session-seen:{session.sid}", now, ttl=SESSION_DAYS * 86400)


def list_sessions(user, current_sid=None):
    """The user's live sessions, newest activity first: id, ip, user agent, created,
    last active, and whether it is ``current_sid``."""
    c = cache()
    rows = local.db.sql("SELECT `sid`, `ip`, `user_agent`, `created`, `last_active` FROM `tabSessions` "
                        "WHERE `user`=%s AND `expires` >= %s",
                        (user, datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")), as_dict=True)
    sessions = []
    for row in rows:
        seen = c.get(f"session-seen:{row['sid']}")
        last = str(row["last_active"] or row["created"] or "")
        if seen:
            last = max(last, datetime.datetime.fromtimestamp(int(seen)).strftime("%Y-%m-%d %H:%M:%S"))
        sessions.append({"id": session_id(row["sid"]), "ip": row["ip"], "user_agent": row["user_agent"],
                         "created": str(row["created"] or "") or None, "last_active": last or None,
                         "current": row["sid"] == current_sid})
    sessions.sort(key=lambda s: s["last_active"] or "", reverse=True)
    return sessions


def end_session_by_id(user, public_id):
    """End the user's session whose public id is ``public_id``; False when there is none."""
    for sid in local.db.sql("SELECT `sid` FROM `tabSessions` WHERE `user`=%s", (user,), pluck=True):
        if hmac.compare_digest(session_id(sid), public_id or ""):
            end_session(sid)
            return True
    return False
