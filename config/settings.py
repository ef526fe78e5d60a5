"""Settings for allemaal-digitaal, configured from the environment.

Every variable is listed in the README's table and in `.env.example`. With no environment at all
this runs as a development site on SQLite with in-process background jobs; production
(`DJANGO_ENV=production`) refuses to start without its required variables.
"""

import os
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

ENV = os.environ.get("DJANGO_ENV", "development")
PRODUCTION = ENV == "production"


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    return env(name, "1" if default else "0").strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    return int(env(name, str(default)))


def env_float(name: str, default: float) -> float:
    return float(env(name, str(default)))


def runserver_url(argv: list[str]) -> str:
    """The address `manage.py runserver [addr:]port` serves on, for links in mails and PDFs."""
    args = [a for a in argv[2:] if not a.startswith("-")] if argv[1:2] == ["runserver"] else []
    host, _sep, port = (args[0] if args else "8000").rpartition(":")
    if host in ("", "0", "0.0.0.0", "[::]"):  # noqa: S104 - a listen address, not a bind here
        host = "127.0.0.1"
    return f"http://{host}:{port}"


def mandatory(name: str) -> str:
    """A variable production cannot run without; fail loudly at start-up."""
    value = env(name)
    if not value:
        raise ImproperlyConfigured(f"{name} must be set when DJANGO_ENV=production")
    return value


if PRODUCTION:
    SECRET_KEY = mandatory("SECRET_KEY")
    ALLOWED_HOSTS = [h.strip() for h in mandatory("ALLOWED_HOSTS").split(",") if h.strip()]
    DATABASE_URL = mandatory("DATABASE_URL")
    DEBUG = False
else:
    SECRET_KEY = env("SECRET_KEY", "dev-only-insecure-key-change-me-0123456789abcdefghijklmnop")
    ALLOWED_HOSTS = [
        h.strip() for h in env("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
    ]
    DATABASE_URL = env("DATABASE_URL")
    DEBUG = env_bool("DEBUG", True)

# Links in e-mails and PDFs. Unset, it is the address runserver was started on.
SITE_URL = env("SITE_URL", runserver_url(sys.argv)).rstrip("/")
CSRF_TRUSTED_ORIGINS = [o for o in env("CSRF_TRUSTED_ORIGINS").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "phonenumber_field",
    "allemaal",
    "donations",
    "helprequests",
    "refurbish",
    "distribution",
    "coordination",
    "config",
]

MIDDLEWARE = [
    # First: load balancers probe /healthz by IP, so it answers before host validation.
    "config.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "allemaal.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before CSRF: it refuses an oversized upload before anything reads the body.
    "allemaal.middleware.UploadLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every refused (403) or rate-limited (429) request: a line in the security log.
    "allemaal.security_log.SecurityLogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After authentication and messages: an idle, too old or deactivated session ends (with a
    # message) before anything else looks at the user.
    "allemaal.sessions.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "allemaal.middleware.StaffMfaRequiredMiddleware",
    # A dead database, cache or broker: a plain 503 page instead of a 500.
    "config.resilience.ServiceUnavailableMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        # Django's, its check aware of the i18n library replaced below (allemaal.template_backend).
        "BACKEND": "allemaal.template_backend.DjangoTemplates",
        "NAME": "django",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "allemaal.context_processors.platform",
            ],
            # `{% url %}` reversing each URL pattern once, not once per link (fast_urls).
            "builtins": ["allemaal.templatetags.fast_url"],
            # `{% load i18n %}` with each literal `{% translate %}` looked up once per language.
            "libraries": {"i18n": "allemaal.templatetags.fast_i18n"},
        },
    },
]

