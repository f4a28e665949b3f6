"""Small number filters for the library pages (django.contrib.humanize is not installed)."""

from __future__ import annotations

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from vmemsite.traces.services import human_bytes

register = template.Library()


@register.filter
def thousands(value: object) -> str:
    """``1234567`` → ``1,234,567``; anything that is not a number is shown as is."""
    try:
        return f"{int(value):,}"  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return str(value)


@register.filter
def percent(part: object, whole: object) -> str:
    """``part / whole`` as a percentage with one decimal, or an en dash if undefined."""
    try:
        share = float(part) / float(whole)  # type: ignore[arg-type]
    except (TypeError, ValueError, ZeroDivisionError):
        return "\u2013"
    return f"{share:.1%}"


@register.filter
def filesize(value: object) -> str:
    try:
        return human_bytes(int(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return str(value)


@register.filter
def zip_pairs(first: list, second: list) -> list[tuple]:
    """``a|zip_pairs:b`` → ``[(a0, b0), (a1, b1), ...]``."""
    return list(zip(first, second, strict=False))


_BACKTICKS = re.compile(r"`([^`]+)`")


@register.filter
def inline_code(text: str) -> SafeString:
    """Escape ``text`` and show its `backtick` spans as <code> (OpenAPI descriptions)."""
    return mark_safe(_BACKTICKS.sub(r"<code>\1</code>", escape(text)))
