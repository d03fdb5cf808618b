"""The portal's one settings module. Every value comes from the environment.

Safe defaults: DEBUG is off unless DJANGO_DEBUG asks for it, and with DEBUG off a missing
DJANGO_SECRET_KEY stops the process instead of running with a guessable key.
"""

import datetime as dt
import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY and DEBUG:
    SECRET_KEY = "insecure-development-key-only-used-with-DJANGO_DEBUG"  # noqa: S105
# With DEBUG off and no key, the key stays empty: the web server and the Celery worker and beat
# refuse to start (allocation_portal.startup), and Django refuses any use of it. Commands that
# need no key (makemigrations, collectstatic) still run.

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "axes",
    "csp",
    # The second factor (TOTP authenticator apps and single-use recovery codes).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allocation_portal",
    # The floors, lowest first (after the core): an app imports only the core and the apps before it.
    "gpus",
    "projects",
    "lending",
    "calls",
    "metering",
    "monitoring",
    "outcomes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "allocation_portal.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Before anything reads the body: refuses NUL in the address and bodies over the limit.
    "allocation_portal.middleware.RequestGuardMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # MSIT admins, provider operators and everyone who enrolled are sent to the second factor
    # before any other page (allocation_portal.second_factor).
    "allocation_portal.second_factor.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # Refuses a login while the account or the address is locked out, before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # OpenID Connect single sign-on: answers only on its own callback, and only when it is configured.
    "allocation_portal.sso.PortalOIDCBackend",
]

