"""Settings, all from environment variables with safe embedded defaults.

Embedded default (nothing set): SQLite in ./var, no Redis (Celery uses a filesystem
transport), console email, a secret key generated once and kept in ./var.
Production (MAPSITE_ENV=production): DATABASE_URL, REDIS_URL, SECRET_KEY and
ALLOWED_HOSTS are required.

The environment is read through mapsite/env.py; the embedded backends and the mailer
of an EMAIL_URL are built in mapsite/backends.py, LOGGING in mapsite/logging_config.py.
"""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from mapsite.backends import (
    file_caches,
    filesystem_transport,
    redis_caches,
    smtp_mailer,
    sqlite_database,
)
from mapsite.env import env, env_bool, env_list, env_networks, secret_key
from mapsite.logging_config import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent


MAPSITE_ENV = env("MAPSITE_ENV", "embedded")
if MAPSITE_ENV not in {"embedded", "production"}:
    raise ImproperlyConfigured("MAPSITE_ENV must be 'embedded' or 'production'.")
PRODUCTION = MAPSITE_ENV == "production"

DATA_DIR = Path(env("MAPSITE_DATA_DIR", str(BASE_DIR / "var")))
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = secret_key(DATA_DIR, PRODUCTION)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,[::1]")
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when MAPSITE_ENV=production.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env("SITE_URL", "" if PRODUCTION else "http://127.0.0.1:8000").rstrip("/")
if PRODUCTION and not SITE_URL:
    raise ImproperlyConfigured(
        "SITE_URL (e.g. https://rooms.example.com) must be set in production."
    )

