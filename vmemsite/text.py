"""Checks of text a user names things with, shared by every app that stores a name."""

from __future__ import annotations

import unicodedata


def has_control_characters(text: str) -> bool:
    """NUL and other control characters (which PostgreSQL's text refuses, or which hide in a
    page), or lone surrogates (which are not text at all)."""
    return any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text)
