"""A provider by name (``embedded``, ``http``, ``scripted``): the one module that knows every
provider, so the providers' shared types (:mod:`.providers`) import none of them."""

from __future__ import annotations

from typing import Any

from .embedded import EmbeddedProvider
from .openai_http import HTTPProvider
from .providers import Provider, ProviderError, ScriptedProvider


def make_provider(name: str, **options: Any) -> Provider:
    """``embedded``, ``http`` or ``scripted`` (options go to the provider's constructor)."""
    key = (name or "").strip().lower()
    if key == "embedded":
        return EmbeddedProvider(**options)
    if key in ("http", "openai"):
        return HTTPProvider.from_env(**options)
    if key == "scripted":
        return ScriptedProvider(**options)
    raise ProviderError("bad_request",
                        f"unknown provider {name!r}; use embedded, http or scripted")