INSTALLED_APPS = [
    # First: its changepassword command replaces django.contrib.auth's (a new password
    # goes through accounts.services.user_password_set).
    "accounts",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "rooms",
    "stakeholders",
    "plans",
    "alerts",
    "documents",
    "webhooks",
    "api",
    "dashboard",
    "checkins",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "mapsite.csrf.NoReferrerAwareCsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "rooms.middleware.RoomReadOnlyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "mapsite.urls"
WSGI_APPLICATION = "mapsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.organization",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------
DATABASE_URL = env("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
elif PRODUCTION:
    raise ImproperlyConfigured("DATABASE_URL must be set when MAPSITE_ENV=production.")
else:
    DATABASES = {"default": sqlite_database(DATA_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache and broker -------------------------------------------------------------
REDIS_URL = env("REDIS_URL")
if PRODUCTION and not REDIS_URL:
    raise ImproperlyConfigured("REDIS_URL must be set when MAPSITE_ENV=production.")
if REDIS_URL:
    CACHES = redis_caches(REDIS_URL)
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
else:
    CACHES = file_caches(DATA_DIR)
    CELERY_QUEUE_DIR = DATA_DIR / "celery" / "queue"
    CELERY_PROCESSED_DIR = DATA_DIR / "celery" / "processed"
    # The host means nothing to the filesystem transport; naming one keeps kombu from
    # warning about it on every message.
    CELERY_BROKER_URL = "filesystem://localhost/"
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_transport(
        CELERY_QUEUE_DIR, CELERY_PROCESSED_DIR, DATA_DIR / "celery" / "control"
    )
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- sessions, auth ----------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "rooms:list"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sessions are read from the shared cache first (the database stays the record), so a
# live poll that finds nothing new costs one SQL query. Django's cached_db, whose rows
# also name their user, so a new password can end all of that user's sessions.
SESSION_ENGINE = "accounts.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- HTTPS -------------------------------------------------------------------------
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto: plain HTTP is redirected to
# HTTPS, except /healthz (container and load-balancer health checks ask over HTTP), and
# HTTPS answers carry HSTS. The embedded default (plain HTTP on a laptop) has neither.
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", BEHIND_TLS_PROXY)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = int(
    env("SECURE_HSTS_SECONDS", "31536000" if PRODUCTION or BEHIND_TLS_PROXY else "0")
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
# Preloading is the domain owner's decision (it binds every subdomain, for months):
# off unless asked for.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)

# --- Content-Security-Policy ----------------------------------------------------------
# One policy for every page (seller pages, admin, API reference, error pages, the
# buyer's), set by Django's middleware. Only our own origin; no inline script or style
# except an element carrying the response's nonce (the admin's few inline scripts and
# styles; the nonce appears in the header only when a page used it). Buyer pages never
# get one (stakeholders.buyer_views), downloads set a stricter sandbox of their own.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}

SILENCED_SYSTEM_CHECKS = [
    # "CsrfViewMiddleware is not in MIDDLEWARE": it is, as its subclass
    # mapsite.csrf.NoReferrerAwareCsrfViewMiddleware, which the check does not recognise.
    "security.W003",
]
if not SECURE_HSTS_PRELOAD:
    # "SECURE_HSTS_PRELOAD is not True": deliberately off by default (see above and
    # docs/OPERATIONS.md, Security); SECURE_HSTS_PRELOAD=true turns it on.
    SILENCED_SYSTEM_CHECKS.append("security.W021")

# --- email -------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "mapsite <no-reply@mapsite.localhost>")
EMAIL_URL = env("EMAIL_URL")
if EMAIL_URL:
    MAILERS = {"default": smtp_mailer(EMAIL_URL)}
else:
    # Embedded default: emails are printed by the process that sends them, with links
    # that carry a secret redacted; such a message is kept whole in MAIL_DIR.
    MAILERS = {"default": {"BACKEND": "mapsite.mail.ReadableConsoleBackend"}}
    MAIL_DIR = DATA_DIR / "mail"

# --- i18n, static ----------------------------------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Uploaded documents live here (Django's storage API, the "default" storage). They are
# never served by a static route or whitenoise, only by the access-checked download
# views, so there is deliberately no MEDIA_URL route.
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(DATA_DIR / "media")))
# Largest document a room accepts (bytes); bigger uploads are dropped as they stream in.
DOCUMENT_MAX_BYTES = int(env("DOCUMENT_MAX_BYTES", str(20 * 1024 * 1024)))
FILE_UPLOAD_HANDLERS = [
    "documents.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Files up to 2.5 MB are held in memory while checked, larger ones in a temporary file;
# form fields (not files) stay limited to 2.5 MB and 1000 fields.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_PERMISSIONS = 0o640
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750

# Every handler redacts secrets (buyer links, calendar feeds, reset and invitation links,
# API tokens) from everything a record prints: mapsite.redaction.
LOGGING = logging_config(env("LOG_LEVEL", "INFO"))

# --- product settings -----------------------------------------------------------
# Longest free text accepted in any plan field; longer input is refused, not cut.
MAPSITE_MAX_TEXT = 5000
INVITATION_TTL_DAYS = 14
# Buyer links: default lifetime, and how many unknown tokens one client address may try
# in a window before it is refused (429).
BUYER_LINK_TTL_DAYS = int(env("BUYER_LINK_TTL_DAYS", "90"))
# Wrong passwords: per email tried and per client address, in a window (seconds).
SIGN_IN_FAILURE_LIMIT = int(env("SIGN_IN_FAILURE_LIMIT", "10"))
SIGN_IN_CLIENT_LIMIT = int(env("SIGN_IN_CLIENT_LIMIT", "50"))
SIGN_IN_WINDOW = int(env("SIGN_IN_WINDOW", "900"))
# Password reset emails asked for per client address, in a window (seconds).
PASSWORD_RESET_LIMIT = int(env("PASSWORD_RESET_LIMIT", "5"))
PASSWORD_RESET_WINDOW = int(env("PASSWORD_RESET_WINDOW", "3600"))
BUYER_LINK_MISS_LIMIT = int(env("BUYER_LINK_MISS_LIMIT", "20"))
BUYER_LINK_MISS_WINDOW = int(env("BUYER_LINK_MISS_WINDOW", "600"))
# How many reverse proxies sit in front of the app (their X-Forwarded-For entries are
# trusted to find the client's address). 0: use the connection's address. The compose
# file sets 1 (its web port is meant to sit behind one proxy).
TRUSTED_PROXY_COUNT = int(env("TRUSTED_PROXY_COUNT", "0"))
# Overdue alerts: how often beat runs the sweep, and how delivery retries.
ALERT_SWEEP_MINUTES = int(env("ALERT_SWEEP_MINUTES", "15"))
ALERT_MAX_ATTEMPTS = int(env("ALERT_MAX_ATTEMPTS", "6"))
ALERT_RETRY_BASE_SECONDS = int(env("ALERT_RETRY_BASE_SECONDS", "30"))
ALERT_HTTP_TIMEOUT = float(env("ALERT_HTTP_TIMEOUT", "10"))

# Outgoing requests (Slack, webhooks) never reach loopback, private, link-local or other
# internal addresses (mapsite/outbound_rule.py), except in these networks, which the operator
# lets through (a CRM on the private network). Empty by default, in every mode.
OUTBOUND_ALLOW_NETWORKS = env_networks("OUTBOUND_ALLOW_NETWORKS")

# --- REST API and webhooks ------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.IsOrgMember"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.TokenRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pagination",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.exceptions.handler",
    "UNAUTHENTICATED_USER": None,
    "COERCE_DECIMAL_TO_STRING": True,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "mapsite API",
    "VERSION": "v1",
    "DESCRIPTION": (
        "Rooms, their mutual action plans and stakeholders, for integrations and CRMs. "
        "Authenticate with the header Authorization: Token <token>. Objects with a "
        'version carry ETag: "<version>"; PATCH and DELETE need If-Match with it (428 '
        "when missing, 412 when stale; nothing is written). Unknown fields and query "
        "parameters are refused (400). Webhooks, signatures and a worked example: "
        "docs/API.md."
    ),
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # One name for each choice set used by several fields.
    "ENUM_NAME_OVERRIDES": {
        "SideEnum": "stakeholders.models.Side",
        "WebhookEventEnum": "webhooks.models.EventType",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_error_responses",
    ],
    "DISABLE_ERRORS_AND_WARNINGS": True,
}
# Requests per token (and per client address before signing in).
API_THROTTLE_RATE = env("API_THROTTLE_RATE", "600/min")
API_SIGNIN_RATE = env("API_SIGNIN_RATE", "10/min")
# Outgoing webhooks: how far back each dispatch run re-reads the activity log (an
# entry committed later than this after its time is not sent), and delivery retries.
WEBHOOK_DISPATCH_WINDOW_MINUTES = int(env("WEBHOOK_DISPATCH_WINDOW_MINUTES", "60"))
WEBHOOK_MAX_ATTEMPTS = int(env("WEBHOOK_MAX_ATTEMPTS", "8"))
WEBHOOK_HTTP_TIMEOUT = float(env("WEBHOOK_HTTP_TIMEOUT", "10"))
