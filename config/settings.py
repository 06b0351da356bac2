"""Dialdeck settings: one file, every knob from the environment.

Each helper below refuses values it cannot understand and names the variable,
so a typo fails at start instead of silently running with a default; nothing is
read from the environment any other way. Secrets may also be given as
``<NAME>_FILE`` pointing at a file. Importing the settings writes nothing: the
folders and the development key of the embedded defaults are made by
``manage.py prepare_local`` (``make run`` and ``make test`` run it first).
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from cryptography.fernet import Fernet
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    """The variable's value, or the contents of the file named by ``<name>_FILE``."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {file_name}: {exc}") from exc
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in ("true", "1"):
        return True
    if raw in ("false", "0"):
        return False
    raise ImproperlyConfigured(f"{name} must be true, false, 1 or 0, not {raw!r}")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name, "").strip()
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def env_float(name: str, default: float) -> float:
    """A number greater than 0 (every float setting is a duration or a scale)."""
    raw = os.environ.get(name, "").strip()
    if raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from None
    if value <= 0:
        raise ImproperlyConfigured(f"{name} must be greater than 0, not {value}")
    return value


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# The embedded defaults' files: the SQLite database, the broker's folders, static files, beat's
# schedule and the development key. Made by `manage.py prepare_local`, never here.
VAR_DIR = Path(env_str("DIALDECK_VAR_DIR") or BASE_DIR / "var")
# The key `manage.py prepare_local` writes once for this machine when neither SECRET_KEY nor
# SECRET_KEY_FILE is set (`make run` and `make test`; and so every process they start shares it).
DEVELOPMENT_SECRET_KEY_FILE = VAR_DIR / "secret_key"


def _secret_key() -> str:
    """SECRET_KEY (or the file SECRET_KEY_FILE names), else the development key, if it was made.

    "" when there is none: commands that need no key (`prepare_local`, `migrate`) still run,
    Django refuses whatever needs one ("The SECRET_KEY setting must not be empty"), and the web
    process refuses to start (config/gunicorn.conf.py). Production sets SECRET_KEY or SECRET_KEY_FILE.
    """
    key = env_str("SECRET_KEY")
    if key:
        return key
    try:
        return DEVELOPMENT_SECRET_KEY_FILE.read_text().strip()
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise ImproperlyConfigured(f"SECRET_KEY: cannot read {DEVELOPMENT_SECRET_KEY_FILE}: {exc}") from exc


SECRET_KEY = _secret_key()

# The keys that encrypt provider credentials at rest (campaigns.credentials): comma-separated
# Fernet keys, the first encrypts, every one decrypts, so a new key goes first and the old ones
# stay until `manage.py rotate_credentials` has re-encrypted everything with it. Without the
# variable, the development keys `manage.py prepare_local` writes once into var/credentials_keys.
DEVELOPMENT_CREDENTIALS_KEYS_FILE = VAR_DIR / "credentials_keys"


def _credentials_keys() -> tuple[str, ...]:
    """DIALDECK_CREDENTIALS_KEYS (or its _FILE), else the development keys, if made; () when none:
    nothing encrypted can then be read or written (campaigns.credentials says so)."""
    raw = env_str("DIALDECK_CREDENTIALS_KEYS")
    if not raw:
        try:
            raw = DEVELOPMENT_CREDENTIALS_KEYS_FILE.read_text().strip()
        except FileNotFoundError:
            return ()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"DIALDECK_CREDENTIALS_KEYS: cannot read {DEVELOPMENT_CREDENTIALS_KEYS_FILE}: {exc}"
            ) from exc
    keys = tuple(key.strip() for key in raw.split(",") if key.strip())
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                f"DIALDECK_CREDENTIALS_KEYS: key {position} is not a Fernet key (32 url-safe base64 "
                "bytes; make one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')"
            ) from None
    return keys


CREDENTIALS_KEYS = _credentials_keys()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
# The public base URL providers use to reach our webhooks (e.g. https://dialer.example.com).
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
if urlsplit(SITE_URL).scheme not in ("http", "https"):
    raise ImproperlyConfigured(f"SITE_URL must be an http(s) URL, not {SITE_URL!r}")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "csp",
    "rest_framework",
    "drf_spectacular",
    "campaigns",
    "dialer",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outermost but one, so every answer gets the policy: static files and the 400s raised above views.
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Refused htmx forms answer 200 + HX-Refused (campaigns.views.refused).
    "campaigns.views.refused.HtmxRefusalMiddleware",
]

