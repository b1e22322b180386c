"""Two-factor authentication (TOTP, RFC 6238) as Frappe's ``frappe.twofactor``.

When System Settings' ``enable_two_factor_auth`` is set, a user who has a Role with
``two_factor_auth`` (and every System Manager) logs in in two steps: the password
opens no session but answers ``{"verification": {...}, "tmp_id": ...}``; a second
login with ``otp`` and ``tmp_id`` opens it. The first time, the answer carries the new
secret once (an otpauth:// URI and its QR code as an SVG data URL, made here: no outside
service sees it), and the first good code confirms it.

The TOTP arithmetic is pyotp's; the secret is kept encrypted with the site's
encryption_key in ``tabAuth`` (channels/stored_secrets.py, as channel secrets are) and
never logged. Wrong codes count against the login throttle of auth.py (the same
limits and address counter; the user's wrong codes have a counter of their own, which
a right password does not reset), and a code is
accepted once: the same code again in its window is refused. API tokens are not asked
for a code (Frappe's behaviour: a token is a second secret already)."""
import base64
import io
import secrets
import time

import pyotp

from . import auth
from .caches import cache
from .channels.stored_secrets import get_secret, store_secret
from .context import local
from .exceptions import AuthenticationError, TooManyRequestsError

SECRET = "otp_secret"             # confirmed: asked for at every login
PENDING = "otp_secret_pending"    # shown once at the first login, until a first code confirms it
TMP_SECONDS = 300                 # the time between the password and the code
STEP_SECONDS = 30


def _settings_value(doctype, field):
    from .db_api import Database
    return Database().get_single_value(doctype, field)


def authenticate(usr, pwd, otp=None, tmp_id=None, ip=None, desk=False):
    """One login step, for /api/method/login and the desk's login page alike:
    (user, None) when the login is complete; (None, challenge) when the password was
    right but a code is needed (``start``'s answer); with ``tmp_id``, the code step.
    Logins and failures go to the audit trail (a failure's row survives the rollback)."""
    from . import audit
    try:
        if tmp_id:
            user = verify(tmp_id, otp, ip=ip)
        else:
            user = auth.check_login(usr, pwd, ip=ip)
            if required_for(user):
                return None, start(user, desk=desk)
    except (AuthenticationError, TooManyRequestsError) as e:
        pending = pending_login(tmp_id) if tmp_id else None
        audit.log_failed_login(pending[0] if pending else usr, ip=ip, reason=e.message)
        raise
    audit.log_login(user, ip=ip)
    return user, None


def enabled():
    return bool(int(_settings_value("System Settings", "enable_two_factor_auth") or 0))


def required_for(user):
    """Whether ``user`` must give a code: 2FA is on and one of the user's roles asks
    for it (System Manager always does)."""
    if user == "Guest" or not enabled():
        return False
    rows = local.db.sql("SELECT r.`name`, r.`two_factor_auth` FROM `tabHas Role` h JOIN `tabRole` r "
                        "ON r.`name`=h.`role` WHERE h.`parenttype`='User' AND h.`parent`=%s", (user,))
    return any(name == "System Manager" or int(flag or 0) for name, flag in rows)


def start(user, desk=False):
    """The first step's answer for a user who must give a code: a ``tmp_id`` that the
    second step brings back, and for a user not yet enrolled, a new secret to enrol."""
    tmp_id = secrets.token_urlsafe(24)
    cache().set(f"2fa:{tmp_id}", {"user": user, "desk": desk}, ttl=TMP_SECONDS)
    verification = {"method": "OTP App", "token_delivery": False, "setup": False,
                    "prompt": "Enter the code from your authenticator app"}
    if not get_secret("User", user, SECRET):
        secret = pyotp.random_base32()
        store_secret("User", user, PENDING, secret)
        uri = pyotp.TOTP(secret).provisioning_uri(name=user, issuer_name=issuer())
        verification.update(setup=True, otpauth_uri=uri, qr_code=qr_data_url(uri),
                            prompt="Scan the QR code with your authenticator app, then enter its code")
    return {"verification": verification, "tmp_id": tmp_id}


def issuer():
    return _settings_value("System Settings", "otp_issuer_name") or local.site


def qr_data_url(text):
    """The QR code of ``text`` as an SVG data URL (drawn here by qrcode, so the secret
    goes to no outside service)."""
    import qrcode
    import qrcode.image.svg
    out = io.BytesIO()
    qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage).save(out)
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode()


def pending_login(tmp_id):
    """(user, desk) of a first step not yet completed, or None when unknown or expired."""
    if not tmp_id or len(tmp_id) > 100:
        return None
    hit = cache().get(f"2fa:{tmp_id}")
    return (hit["user"], hit["desk"]) if hit else None


def verify(tmp_id, otp, ip=None):
    """The user of the pending login ``tmp_id`` when ``otp`` is a good code never used
    before; else AuthenticationError (401), or TooManyRequestsError (429) once the
    user's (or the address's) failed logins reach auth.py's limits."""
    pending = pending_login(tmp_id)
    if pending is None:
        raise AuthenticationError("The login has expired: log in again")
    user = pending[0]
    c = cache()
    # The user's wrong codes are counted apart from wrong passwords: a right password resets
    # the password counter, and must not give whoever knows it more guesses at the code.
    user_key, ip_key = f"otp-fail:user:{user.lower()}", (f"login-fail:ip:{ip}" if ip else None)
    if (c.get(user_key) or 0) >= auth.MAX_FAILED_LOGINS:
        raise TooManyRequestsError("Too many failed logins: try again in a few minutes")
    confirmed = get_secret("User", user, SECRET)
    secret = confirmed or get_secret("User", user, PENDING)
    step = _matching_step(secret, otp) if secret else None
    # One use per code: the first request to claim (user, time step) wins, on any process.
    if step is not None and c.incr(f"2fa-used:{user}:{step}", ttl=STEP_SECONDS * 4) == 1:
        c.delete(user_key, f"2fa:{tmp_id}")
        if not confirmed:  # the first good code confirms the enrolment
            store_secret("User", user, SECRET, secret)
            store_secret("User", user, PENDING, None)
        return user
    c.incr(user_key, ttl=auth.LOCKOUT_SECONDS)
    if ip_key:
        c.incr(ip_key, ttl=auth.LOCKOUT_SECONDS)
    raise AuthenticationError("Invalid verification code")


def _matching_step(secret, otp):
    """The time step whose code ``otp`` is, within one step either side (clock drift), or None."""
    otp = str(otp or "").strip()
    if not otp.isdigit() or len(otp) != 6:
        return None
    totp = pyotp.TOTP(secret)
    current = int(time.time()) // STEP_SECONDS
    for step in (current, current - 1, current + 1):
        if secrets.compare_digest(totp.generate_otp(step), otp):
            return step
    return None


def reset(user):
    """Forget the user's secret: the next login enrols again (an admin's remedy for a lost phone)."""
    store_secret("User", user, SECRET, None)
    store_secret("User", user, PENDING, None)
