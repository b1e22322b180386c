"""URLs users give and the desk prints as links: http(s) addresses, site-relative
paths, ``mailto:`` and ``tel:``. Nothing else, so a stored value can never become a
``javascript:`` or ``data:`` link, nor a link to another host written as ``//host``.

Browsers drop tabs and line breaks inside a URL, strip leading spaces and control
characters, and read ``\\`` as ``/``: ``" JaVa\\tScRiPt:x"`` is a script and ``/\\host``
another host. Such values are refused outright rather than cleaned. The same test runs
when a value is saved (the URL-ish field types, File.file_url) and when a template
prints it (the ``safe_url`` filter), so values stored before the check are harmless too.
"""
import re

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator

SCHEMES = ("http", "https", "mailto", "tel")
_web = URLValidator(schemes=["http", "https"])
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
_UNSAFE_CHARS_RE = re.compile(r"[\x00-\x20\x7f\\]")


def is_safe_url(value):
    """True for an http(s) address, a relative URL on this site, mailto: or tel:."""
    if not isinstance(value, str) or not value or value != value.strip():
        return False
    if _UNSAFE_CHARS_RE.search(value.replace(" ", "")):  # inner spaces are harmless (file names)
        return False
    m = _SCHEME_RE.match(value)
    if m:
        scheme = m.group(1).lower()
        if scheme in ("http", "https"):
            return is_web_url(value)
        return scheme in SCHEMES and len(value) > len(scheme) + 1
    # No scheme: a path on this site. "//host/..." would be another host.
    return not value.startswith("//")


def is_web_url(value):
    """True for an absolute http(s) address."""
    if not isinstance(value, str) or _UNSAFE_CHARS_RE.search(value):
        return False
    try:
        _web(value)
    except DjangoValidationError:
        return False
    return True


def safe_url(value):
    """The value when it is a safe link target, else "" (templates: ``href="{{ x|safe_url }}"``)."""
    value = str(value).strip() if value is not None else ""
    return value if is_safe_url(value) else ""


def tel_url(number):
    """The ``tel:`` link of a phone number as typed ("0912 123 4567", "+98-912...", in
    Persian or Arabic digits): its digits and leading plus, or "" when it has no digits."""
    text = str(number or "")
    digits = "".join(str(int(c)) for c in text if c.isdecimal())
    if not digits:
        return ""
    return "tel:" + ("+" if text.lstrip().startswith("+") else "") + digits


def sms_url(number):
    """The ``sms:`` link of a phone number (tap-to-text on phones), or ""."""
    tel = tel_url(number)
    return "sms:" + tel[4:] if tel else ""
