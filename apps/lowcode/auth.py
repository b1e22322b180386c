"""Who is calling: passwords, sessions (the ``sid`` cookie, as Frappe clients expect),
API tokens (``Authorization: token <key>:<secret>``), login throttling and CSRF.

Passwords are hashed with Django's hashers (Argon2 first); API secrets are random
and high-entropy, so a SHA-256 digest suffices and keeps token checks fast.
Sessions live in the site database, cached in Redis or memory.
"""
import datetime
import hashlib
import hmac
import json
import secrets

from django.contrib.auth.hashers import check_password as django_check_password, make_password

from .caches import cache
from .context import local
from .exceptions import AuthenticationError, TooManyRequestsError

SESSION_DAYS = 7
MAX_FAILED_LOGINS = 5
LOCKOUT_SECONDS = 600


def set_password(user, password, fieldname="password"):
    if not password:
        raise AuthenticationError("the password is empty")
    _store_secret(user, fieldname, make_password(password))


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
    login = (login or "").strip()
    if not login:
        return None
    rows = local.db.sql("SELECT `name`, `enabled` FROM `tabUser` WHERE `name`=%s OR `email`=%s OR `username`=%s",
                        (login if login == "Administrator" else login.lower(), login.lower(), login))
    return rows[0] if rows else None


def check_login(login, password, ip=None):
    """The user's name for a correct login, else AuthenticationError. Failed attempts
    per login and per address lock further attempts out for a while."""
    c = cache()
    keys = [f"login-fail:user:{(login or '').lower()}"] + ([f"login-fail:ip:{ip}"] if ip else [])
    if any((c.get(k) or 0) >= MAX_FAILED_LOGINS for k in keys[:1]) or \
            (ip and (c.get(keys[-1]) or 0) >= MAX_FAILED_LOGINS * 4):
        raise TooManyRequestsError("Too many failed logins: try again in a few minutes")
    row = _find_user(login)
    stored = _stored_secret(row[0], "password") if row else None
    ok = bool(row and row[0] != "Guest" and stored and django_check_password(password or "", stored))
    if not ok:
        for k in keys:
            c.incr(k, ttl=LOCKOUT_SECONDS)
        raise AuthenticationError("Invalid login or password")
    if not int(row[1] or 0):
        raise AuthenticationError("This user is disabled")
    c.delete(keys[0])
    return row[0]


# -- sessions ------------------------------------------------------------------------------

class Session:
    __slots__ = ("sid", "user", "data")

    def __init__(self, sid, user, data):
        self.sid, self.user, self.data = sid, user, data

    @property
    def csrf_token(self):
        return self.data.get("csrf_token")


def start_session(user, ip=None, desk=False):
    sid = secrets.token_hex(28)
    data = {"csrf_token": secrets.token_urlsafe(24) if desk else None}
    expires = datetime.datetime.now() + datetime.timedelta(days=SESSION_DAYS)
    local.db.sql("INSERT INTO `tabSessions` (`sid`, `user`, `data`, `expires`, `ip`) VALUES (%s, %s, %s, %s, %s)",
                 (sid, user, json.dumps(data), expires.strftime("%Y-%m-%d %H:%M:%S"), ip))
    local.db.sql("UPDATE `tabUser` SET `last_login`=%s, `last_ip`=%s WHERE `name`=%s",
                 (datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S"), ip, user))
    session = Session(sid, user, data)
    cache().set(f"session:{sid}", (user, data), ttl=3600)
    return session


def get_session(sid):
    if not sid or len(sid) > 100:
        return None
    c = cache()
    hit = c.get(f"session:{sid}")
    if hit is None:
        rows = local.db.sql("SELECT `user`, `data`, `expires` FROM `tabSessions` WHERE `sid`=%s", (sid,))
        if not rows or str(rows[0][2]) < datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S"):
            return None
        hit = (rows[0][0], json.loads(rows[0][1] or "{}"))
        c.set(f"session:{sid}", hit, ttl=3600)
    return Session(sid, hit[0], hit[1])


def end_session(sid):
    local.db.sql("DELETE FROM `tabSessions` WHERE `sid`=%s", (sid,))
    cache().delete(f"session:{sid}")


def drop_sessions(user):
    c = cache()
    for sid in local.db.sql("SELECT `sid` FROM `tabSessions` WHERE `user`=%s", (user,), pluck=True):
        c.delete(f"session:{sid}")
    local.db.sql("DELETE FROM `tabSessions` WHERE `user`=%s", (user,))


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
