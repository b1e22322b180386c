"""Django settings: one place. Sites are not Django databases: each request picks its
site by Host and the engine opens that site's connection itself."""
import os

BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET_KEY = os.environ.get("LOWCODE_SECRET_KEY") or "lowcode-dev-only-key-change-in-production"
DEBUG = os.environ.get("LOWCODE_DEBUG") == "1"
ALLOWED_HOSTS = ["*"]  # the site resolver answers only for hosts that are sites
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth"]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",  # X-Content-Type-Options, Referrer-Policy, COOP
    "django.middleware.clickjacking.XFrameOptionsMiddleware",  # X-Frame-Options for older browsers
    "lowcode.web.middleware.ContentSecurityPolicyMiddleware",
    "django.middleware.gzip.GZipMiddleware",
    "lowcode.observability.middleware.ObservabilityMiddleware",  # ping, health, /metrics; request id, timing, log
    "lowcode.web.middleware.SiteMiddleware",
]
# Headers on every response (desk pages, API answers, files, errors). No page may be
# framed, by another site or ours (clickjacking); scripts come only from our own files (the
# desk has no inline script or on* handler: an injected one does not run). Styles
# may be inline: htmx adds its indicator style and frappe-charts sets SVG styles.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
ROOT_URLCONF = "lowcode.web.urls"
DATABASES = {}
USE_TZ = False
# Django sets the process time zone from this; keep it explicit (dates are stored as local
# wall-clock time of the server, as Frappe does).
TIME_ZONE = os.environ.get("LOWCODE_TIME_ZONE", "UTC")
USE_I18N = True
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fa", "فارسی"), ("he", "עברית")]
LANGUAGES_BIDI = ["fa", "he"]
LOCALE_PATHS = [os.path.join(BASE_DIR, "locale")]
# The password policy (auth.set_password): not like the user's name or e-mail, at least
# 8 characters, not a common password, not only digits.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# Request bodies: SiteMiddleware refuses one larger than the site's limit (site_config
# ``max_request_size`` in bytes, else this default) with a 413, from Content-Length and
# before anything reads it; so Django's own check, the same for every site, stays off.
# Without a Content-Length, Django's WSGI request reads no body at all.
MAX_REQUEST_SIZE = 25 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = None
# Uploads larger than this are spooled to a temporary file instead of held in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
TEMPLATES = []
# One JSON line per record (lowcode/observability/logs.py), with the request id of the
# request or job that wrote it; "lowcode.request" is the line per request.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "lowcode.observability.logs.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "loggers": {"lowcode": {"handlers": ["console"], "level": "INFO"}},
}
