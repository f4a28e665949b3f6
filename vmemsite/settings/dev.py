"""The lab on one machine: `make run`, `manage.py` and the browser tests' servers use these.

What a user starts with one command shows no debug pages: a missing page is the lab's own 404,
an error its own 500, and static files are served compressed, under hashed names, with
long-lived cache headers (WhiteNoise's compressed manifest storage; `make run` collects them
first, which is quick when nothing changed). The manifest's location is ``VMEM_STATIC_ROOT``
(default ``<repo>/staticfiles``).

``VMEM_DEBUG=1`` turns on the development conveniences: Django's debug pages (tracebacks, the
URL list on a 404) and static files served straight from the finders (our ``static/``,
django-htmx's app files, the plotly wheel) with changes picked up on reload, no collectstatic.
Never with a server others can reach.

``DJANGO_SECRET_KEY`` sets the secret key; without it one is made on first start and kept in
the data folder (``secret_key``), so sessions survive restarts and no key is shared by installs.
"""

import os
import secrets
from pathlib import Path

from .base import *  # noqa: F403
from .base import DATA_DIR, STORAGES


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _local_secret_key(data_dir: Path) -> str:
    """This install's secret key, made once and kept in ``data_dir`` (readable by its owner
    only). Two processes starting together agree: the first to link its file wins."""
    path = data_dir / "secret_key"
    if not path.exists():
        draft = data_dir / f".secret_key.{os.getpid()}"
        draft.write_text(secrets.token_urlsafe(50))
        draft.chmod(0o600)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


DEBUG = _flag("VMEM_DEBUG")
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "").strip() or _local_secret_key(DATA_DIR)
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]"]

if DEBUG:
    WHITENOISE_USE_FINDERS = True
    WHITENOISE_AUTOREFRESH = True
else:
    STORAGES = {
        **STORAGES,
        "staticfiles": {"BACKEND": "vmemsite.runs.staticfinders.CompressedManifestStorage"},
    }
