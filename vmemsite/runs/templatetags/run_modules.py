"""``{% run_import_map %}``: the import map of the run page's ES modules.

``run.js`` imports its modules by relative path (``./run/charts.js``). With hashed static
names (the manifest storage) the browser would resolve those to the unhashed copies, which are
not cached for long and could mix a new module with an old one. The import map sends every
module's plain URL to its hashed one; with plain names (``VMEM_DEBUG=1``) it maps each to
itself.
"""

from __future__ import annotations

import json
from functools import cache

from django import template
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

#: the folder of the run page's modules, under the static root
MODULES = "js/run"


@cache
def module_names() -> tuple[str, ...]:
    """Static paths of the run page's modules (``js/run/charts.js``…), found once."""
    names: set[str] = set()
    for finder in finders.get_finders():
        for path, _storage in finder.list(None):
            path = path.replace("\\", "/")
            if path.startswith(MODULES + "/") and path.endswith(".js"):
                names.add(path)
    return tuple(sorted(names))


@register.simple_tag
def run_import_map() -> SafeString:
    from django.conf import settings

    prefix = settings.STATIC_URL if settings.STATIC_URL.startswith("/") else (
        "/" + settings.STATIC_URL)
    imports = {prefix + name: static(name) for name in module_names()}
    text = json.dumps({"imports": imports}).replace("</", "<\\/")
    return mark_safe(f'<script type="importmap">{text}</script>')
