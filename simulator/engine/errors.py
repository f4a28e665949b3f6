"""Errors the engine raises for bad input; each carries a message meant for a person."""

from __future__ import annotations


class VMemError(Exception):
    """Base class of every error the engine raises on purpose."""


class ConfigError(VMemError):
    """An impossible or malformed configuration. ``field`` names the offending setting."""

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)
        self.message = message


class TraceError(VMemError):
    """A malformed trace. ``line`` is 1-based in the file; ``field`` names the bad column."""

    def __init__(
        self, message: str, *, line: int | None = None, field: str | None = None,
        source: str | None = None,
    ) -> None:
        self.line = line
        self.field = field
        self.source = source
        self.message = message
        where = []
        if source:
            where.append(str(source))
        if line is not None:
            where.append(f"line {line}")
        if field:
            where.append(f"field '{field}'")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)
