"""Settings shared by every environment (dev, test, prod).

Environment variables:
- ``VMEM_DATA_DIR``: where the lab keeps its data (SQLite database, tiktoken cache, uploads);
  default ``<repo>/data``.
- ``DATABASE_URL``: a database URL (PostgreSQL at scale); default SQLite in the data folder.
- ``REDIS_URL``: switches the channel layer to Redis and the Celery broker to Redis.
- ``VMEM_MAX_TRACE_BYTES``: the largest trace upload accepted, in bytes (default 200 MB);
  checked while the upload streams, on the file as sent and on its decompressed text.
- ``VMEM_MAX_TRACE_ACCESSES`` (5 million), ``VMEM_MAX_TRACE_PAGES`` (1 million distinct),
  ``VMEM_MAX_TRACE_GZIP_RATIO`` (100), ``VMEM_TRACE_VALIDATION_SECONDS`` (120),
  ``VMEM_TRACE_VALIDATIONS_AT_ONCE`` (2 per process): the other bounds of an upload.
- ``VMEM_STATIC_ROOT``: where ``collectstatic`` puts the static files (default
  ``<repo>/staticfiles``).
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent

DATA_DIR = Path(os.environ.get("VMEM_DATA_DIR") or BASE_DIR / "data").resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

REDIS_URL = os.environ.get("REDIS_URL", "")

INSTALLED_APPS = [
    # First, so that `manage.py runserver` is Daphne's (ASGI, websockets).
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_htmx",
    "vmemsite.runs",
    "vmemsite.traces",
    "vmemsite.sweeps",
    "vmemsite.accounts",
    "vmemsite.chat",
    "vmemsite.teach",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "vmemsite.urls"

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

WSGI_APPLICATION = "vmemsite.wsgi.application"
ASGI_APPLICATION = "vmemsite.asgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{DATA_DIR / 'db.sqlite3'}",
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Runs write their windows from runner threads while pages read: WAL lets readers and the
    # one writer proceed together, and a busy timeout makes writers wait instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

#: channels-redis waits for a consumer's next message with a blocking pop of this many seconds
CHANNELS_REDIS_BLOCKING_POP_S = 5


def redis_channel_layer(url: str, prefix: str) -> dict:
    """The channels-redis layer on ``url``. Its connections read with a timeout well above the
    layer's blocking pop: redis-py's default (5 s) equals the pop, so an idle consumer's read
    could time out just before Redis answered, and the TimeoutError closed its websocket with
    1011."""
    return {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [{"address": url,
                              "socket_timeout": 3 * CHANNELS_REDIS_BLOCKING_POP_S,
                              "socket_connect_timeout": CHANNELS_REDIS_BLOCKING_POP_S}],
                   "prefix": prefix},
    }


if REDIS_URL:
    # VMEM_REDIS_PREFIX keeps several labs (or test runs) on one Redis apart
    CHANNEL_LAYERS = {"default": redis_channel_layer(
        REDIS_URL, os.environ.get("VMEM_REDIS_PREFIX", "asgi"))}
else:
    # One process only: fine for the embedded default (docs/architecture.md §4).
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Where runs execute (docs/architecture.md §4): "local" = a thread pool inside the server process
# (LocalRunner), "celery" = Celery workers (CeleryRunner). Default: celery when REDIS_URL is set.
# Either way vmemsite/runs/executor.py executes them (docs/architecture.md §10).
VMEM_RUNNER = os.environ.get("VMEM_RUNNER", "celery" if REDIS_URL else "local")
# Threads of the LocalRunner: runs executing (or paused) at once in the server process.
VMEM_LOCAL_WORKERS = int(os.environ.get("VMEM_LOCAL_WORKERS", "4"))
# Threads answering chat turns and playing scripted sessions in the server process (chat app).
VMEM_CHAT_WORKERS = int(os.environ.get("VMEM_CHAT_WORKERS", "2"))
# Live work (runs, chats) is heartbeated every VMEM_HEARTBEAT_S seconds by the process holding
# it; work whose heartbeat is older than VMEM_STALE_S has no live process behind it and is
# marked interrupted (vmemsite/live/workers.py).
VMEM_HEARTBEAT_S = float(os.environ.get("VMEM_HEARTBEAT_S", "5"))
VMEM_STALE_S = float(os.environ.get("VMEM_STALE_S", "30"))

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "simulator:home"
LOGOUT_REDIRECT_URL = "simulator:home"

# Celery (read by vmemsite/celery.py with the CELERY_ namespace).
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("VMEM_CELERY_QUEUE", "celery")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A task is acknowledged when it returns (runs.tasks: acks_late): one a dead worker had taken
# comes back after this many seconds; a run that had started is marked interrupted by the
# sweep long before (VMEM_STALE_S), so a late copy finds it done and does nothing.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 600}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Static files: our own CSS/JS in static/; htmx from django-htmx's app static files; plotly.min.js
# straight from the installed plotly wheel through a finder (no CDN, no copies in the repo).
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("VMEM_STATIC_ROOT") or BASE_DIR / "staticfiles").resolve()
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "vmemsite.runs.staticfinders.PlotlyFinder",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Trace uploads (traces app). The upload is streamed: Django spools request bodies and uploaded
# files larger than FILE_UPLOAD_MAX_MEMORY_SIZE to temporary files (never whole in memory), and
# traces.services reads them line by line, stopping with a clear message past
# VMEM_MAX_TRACE_BYTES. DATA_UPLOAD_MAX_MEMORY_SIZE bounds the non-file part of a request
# (form fields, JSON bodies); trace bodies sent raw to the API are read as a stream and do not
# count against it.
VMEM_MAX_TRACE_BYTES = int(os.environ.get("VMEM_MAX_TRACE_BYTES") or 200 * 1000 * 1000)
# The other bounds of an upload's validation (docs/traces.md "Limits"; traces.services).
VMEM_MAX_TRACE_ACCESSES = int(os.environ.get("VMEM_MAX_TRACE_ACCESSES") or 5_000_000)
VMEM_MAX_TRACE_PAGES = int(os.environ.get("VMEM_MAX_TRACE_PAGES") or 1_000_000)
VMEM_MAX_TRACE_GZIP_RATIO = int(os.environ.get("VMEM_MAX_TRACE_GZIP_RATIO") or 100)
VMEM_TRACE_VALIDATION_SECONDS = float(os.environ.get("VMEM_TRACE_VALIDATION_SECONDS") or 120)
VMEM_TRACE_VALIDATIONS_AT_ONCE = int(os.environ.get("VMEM_TRACE_VALIDATIONS_AT_ONCE") or 2)
# A server-side import (manage.py load_sample_traces --large): traces too large for a form,
# with the same checks and larger bounds (docs/traces.md "Server-side import").
VMEM_IMPORT_MAX_BYTES = int(os.environ.get("VMEM_IMPORT_MAX_BYTES") or 50 * 1000**3)
VMEM_IMPORT_MAX_ACCESSES = int(os.environ.get("VMEM_IMPORT_MAX_ACCESSES") or 1_000_000_000)
VMEM_IMPORT_MAX_PAGES = int(os.environ.get("VMEM_IMPORT_MAX_PAGES") or 5_000_000)
VMEM_IMPORT_SECONDS = float(os.environ.get("VMEM_IMPORT_SECONDS") or 6 * 3600)
# The folder staff may import from over the API (POST /api/traces/import); unset: no import.
VMEM_TRACE_IMPORT_DIR = os.environ.get("VMEM_TRACE_IMPORT_DIR", "")
# A trace's analysis (docs/traces.md "Analysis"): inline after the upload up to this many
# requests, else a background job; jobs at once per server process; a job's time bound.
VMEM_TRACE_ANALYSIS_INLINE = int(os.environ.get("VMEM_TRACE_ANALYSIS_INLINE") or 200_000)
VMEM_TRACE_ANALYSES_AT_ONCE = int(os.environ.get("VMEM_TRACE_ANALYSES_AT_ONCE") or 1)
VMEM_TRACE_ANALYSIS_SECONDS = float(os.environ.get("VMEM_TRACE_ANALYSIS_SECONDS") or 600)
# Sweeps in the embedded default: processes of the pool (0: one per core; docs/sweeps.md).
VMEM_SWEEP_PROCESSES = int(os.environ.get("VMEM_SWEEP_PROCESSES") or 0)
# A sweep cell's time bound (seconds): a cell past it fails and says why.
VMEM_SWEEP_CELL_SECONDS = float(os.environ.get("VMEM_SWEEP_CELL_SECONDS") or 600)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "{asctime} {levelname} {name}: {message}", "style": "{"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "vmemsite": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "simulator": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
