"""Production settings. Everything secret or site-specific comes from the environment.

Required: ``DJANGO_SECRET_KEY``, ``DJANGO_ALLOWED_HOSTS`` (comma-separated).
Optional: ``DJANGO_CSRF_TRUSTED_ORIGINS`` (comma-separated, with scheme),
``DJANGO_SECURE_SSL_REDIRECT`` (default 1; set 0 when a proxy already redirects),
``DJANGO_SECURE_HSTS_SECONDS`` (default one year), ``DJANGO_BEHIND_PROXY`` (1 to trust the
proxy's ``X-Forwarded-Proto`` header), plus ``DATABASE_URL`` / ``REDIS_URL`` / ``VMEM_DATA_DIR``.

Static files: run ``manage.py collectstatic`` at deploy, before anything else; WhiteNoise serves
the compressed, hashed files from ``STATIC_ROOT`` (``VMEM_STATIC_ROOT``). Until it has run, the
system checks and the server's start fail with a message that says so (no page of 500s).
"""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403


def _required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"Set the {name} environment variable for production.")
    return value


def _list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = False
SECRET_KEY = _required("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = [host.strip() for host in _required("DJANGO_ALLOWED_HOSTS").split(",")]
CSRF_TRUSTED_ORIGINS = _list("DJANGO_CSRF_TRUSTED_ORIGINS")

SECURE_SSL_REDIRECT = _flag("DJANGO_SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", 31_536_000))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
if _flag("DJANGO_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "vmemsite.runs.staticfinders.CompressedManifestStorage"},
}