ROOT_URLCONF = "config.urls"
# Vapi's paths have no trailing slash (/campaign/{id}); never redirect to add one.
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"


def _databases() -> dict:
    url = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'dialdeck.sqlite3'}")
    prepared = env_bool("DATABASE_PREPARED_STATEMENTS", True)  # PostgreSQL only, checked everywhere
    try:
        db = dj_database_url.parse(url)
    except Exception as exc:  # dj-database-url raises several types for bad URLs
        raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {url!r} ({exc})") from None
    engine = db.get("ENGINE", "")
    if engine == "django.db.backends.sqlite3":
        if not db.get("NAME"):
            raise ImproperlyConfigured(f"DATABASE_URL names no SQLite file: {url!r}")
        # Measured here (research/stack.md §2): IMMEDIATE + WAL + a 20 s busy timeout gives
        # zero "database is locked" errors with a worker and web processes writing at once.
        db["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
        # Kept between requests, as on PostgreSQL: a new SQLite connection reads the whole schema
        # again at its first statement, which cost each webhook more than its insert did.
        db["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60)
        # Tests start real Celery workers in other processes, so the test database must be a
        # file; one per test process, so parallel runs never share one.
        db["TEST"] = {"NAME": str(VAR_DIR / f"test-dialdeck-{os.getpid()}.sqlite3")}
    elif engine in ("django.db.backends.postgresql",):
        if not db.get("NAME"):
            raise ImproperlyConfigured(f"DATABASE_URL names no database: {url!r}")
        db["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60)
        db["CONN_HEALTH_CHECKS"] = True
        # Django's own cursors bind parameters client-side and never prepare. On, the webhook
        # inbox insert (dialer.webhooks._store, which reads this threshold as its switch) is
        # prepared once per connection. Off behind a pooler that cannot keep prepared statements
        # (PgBouncer < 1.21 in transaction mode).
        db.setdefault("OPTIONS", {})["prepare_threshold"] = 2**31 if prepared else None
    else:
        raise ImproperlyConfigured(
            f"DATABASE_URL must be a sqlite:// or postgres:// URL, not {url.split(':', 1)[0]!r}"
        )
    return {"default": db}


DATABASES = _databases()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "campaigns:list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Notices by email (campaigns.services.notifications): printed to the console unless a backend is
# configured (django.core.mail.backends.smtp.EmailBackend with EMAIL_HOST, ...).
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "dialdeck@localhost")

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"  # made by collectstatic (and prepare_local)

# Uploads: the bulk import streams files; large ones go to disk, not memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 50 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Webhook bodies larger than this are refused (413) before parsing.
WEBHOOK_MAX_BYTES = env_int("WEBHOOK_MAX_BYTES", 1024 * 1024, minimum=1024)

# Production hardening: on when DEBUG is off and SECURE_SSL is true (behind HTTPS).
SECURE_SSL = env_bool("SECURE_SSL", False)
if SECURE_SSL:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp) on every response: our own origin only, no inline script or
# style unless it carries the request's nonce (request.csp_nonce), never framed. data: images are
# the icons inside Swagger UI's stylesheet (/api/docs); htmx's eval is off (templates/base.html).

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True

# DRF's rate syntax: a whole number, "/" and a period that DRF reads by its first letter.
_RATE = re.compile(r"[0-9]+/(s|secs?|seconds?|m|mins?|minutes?|h|hours?|d|days?)")


def _api_rate_limit() -> str:
    """API_RATE_LIMIT as DRF reads it ("6000/min"); anything DRF would misread or refuse at the
    first request (500) is refused here, at start."""
    rate = env_str("API_RATE_LIMIT").strip() or "6000/min"
    if not _RATE.fullmatch(rate) or int(rate.split("/")[0]) < 1:
        raise ImproperlyConfigured(
            "API_RATE_LIMIT must be requests per period, a whole number from 1 then /s, /min, /hour"
            f" or /day (e.g. 6000/min), not {rate!r}"
        )
    return rate


REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "campaigns.api.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["campaigns.api.auth.HasOrganization"],
    "DEFAULT_RENDERER_CLASSES": ["campaigns.api.renderers.FastJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "campaigns.api.parsers.VapiJSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "campaigns.api.errors.vapi_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_CLASSES": ["campaigns.api.auth.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_key": _api_rate_limit()},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Dialdeck API",
    "DESCRIPTION": (
        "Vapi-compatible Campaign API: `/campaign` (v1) and `/v2/campaign` (Vapi 2026: summaries "
        "with counters, contacts, campaign events, pre-dial checks), with Dialdeck's optional "
        "extensions: `dialingStrategy`, lifecycle endpoints, paginated customers and calls, bulk "
        "import, caller IDs and the do-not-call list."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
}

# Rate limits (login, API) count in this cache, which every web process must share: a cache of
# each process's own (LocMemCache) gives each gunicorn worker its own count, and so multiplies
# every limit by the number of workers. Embedded default: a table in the database
# (`manage.py createcachetable` makes it; `make run` does, and so does the test database).
# Several machines, or many requests: CACHE_URL=redis://...
CACHE_URL = env_str("CACHE_URL")
if CACHE_URL and CACHE_URL.split("://", 1)[0] not in ("redis", "rediss"):
    raise ImproperlyConfigured(f"CACHE_URL must be a redis:// URL, not {CACHE_URL!r}")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    if CACHE_URL
    else {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "dialdeck_cache",
        # Django's default of 300 entries culls a third of the table whenever it is full: some
        # 150 failed sign-ins would start wiping login counters. At 100,000 that takes hundreds
        # of addresses, each at its limit (a failure is two entries).
        "OPTIONS": {"MAX_ENTRIES": 100_000},
    },
    # Short-lived copies of what the dashboard's charts read (seconds): kept in each process's
    # memory unless Redis is there to share them; never worth a database write per page.
    "pages": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    if CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "dialdeck-pages"},
}
# Failed dashboard logins allowed per username (from every address together) per 15 minutes,
# and per client address (every username together): higher, so that one person mistyping
# behind an office proxy locks out their own username only (campaigns/login.py).
# Each allowed failure is one cache entry, and every attempt reads them all: at most 1000.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10, minimum=1)
if LOGIN_FAILURE_LIMIT > 1000:
    raise ImproperlyConfigured(f"LOGIN_FAILURE_LIMIT must be at most 1000, not {LOGIN_FAILURE_LIMIT}")
