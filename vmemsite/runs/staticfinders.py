"""Static files: where plotly.js comes from, how collected files are stored, and the check
that they were collected.

* :class:`PlotlyFinder` serves plotly.js from the installed plotly wheel. The ``plotly`` Python
  package ships the browser bundle at ``plotly/package_data/plotly.min.js``; the finder exposes
  it as the static path ``vendor/plotly.min.js``: no CDN, no copy in the repo, and the version
  always matches the installed package. It works with ``findstatic``, ``collectstatic`` (the
  storage carries the ``vendor`` prefix), runserver and WhiteNoise.
* :class:`CompressedManifestStorage` is WhiteNoise's compressed manifest storage (hashed names,
  gzip beside each file, served with long-lived cache headers) that compresses only the files
  that changed, so ``collectstatic`` takes a moment when nothing did.
* :func:`check_static_collected` is a system check: with a manifest storage, the manifest must
  exist, or every page would be a 500. The server's start runs it too
  (:func:`fail_unless_static_collected`).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import utils
from django.contrib.staticfiles.finders import BaseFinder, searched_locations
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage, storages
from whitenoise.compress import brotli_installed
from whitenoise.storage import CompressedManifestStaticFilesStorage

PREFIX = "vendor"
FILES = ("plotly.min.js",)


def plotly_package_data() -> Path | None:
    """The ``package_data`` folder of the installed plotly package, or None."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "package_data"


class PlotlyFinder(BaseFinder):
    """Finds ``vendor/plotly.min.js`` in the installed plotly wheel."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.location = plotly_package_data()
        self.storage = None
        if self.location is not None:
            self.storage = FileSystemStorage(location=str(self.location))
            self.storage.prefix = PREFIX

    def check(self, **kwargs) -> list[Error]:
        if self.location is None or not all((self.location / f).is_file() for f in FILES):
            return [
                Error(
                    "plotly's bundled plotly.min.js was not found.",
                    hint="Install the project's dependencies (make setup).",
                    obj=self,
                    id="simulator.E001",
                )
            ]
        return []

    def find(self, path: str, find_all: bool = False, **kwargs):
        if kwargs:  # Django 5.2 still accepts the deprecated `all=` spelling
            find_all = self._check_deprecated_find_param(find_all=find_all, **kwargs)
        if self.location is None:
            return [] if find_all else None
        searched_locations.append(str(self.location))
        prefix = PREFIX + "/"
        name = path.replace("\\", "/")
        if name.startswith(prefix) and name[len(prefix) :] in FILES:
            match = self.location / name[len(prefix) :]
            if match.is_file():
                return [str(match)] if find_all else str(match)
        return [] if find_all else None

    def list(self, ignore_patterns):
        if self.storage is None:
            return
        for name in FILES:
            if utils.matches_patterns(name, ignore_patterns or []):
                continue
            if self.storage.exists(name):
                yield name, self.storage


class CompressedManifestStorage(CompressedManifestStaticFilesStorage):
    """WhiteNoise's ``CompressedManifestStaticFilesStorage``, compressing only what changed.

    A hashed name says its content, so its ``.gz`` (and ``.br``), once written, is never stale
    (Django writes some hashed files again on every run: their compressed copies stay right).
    A plain name is copied again only when its source changed, and WhiteNoise gives each
    compressed file the modification time of its source: the same time means up to date.
    """

    def compress_files(self, paths: Iterable[str]) -> Iterator[tuple[str, str]]:
        hashed = set(self.hashed_files.values())
        return super().compress_files(
            [p for p in paths if not self._compressed_already(p, p in hashed)])

    def _compressed_already(self, name: str, hashed: bool) -> bool:
        path = self.path(name)
        try:
            source = os.stat(path).st_mtime
            compressed = [os.stat(path + suffix).st_mtime for suffix in _SUFFIXES]
        except FileNotFoundError:
            return False
        return hashed or all(mtime == source for mtime in compressed)


_SUFFIXES = (".gz", ".br") if brotli_installed else (".gz",)
STATIC_CHECK_TAG = "vmem_static"


@register(STATIC_CHECK_TAG)
def check_static_collected(app_configs=None, **kwargs) -> list[Error]:
    """With a manifest storage (the lab without ``VMEM_DEBUG``, production), the static
    files must have been collected: every page names them through the manifest."""
    if not isinstance(storages["staticfiles"], ManifestFilesMixin):
        return []
    manifest = Path(settings.STATIC_ROOT) / ManifestFilesMixin.manifest_name
    if manifest.is_file():
        return []
    return [Error(
        f"The static files have not been collected: {manifest} is missing, so every page "
        "would fail.",
        hint="Run `manage.py collectstatic --noinput` (make run does), or set VMEM_DEBUG=1 "
             "to serve them from their sources while developing.",
        id="simulator.E002",
    )]


def fail_unless_static_collected() -> None:
    """Refuse to start a server whose pages would all be 500s (called by vmemsite.asgi)."""
    errors = check_static_collected()
    if errors:
        raise ImproperlyConfigured(f"{errors[0].msg} {errors[0].hint}")
