"""Errors the engine raises for bad input; each carries a message meant for a person."""

from __future__ import annotations

from collections.abc import Iterable


class VMemError(Exception):
    """Base class of every error the engine raises on purpose.

    It crosses process boundaries whole (a cell computed in another process raises the same
    error, fields included): pickled as its class, ``args`` and attributes, not by calling
    ``__init__`` again with ``args`` (which would lose the fields)."""

    def __reduce__(self) -> tuple:
        return (_blank_error, (type(self), self.args), self.__dict__)


def _blank_error(cls: type[VMemError], args: tuple) -> VMemError:
    error = cls.__new__(cls)
    error.args = args
    return error


class ConfigError(VMemError):
    """An impossible or malformed configuration. ``field`` names the offending setting
    (``tiers[0].capacity_tokens``, ``phases[1].alpha``…).

    A validation that looks at every setting raises one ``ConfigError`` holding *all* the
    problems it found in :attr:`errors` (each a ``ConfigError`` with its own field); then
    ``field`` and ``message`` are the first one's, so code that shows one error still can.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        self.message = message
        self.errors: tuple[ConfigError, ...] = (self,)
        super().__init__(f"{field}: {message}" if field else message)

    @classmethod
    def of(cls, errors: Iterable[ConfigError]) -> ConfigError:
        """One error standing for several (flattened; at least one is needed)."""
        flat = [leaf for error in errors for leaf in error.errors]
        if len(flat) == 1:
            return flat[0]
        first = flat[0]
        combined = cls(first.message, first.field)
        combined.errors = tuple(flat)
        combined.args = ("; ".join(str(error) for error in flat),)
        return combined

    def within(self, prefix: str | None) -> ConfigError:
        """The same problems with their fields under ``prefix`` (``tiers[0]`` + ``policy``
        → ``tiers[0].policy``); a problem without a field becomes ``prefix`` itself."""
        if not prefix:
            return self
        return ConfigError.of(
            ConfigError(error.message, join_field(prefix, error.field)) for error in self.errors
        )


def join_field(prefix: str | None, field: str | None) -> str | None:
    """``join_field("tiers[0]", "policy")`` → ``"tiers[0].policy"``; an index joins without a
    dot (``"phases"`` + ``"[1]"``)."""
    if not prefix:
        return field
    if not field:
        return prefix
    return f"{prefix}{field}" if field.startswith("[") else f"{prefix}.{field}"


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


class Stopped(VMemError):
    """A computation that stopped before its end because its caller asked it to (a server
    shutting down). Nothing it computed is kept."""


class TimeLimitExceeded(Stopped):
    """A computation that ran past the time its caller allowed it."""