LOGIN_ADDRESS_FAILURE_LIMIT = env_int(
    "LOGIN_ADDRESS_FAILURE_LIMIT", min(10 * LOGIN_FAILURE_LIMIT, 1000), minimum=LOGIN_FAILURE_LIMIT
)
if LOGIN_ADDRESS_FAILURE_LIMIT > 1000:
    raise ImproperlyConfigured(
        f"LOGIN_ADDRESS_FAILURE_LIMIT must be at most 1000, not {LOGIN_ADDRESS_FAILURE_LIMIT}"
    )


def _trusted_proxies() -> tuple:
    """TRUSTED_PROXIES as ip_network objects; an entry that is no address or network is an error."""
    import ipaddress  # here, so this block stays self-contained

    networks = []
    for item in env_list("TRUSTED_PROXIES", ""):
        try:
            networks.append(ipaddress.ip_network(item))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"TRUSTED_PROXIES must list IP addresses or networks (e.g. 10.0.0.0/8), not {item!r} ({exc})"
            ) from None
    return tuple(networks)


# Your own reverse proxies / load balancers (comma-separated addresses or networks). From one
# of them, the client is the right-most X-Forwarded-For address that is not one of them
# (campaigns/clientaddr.py); from anyone else X-Forwarded-For is ignored. Empty: REMOTE_ADDR.
TRUSTED_PROXIES = _trusted_proxies()

# Celery. Embedded default: kombu's filesystem transport under var/ (no service needed).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.split("://", 1)[0] not in ("filesystem", "redis", "rediss", "amqp", "pyamqp"):
    raise ImproperlyConfigured(
        f"CELERY_BROKER_URL must be filesystem://, redis:// or amqp://, not {CELERY_BROKER_URL!r}"
    )


def filesystem_broker_transport(folder: Path) -> dict:
    """kombu's filesystem transport in `folder`, polling every 0.1 s (research/stack.md §2).

    Makes nothing; kombu makes none of these folders either: `manage.py prepare_local` does."""
    return {
        "control_folder": str(folder / "control"),
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "store_processed": False,
        "polling_interval": 0.1,
    }


