"""A staticfiles finder that serves plotly.js from the installed plotly wheel.

The ``plotly`` Python package ships the browser bundle at ``plotly/package_data/plotly.min.js``.
This finder exposes it as the static path ``vendor/plotly.min.js``: no CDN, no copy in the repo,
and the version always matches the installed package. It works with ``findstatic``,
``collectstatic`` (the storage carries the ``vendor`` prefix), runserver and WhiteNoise.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from django.contrib.staticfiles import utils
from django.contrib.staticfiles.finders import BaseFinder, searched_locations
from django.core.checks import Error
from django.core.files.storage import FileSystemStorage

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
