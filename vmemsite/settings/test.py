"""Test settings (pytest-django: see [tool.pytest.ini_options] in pyproject.toml)."""

import os

from .dev import *  # noqa: F403

ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]", "testserver"]

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if not os.environ.get("DATABASE_URL"):
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

# pytest-django runs with DEBUG=False; keep serving static files from the finders anyway.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