def filesystem_broker_options(folder: Path) -> dict:
    """`filesystem_broker_transport(folder)`, its folders made (a test run's broker of its own)."""
    for sub in ("queue", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return filesystem_broker_transport(folder)


CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_transport(
        Path(env_str("CELERY_BROKER_DIR") or VAR_DIR / "broker")
    )
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "dialdeck")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_PREFETCH_MULTIPLIER = 4
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
DIALER_TICK_SECONDS = env_float("DIALER_TICK_SECONDS", 1.0)
# The queue that delivers campaign events to campaigns' own servers (dialer.outbound). Empty: the
# default queue, shared with the dialer. A campaign's server may take up to 300 s to answer: name
# a queue here and run a worker for it (celery worker -Q <name>) so slow receivers never hold up
# dialing.
CAMPAIGN_EVENTS_QUEUE = env_str("CAMPAIGN_EVENTS_QUEUE").strip()
CELERY_BEAT_SCHEDULE = {
    # A tick that waited 5 ticks for a worker is dropped (the next is a second behind): when a pass
    # takes longer than a tick (1,000 campaigns with customers due: bench_placement --campaigns),
    # ticks must not pile up in the queue ahead of the placements and recordings they cause.
    "dialer-tick": {
        "task": "dialer.tasks.tick",
        "schedule": DIALER_TICK_SECONDS,
        "options": {"expires": DIALER_TICK_SECONDS * 5},
    },
    # Asked every 5 s, run at most every 25 s (dialer.tasks.reap_stale_calls).
    "dialer-reap": {"task": "dialer.tasks.reap_stale_calls", "schedule": 5.0, "options": {"expires": 5.0}},
    "dialer-flush-events": {"task": "dialer.tasks.sweep_simulated", "schedule": 1.0},
    "dialer-webhooks": {"task": "dialer.tasks.record_webhooks", "schedule": 0.5},
    "dialer-series-runs": {"task": "dialer.tasks.make_series_runs", "schedule": 5.0},
    "dialer-alerts": {"task": "dialer.tasks.sweep_alerts", "schedule": 30.0, "options": {"expires": 30.0}},
    # A run drains a backlog for up to 5 s; one that waited 10 s for a worker is dropped (the
    # next beat's run takes the same events: they wait in the database).
    "dialer-campaign-events": {
        "task": "dialer.tasks.deliver_campaign_events",
        "schedule": 1.0,
        "options": {"expires": 10.0, **({"queue": CAMPAIGN_EVENTS_QUEUE} if CAMPAIGN_EVENTS_QUEUE else {})},
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Dialer knobs.
# Scales every simulated duration (0.02 turns a 60 s call into 1.2 s) for demos and tests.
SIMULATED_TIME_SCALE = env_float("SIMULATED_TIME_SCALE", 1.0)
# Extra seconds past ring time + max duration before the reaper asks the provider about a call.
DIALER_REAP_GRACE_SECONDS = env_int("DIALER_REAP_GRACE_SECONDS", 120)
# Timeout for HTTP requests to providers, seconds.
PROVIDER_HTTP_TIMEOUT = env_float("PROVIDER_HTTP_TIMEOUT", 10.0)
# Provider hosts allowed although private, loopback or link-local (tests, on-premise providers),
# comma-separated: localhost, vapi.internal:8443, 127.0.0.1:8123, [::1]:8123, 10.0.0.0/8.
# Syntax in campaigns/egress.py, whose parser refuses a malformed entry here, at start.
from campaigns.egress import allowed_hosts  # noqa: E402 (a module with no models: safe to import here)

PROVIDER_ALLOWED_HOSTS = allowed_hosts(env_list("PROVIDER_ALLOWED_HOSTS", ""))


def _log_level() -> str:
    """LOG_LEVEL, one of logging's level names, in any case."""
    raw = env_str("LOG_LEVEL")
    level = raw.strip().upper() or "INFO"
    if level not in logging.getLevelNamesMapping():
        raise ImproperlyConfigured(
            f"LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR or CRITICAL, not {raw!r}"
        )
    return level


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # A webhook's path carries its provider's token (/webhooks/<kind>/<token>): every record that
    # reaches our one handler is printed with /webhooks/<kind>/[redacted] instead (config/logfilters.py).
    "filters": {"redact_webhook_tokens": {"()": "config.logfilters.RedactWebhookTokens"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_webhook_tokens"],
        }
    },
    "root": {"handlers": ["console"], "level": _log_level()},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Django's default handlers (its console when DEBUG, mail_admins, runserver's request lines)
        # would print paths unfiltered: its records go through ours alone.
        "django": {"handlers": [], "propagate": True},
        "django.server": {"handlers": ["console"], "propagate": False},
    },
}