ROOT_URLCONF = "allocation_portal.urls"
WSGI_APPLICATION = "allocation_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "allocation_portal.context_processors.portal",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/allocation_portal"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
DATABASES["default"].setdefault("TEST", {})
if os.environ.get("TEST_DATABASE_NAME"):
    DATABASES["default"]["TEST"]["NAME"] = os.environ["TEST_DATABASE_NAME"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "allocation_portal.User"

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "portal"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Request counters of the throttles (allocation_portal.throttles): the same store, their own prefix.
CACHES["throttle"] = {**CACHES["default"], "KEY_PREFIX": f"{CACHES['default'].get('KEY_PREFIX', 'portal')}-throttle"}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# Korean first, English available. Times are kept in UTC and shown in Asia/Seoul.
LANGUAGE_CODE = "ko"
LANGUAGES = [("ko", _("Korean")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Seoul"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = "media/"
# Uploads (evidence files, CSV/XLSX reports) are small. A request whose body is larger than the
# limit (plus room for the form around the file) is refused from its Content-Length before it is
# read (allocation_portal.middleware); a file over the limit is refused by its field.
PORTAL_UPLOAD_MAX_BYTES = int(float(os.environ.get("PORTAL_UPLOAD_MAX_MB", "10")) * 1024 * 1024)
PORTAL_REQUEST_MAX_BYTES = PORTAL_UPLOAD_MAX_BYTES + 256 * 1024
# A provider's month of scheduler accounting is larger (a national month is about 2 million job rows):
# allowed only on the metering endpoints, for its operators' tokens.
PORTAL_METERING_MAX_BYTES = int(float(os.environ.get("PORTAL_METERING_MAX_MB", "512")) * 1024 * 1024)
# Rows of a CSV/XLSX upload, counted while the file is read (it stops at the limit).
PORTAL_UPLOAD_MAX_ROWS = int(os.environ.get("PORTAL_UPLOAD_MAX_ROWS", "5000"))
DATA_UPLOAD_MAX_MEMORY_SIZE = PORTAL_REQUEST_MAX_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Security: secure cookies and HSTS follow DEBUG unless set explicitly (a plain-HTTP benchmark
# behind gunicorn sets DJANGO_SECURE_COOKIES=0).
SECURE_COOKIES = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^ping$"]  # the container health check speaks plain HTTP
# HTTPS is on where cookies are secure (DEBUG off) unless DJANGO_HTTPS says otherwise: then HSTS
# for a year, subdomains included. Browsers take HSTS only from HTTPS responses.
PORTAL_HTTPS = env_bool("DJANGO_HTTPS", SECURE_COOKIES)
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", "31536000" if PORTAL_HTTPS else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = PORTAL_HTTPS
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", PORTAL_HTTPS)
PORTAL_BEHIND_PROXY = env_bool("DJANGO_BEHIND_PROXY")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if PORTAL_BEHIND_PROXY else None
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts, styles, fonts and requests only from this site, no
# inline script of any kind, no plugins, no framing. Inline style attributes (the pages' layout
# tweaks and the usage chart's SVG) are allowed; <style> elements are not.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-elem": [SELF],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Features no page of the portal uses, switched off (allocation_portal.middleware).
PERMISSIONS_POLICY = "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()"
SESSION_COOKIE_AGE = 60 * 60 * 12
# Database sessions that know their user: deactivating a person deletes their sessions at once.
SESSION_ENGINE = "allocation_portal.sessions"
# An invitation's e-mailed link to set a first password works for this many days.
PORTAL_INVITATION_DAYS = int(os.environ.get("PORTAL_INVITATION_DAYS", "7"))

EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "AI GPU 배분 포털 <noreply@gpu-portal.example.kr>")
PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000")

# Login lockout (django-axes): after PORTAL_LOGIN_FAILURE_LIMIT wrong passwords for one account,
# or from one address, logins for it are refused for PORTAL_LOGIN_LOCKOUT_MINUTES; an MSIT admin
# can unlock sooner in the Django admin. Every lockout and unlock is an audit event.
AXES_FAILURE_LIMIT = int(os.environ.get("PORTAL_LOGIN_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = dt.timedelta(minutes=int(os.environ.get("PORTAL_LOGIN_LOCKOUT_MINUTES", "30")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "allocation_portal.accounts.lockout_response"
AXES_CLIENT_IP_CALLABLE = "allocation_portal.throttles.client_ip"
AXES_ENABLE_ADMIN = False  # the portal's admin site registers the attempts itself
AXES_DISABLE_ACCESS_LOG = True  # failures are kept; successful logins are not logged twice

# Request rates (allocation_portal.throttles): the API by address for anonymous callers and by
# account for users; sign-ups by address.
PORTAL_THROTTLE_RATES = {
    "anon": os.environ.get("PORTAL_THROTTLE_ANON", "60/minute"),
    "user": os.environ.get("PORTAL_THROTTLE_USER", "600/minute"),
    "signup": os.environ.get("PORTAL_THROTTLE_SIGNUP", "5/hour"),
}
# API tokens last this many days from when they are issued or renewed.
PORTAL_API_TOKEN_DAYS = int(os.environ.get("PORTAL_API_TOKEN_DAYS", "90"))
# The privacy notice (개인정보 처리방침) people agree to at sign-up: its version and whom to ask.
PORTAL_PRIVACY_NOTICE_VERSION = os.environ.get("PORTAL_PRIVACY_NOTICE_VERSION", "2026-09")
PORTAL_PRIVACY_CONTACT = os.environ.get("PORTAL_PRIVACY_CONTACT", "privacy@gpu-portal.go.kr")

# The second factor (django-otp): MSIT admins and provider operators must enrol an authenticator app
# (TOTP) and give a code at every sign-in; anyone else may. There is no setting that turns the
# requirement off. Wrong codes are throttled per account by django-otp (the wait doubles with each
# failure in a row: 1 s, 2 s, 4 s, ...); every PORTAL_SECOND_FACTOR_FAILURE_BURST failures in a row are
# an audit event.
OTP_TOTP_ISSUER = os.environ.get("PORTAL_OTP_ISSUER", "GPU Portal MSIT")
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
PORTAL_SECOND_FACTOR_FAILURE_BURST = int(os.environ.get("PORTAL_SECOND_FACTOR_FAILURE_BURST", "5"))
PORTAL_RECOVERY_CODES = 10

# OpenID Connect single sign-on (mozilla-django-oidc, authorization code flow with PKCE). Off unless
# the issuer, the client id and the client secret are all set. The endpoints come from the issuer's
# /.well-known/openid-configuration unless set one by one. A sign-in is matched to an existing,
# active portal account by its verified e-mail (email_verified must be true), or by the claim named in
# PORTAL_OIDC_USERNAME_CLAIM matched to the portal username; no account is ever created.
PORTAL_OIDC_ISSUER = os.environ.get("PORTAL_OIDC_ISSUER", "").rstrip("/")
OIDC_RP_CLIENT_ID = os.environ.get("PORTAL_OIDC_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = os.environ.get("PORTAL_OIDC_CLIENT_SECRET", "")
OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ.get("PORTAL_OIDC_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = os.environ.get("PORTAL_OIDC_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = os.environ.get("PORTAL_OIDC_USERINFO_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = os.environ.get("PORTAL_OIDC_JWKS_ENDPOINT", "")
OIDC_RP_SIGN_ALGO = os.environ.get("PORTAL_OIDC_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = os.environ.get("PORTAL_OIDC_SCOPES", "openid email profile")
PORTAL_OIDC_USERNAME_CLAIM = os.environ.get("PORTAL_OIDC_USERNAME_CLAIM", "")
# The button's words on the login page (e.g. the ministry's sign-in service); a default otherwise.
PORTAL_OIDC_PROVIDER_NAME = os.environ.get("PORTAL_OIDC_PROVIDER_NAME", "")
OIDC_USE_PKCE = True
OIDC_PKCE_CODE_CHALLENGE_METHOD = "S256"
OIDC_USE_NONCE = True
OIDC_CREATE_USER = False
OIDC_TIMEOUT = int(os.environ.get("PORTAL_OIDC_TIMEOUT_SECONDS", "10"))
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc_authentication_callback"
OIDC_REDIRECT_REQUIRE_HTTPS = PORTAL_HTTPS

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so an anonymous API call is answered 401 with a WWW-Authenticate header.
        "allocation_portal.accounts.ExpiringTokenAuthentication",
        # A browser's session, refused for an account whose second factor is still to be given.
        "allocation_portal.second_factor.SessionAuthentication",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "allocation_portal.throttles.AnonThrottle",
        "allocation_portal.throttles.UserThrottle",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PARSER_CLASSES": [
        "allocation_portal.parsers.JSONObjectParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "allocation_portal.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "allocation_portal.schema.PortalAutoSchema",
    "EXCEPTION_HANDLER": "allocation_portal.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "National AI GPU Allocation Portal API",
    "DESCRIPTION": "Allocation, monthly usage checks, reclamation and redistribution of the "
    "government's B200 GPUs for Korea's 2026 national AI projects.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema describes the API, not its data: public, so ministries can build clients.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI is served from this site, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ComplianceEnum": "allocation_portal.models.Compliance",
        "ReportStateEnum": "monitoring.models.ReportState",
        "CaseStateEnum": "monitoring.models.CaseState",
        "ProposalStateEnum": "monitoring.models.ProposalState",
        "LoanRequestStateEnum": "lending.models.RequestState",
        "LoanStateEnum": "lending.models.LoanState",
        "GpuRequestStateEnum": "projects.models.GpuRequestState",
        "CallKindEnum": "calls.models.CallKind",
        "CallProposalStateEnum": "calls.models.ProposalState",
    },
}

# Celery: Redis by default; the run command's embedded mode uses kombu's filesystem transport so
# that a fresh machine needs no broker server.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = Path(os.environ.get("CELERY_FILESYSTEM_DIR", BASE_DIR / "var" / "celery"))
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "queue"),
        "data_folder_out": str(_queue_dir / "queue"),
        "processed_folder": str(_queue_dir / "processed"),
        "control_folder": str(_queue_dir / "control"),
        "store_processed": False,
    }
else:
    # A task whose worker dies before acknowledging it goes back to the queue after this long
    # (Redis transport); the monthly check run it started is then taken over (CHECK_RUN_STALE_SECONDS).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "1800"))}
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
# A monthly check run that has made no progress for this long was left by a worker that died.
CHECK_RUN_STALE_SECONDS = int(os.environ.get("CHECK_RUN_STALE_SECONDS", "300"))
# What-if simulations (outcomes.simulation_runner) waiting or running at once; a run still "running"
# this many hours after it was asked for was left by a worker that died and no longer counts.
PORTAL_SIMULATIONS_AT_ONCE = int(os.environ.get("PORTAL_SIMULATIONS_AT_ONCE", "2"))
PORTAL_SIMULATION_STALE_HOURS = int(os.environ.get("PORTAL_SIMULATION_STALE_HOURS", "3"))
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BEAT_SCHEDULE_FILENAME = os.environ.get(
    "CELERY_BEAT_SCHEDULE_FILENAME", str(BASE_DIR / "var" / "celerybeat-schedule")
)
# The schedule is declared once, here, in KST (CELERY_TIMEZONE).
CELERY_BEAT_SCHEDULE: dict = {
    "review-reminders": {
        # Reviewers whose review is due within three days, or overdue, at 09:00 KST.
        "task": "calls.tasks.send_review_reminders",
        "schedule": crontab(hour=9, minute=5),
    },
    "report-reminders": {
        "task": "monitoring.tasks.send_report_reminders",
        "schedule": crontab(hour=9, minute=0),
    },
    "monthly-reclamation-check": {
        # The 6th of each month at 09:00 KST, for the month before.
        "task": "monitoring.tasks.run_monthly_check",
        "schedule": crontab(day_of_month=6, hour=9, minute=0),
    },
    "resume-stale-checks": {
        # A monthly check left unfinished by a worker that died is finished here.
        "task": "monitoring.tasks.resume_stale_checks",
        "schedule": crontab(minute="*/15"),
    },
    "redistribution-proposals": {
        "task": "monitoring.tasks.propose_redistribution",
        "schedule": crontab(hour=10, minute=0),
    },
    "delayed-project-flags": {
        "task": "monitoring.tasks.flag_delayed_projects",
        "schedule": crontab(hour=8, minute=30),
    },
    "telemetry-pull": {
        # Yesterday's GPU telemetry from each provider whose Prometheus address is set.
        "task": "metering.tasks.pull_telemetry",
        "schedule": crontab(hour=3, minute=30),
    },
    "outcome-months": {
        # Ended months whose figures changed (or the month that just ended) are computed and kept,
        # before anyone opens the outcomes dashboard in the morning.
        "task": "outcomes.tasks.keep_outcome_months",
        "schedule": crontab(hour=4, minute=0),
    },
    "loans-tick": {
        "task": "lending.tasks.tick_loans",
        "schedule": crontab(minute="*/15"),
    },
    "loan-offers-lapse": {
        # An offer's GPUs go back to the pool within five minutes of its lapse time.
        "task": "lending.tasks.lapse_offers",
        "schedule": crontab(minute="*/5"),
    },
    "notification-emails": {
        # Catches notices whose e-mail failed or whose on-commit enqueue was lost.
        "task": "allocation_portal.tasks.send_pending_notification_emails",
        "schedule": crontab(minute="*/10"),
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
