"""Test settings (pytest-django: see [tool.pytest.ini_options] in pyproject.toml)."""

import os
import tempfile
from pathlib import Path

from .dev import *  # noqa: F403

ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]", "testserver"]

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if not os.environ.get("DATABASE_URL"):
    # A file, not ":memory:": runs execute in runner threads while tests read and control
    # them, and SQLite's shared-cache memory databases lock whole tables (no busy timeout).
    # WAL + a busy timeout let the threads take turns, as in the lab itself.
    _test_db = Path(tempfile.gettempdir()) / f"vmem-test-{os.getpid()}.sqlite3"
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(_test_db),
            "TEST": {"NAME": str(_test_db)},
            "OPTIONS": {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;",
            },
        }
    }

# pytest-django runs with DEBUG=False; serve static files from the finders under their plain
# names anyway (no collectstatic before tests; the browser tests' servers use the dev settings).
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# The ASGI app's first connection starts the sweep for runs and chats a dead process left behind
# (vmemsite/live/workers.py); the consumer tests drive that app in the test process, where a
# background sweep would only race the tests' own database. tests/web/test_recovery.py turns it
# on where it is the subject.
VMEM_RECOVER_RUNS = False