if DATABASE_URL:
    # Health checks: a kept connection that the server dropped is replaced at the next
    # request's start instead of failing it.
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
    }
    if DATABASES["default"]["ENGINE"].endswith("postgresql"):
        # PostgreSQL compiles a query just in time when its *estimated* cost is high (a deep
        # page of a million-row list): compiling took 640 ms for a query that runs in 150 ms.
        # Off for this application; its big jobs were measured without it.
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c jit=off".strip()
        options.setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5))
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A real cache: the log-in rate limit must count across requests and processes. When Redis is
# down the cache answers "nothing cached" (pages still work) except for the rate limits, which
# refuse the log-in with a message (config/cache.py); short timeouts keep requests quick.
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "config.cache.FailSafeRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "socket_connect_timeout": env_float("REDIS_CONNECT_TIMEOUT", 0.1),
                "socket_timeout": env_float("REDIS_TIMEOUT", 0.5),
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "allemaal",
        }
    }

AUTH_USER_MODEL = "allemaal.User"
# Django's and allauth's, loading the user with their membership and organisation in one query.
AUTHENTICATION_BACKENDS = [
    "allemaal.backends.ModelBackend",
    "allemaal.backends.AuthenticationBackend",
]
# Password rules (README, "Passwords"): length, not composition. At least 12 characters; not a
# common password, not like the user's own address or name; not one repeated character or a
# keyboard run (allemaal/passwords.py). No "one digit, one capital" rules.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "allemaal.passwords.RepeatAndKeyboardRunValidator"},
]
if env_bool("FAST_PASSWORD_HASHER"):  # tests only: hashing dominates an otherwise quick suite
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Sessions (README, "Sessions"): an idle session ends after 30 minutes for staff and 2 hours for
# everyone else; any session ends 12 hours after its log-in (allemaal/sessions.py).
SESSION_IDLE_MINUTES_STAFF = env_int("SESSION_IDLE_MINUTES_STAFF", 30)
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 120)
SESSION_MAX_AGE_HOURS = env_int("SESSION_MAX_AGE_HOURS", 12)
SESSION_COOKIE_AGE = SESSION_MAX_AGE_HOURS * 3600
# With Redis, a session is read from the cache (written through to the database): a signed-in
# page costs no session query. Cached for a minute at most (allemaal/sessions.py): a log-out
# whose cache delete failed while Redis was unreachable cannot outlive that minute.
if REDIS_URL:
    SESSION_ENGINE = "allemaal.sessions"
# The user's sessions are listed on the Account page (allauth.usersessions) from their log-in;
# tracking every request there would cost a write per page.
USERSESSIONS_TRACK_ACTIVITY = False

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
ACCOUNT_LOGOUT_REDIRECT_URL = "home"

# django-allauth: e-mail only, mandatory verification, rate-limited log-in, TOTP for staff.
ACCOUNT_ADAPTER = "allemaal.adapters.AccountAdapter"
ACCOUNT_FORMS = {"signup": "allemaal.forms.SignupForm"}
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[#allemaaldigitaal] "
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}
# Reverse proxies in front of the app that append to X-Forwarded-For (Caddy in
# docker-compose.yml: 1). The per-IP limits take the client address that many entries from the
# right (allemaal/clientip.py); with 0 the header is ignored. README, "Behind a proxy".
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
# Two-step verification: an authenticator app (TOTP) or a passkey (WebAuthn), with recovery codes.
# Every staff session needs one before any page opens (allemaal.middleware.StaffMfaRequired...).
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_TOTP_ISSUER = "allemaal-digitaal"
# Browsers allow passkeys on http only for localhost: `make run` with DEBUG.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG

LANGUAGE_CODE = "nl"
# Dates in the active language's own format (`date:"DATE_FORMAT"` in templates).
FORMAT_MODULE_PATH = ["config.formats"]
LANGUAGES = [("nl", _("Nederlands")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True
PHONENUMBER_DEFAULT_REGION = "NL"
PHONENUMBER_DB_FORMAT = "E164"

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
# Uploaded files above 1 MB stream to a temporary file, never whole into memory; each upload
# view declares its own maximum request size (allemaal.uploads.upload_limit, README).
FILE_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
FILE_UPLOAD_TEMP_DIR = env("FILE_UPLOAD_TEMP_DIR") or None
# An asset list larger than this is read by a background job, its progress on the page.
MANIFEST_BACKGROUND_BYTES = env_int("MANIFEST_BACKGROUND_BYTES", 64 * 1024)
# An asset list's preview that nobody confirms is ended, and its kept file deleted, after this.
MANIFEST_PREVIEW_MAX_AGE_DAYS = env_int("MANIFEST_PREVIEW_MAX_AGE_DAYS", 14)
# A telecom provider's CSV with more filled-in lines than this is recorded by a background job.
TELECOM_BACKGROUND_ROWS = env_int("TELECOM_BACKGROUND_ROWS", 100)
# An nwipe-log upload larger than this (bytes, or logs counting a zip's entries) is recorded
# by a background job, its progress on the page.
ERASURE_LOG_BACKGROUND_BYTES = env_int("ERASURE_LOG_BACKGROUND_BYTES", 1024 * 1024)
ERASURE_LOG_BACKGROUND_FILES = env_int("ERASURE_LOG_BACKGROUND_FILES", 50)
# Form fields and raw bodies read into memory (the station API reads its body in chunks).
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# Wiping stations' logs may arrive as many files in one upload (a zip works too).
DATA_UPLOAD_MAX_NUMBER_FILES = 1000

# Mail: console in development (read the outbox in the admin or the terminal), SMTP in production.
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", str(BASE_DIR / "sent-mail"))
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "#allemaaldigitaal <noreply@allemaal-digitaal.nl>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: a Redis broker when CELERY_BROKER_URL is set, otherwise tasks run in-process.
CELERY_BROKER_URL = env("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Time limits, and the broker's visibility timeout above the longest of them: a message that a
# killed worker never acknowledged is delivered again after the visibility timeout, and must
# not be delivered a second time while a live worker is still within its limit.
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 5 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - max(CELERY_TASK_TIME_LIMIT // 5, 1)
# The longest task's own limit (the nightly reporting rebuild: an hour at a million devices).
CELERY_LONGEST_TASK_LIMIT = max(CELERY_TASK_TIME_LIMIT, env_int("CELERY_LONGEST_TASK_LIMIT", 3600))
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 2 * 60 * 60)
if CELERY_VISIBILITY_TIMEOUT <= CELERY_LONGEST_TASK_LIMIT:
    raise ImproperlyConfigured(
        "CELERY_VISIBILITY_TIMEOUT must exceed the longest task time limit "
        f"({CELERY_LONGEST_TASK_LIMIT} s)"
    )
# Acknowledged after the work, so a killed worker's task is delivered again.
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A request that queues work must not wait for a dead broker: one quick connection attempt,
# no publish retries. The outbox and the relay make up for a lost enqueue.
CELERY_BROKER_CONNECTION_TIMEOUT = env_float("CELERY_BROKER_CONNECT_TIMEOUT", 0.05)
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "socket_connect_timeout": CELERY_BROKER_CONNECTION_TIMEOUT,
    # Workers look for a dead worker's unacknowledged jobs every 10 s (kombu's default scans only
    # every 10th time); each job is given again once it is older than the visibility timeout.
    "unacked_restore_throttle": 1,
}
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# How long a queued notification may wait for its send before the relay enqueues it again.
NOTIFICATION_STUCK_AFTER_SECONDS = env_int("NOTIFICATION_STUCK_AFTER_SECONDS", 300)
# Mail retries (owned by the relay): backoff doubling from the base up to the cap, with jitter,
# for this many hours after the first failure; then the mail is marked failed (dead letter).
NOTIFICATION_RETRY_BASE_SECONDS = env_int("NOTIFICATION_RETRY_BASE_SECONDS", 60)
NOTIFICATION_RETRY_MAX_SECONDS = env_int("NOTIFICATION_RETRY_MAX_SECONDS", 60 * 60)
NOTIFICATION_RETRY_WINDOW_HOURS = env_int("NOTIFICATION_RETRY_WINDOW_HOURS", 24)
# The mail provider's rate: never more sends in any minute, counted across all workers (in Redis
# when REDIS_URL is set; several workers need it). 0: no limit.
EMAIL_MAX_PER_MINUTE = env_int("EMAIL_MAX_PER_MINUTE", 1000)
# How many parts of a run's approval run side by side (each its own Celery task and
# transaction; parts share no rows). More than the workers' concurrency gains nothing.
APPROVAL_CHAINS = env_int("APPROVAL_CHAINS", 2)
# Under `runserver` without a broker, a thread runs the beat schedule in-process (config/apps.py).
IN_PROCESS_SCHEDULER = env_bool("IN_PROCESS_SCHEDULER", not CELERY_BROKER_URL)

# Programme policy (defaults; coordinators can change some of them in the admin).
DONATION_MIN_BATCH_SIZE = env_int("DONATION_MIN_BATCH_SIZE", 10)
HELPREQUEST_MAX_OPEN_PER_ORGANISATION = env_int("HELPREQUEST_MAX_OPEN_PER_ORGANISATION", 3)
HELPREQUEST_MAX_DEVICES = env_int("HELPREQUEST_MAX_DEVICES", 500)
ALLOCATION_DEBOUNCE_MINUTES = env_int("ALLOCATION_DEBOUNCE_MINUTES", 15)
# Days an invitation to join an organisation stays valid.
INVITATION_MAX_AGE_DAYS = env_int("INVITATION_MAX_AGE_DAYS", 14)
# Days after delivery before an organisation is reminded of its missing hand-out report.
HANDOUT_REMINDER_DAYS = env_int("HANDOUT_REMINDER_DAYS", 14)
# The delivery window promised to an organisation once its allocation is approved.
ALLOCATION_DELIVERY_DAYS_MIN = env_int("ALLOCATION_DELIVERY_DAYS_MIN", 5)
ALLOCATION_DELIVERY_DAYS_MAX = env_int("ALLOCATION_DELIVERY_DAYS_MAX", 14)

# The free support line, shown in the footer and on instruction sheets.
SUPPORT_PHONE = env("SUPPORT_PHONE", "0800 0255")
SUPPORT_HOURS = env("SUPPORT_HOURS", "ma-vr 9:00-17:00")

# Content-Security-Policy: everything the browser loads is served by us.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'"
)

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz"]
    # The TLS proxy in front (Caddy in docker-compose.yml) says which scheme the browser used.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"message": {"format": "%(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        # The security log: bare JSON lines on stdout (allemaal/security_log.py, README).
        "security": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "message",
        },
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "allemaal.security": {"handlers": ["security"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "INFO"},
        # In-process (eager) jobs would log every task at INFO; keep `make run` readable.
        # Workers log each task's start, success, retry and failure themselves (config/celery.py).
        "celery.app.trace": {"level": "WARNING"},
    },
}

# Error monitoring, only when a DSN is given (and sentry-sdk is installed: requirements.txt).
SENTRY_DSN = env("SENTRY_DSN")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=ENV,
        traces_sample_rate=env_float("SENTRY_TRACES_SAMPLE_RATE", 0.0),
        send_default_pii=False,
    )

# Who is responsible for the personal data (the privacy page names them) and where to write.
PRIVACY_CONTROLLER = env("PRIVACY_CONTROLLER", "Stichting #allemaaldigitaal")
PRIVACY_EMAIL = env("PRIVACY_EMAIL", "privacy@allemaal-digitaal.nl")
# Retention periods of the register of personal data (allemaal/privacy.py), in days.
PRIVACY_INACTIVE_ACCOUNT_DAYS = env_int("PRIVACY_INACTIVE_ACCOUNT_DAYS", 2 * 365)
PRIVACY_CLOSED_CONTACT_DAYS = env_int("PRIVACY_CLOSED_CONTACT_DAYS", 2 * 365)
PRIVACY_OUTBOX_BODY_DAYS = env_int("PRIVACY_OUTBOX_BODY_DAYS", 90)
PRIVACY_SECURITY_LOG_DAYS = env_int("PRIVACY_SECURITY_LOG_DAYS", 365)
