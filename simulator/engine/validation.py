"""Checks of settings with field-named errors, for the engine and for code built on it
(the memory package's pricing profiles and cost model validate their numbers the same way)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .errors import ConfigError

#: the largest magnitude a setting may have (beyond it, an int cannot even become a float)
LARGEST = 2**63 - 1


def number(value: Any, name: str, *, minimum: float = 0.0, integer: bool = False) -> Any:
    """``value`` as an int (``integer``) or float, or a :class:`ConfigError` on ``name``: not a
    number (booleans are not), not finite, beyond :data:`LARGEST`, or below ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        kind = "an integer" if integer else "a number"
        raise ConfigError(f"expected {kind}, got {value!r}", field=name)
    if isinstance(value, int) and abs(value) > LARGEST:
        raise ConfigError(f"must be at most {LARGEST:,} in size", field=name)
    if integer and not float(value).is_integer():
        raise ConfigError(f"expected an integer, got {value!r}", field=name)
    if not math.isfinite(value):
        raise ConfigError(f"must be finite, got {value!r}", field=name)
    if value < minimum:
        raise ConfigError(f"must be at least {minimum:g}, got {value!r}", field=name)
    return int(value) if integer else float(value)


# --- collecting every problem --------------------------------------------------------------

#: what :meth:`Problems.check` returns for a value that did not pass
INVALID: Any = type("_Invalid", (), {"__repr__": lambda self: "INVALID"})()


class Problems:
    """Collects :class:`ConfigError` s so that one validation reports every bad field:
    ``value = problems.check(param.check, raw, field)`` gives :data:`INVALID` (and remembers
    the error) instead of raising; :meth:`raise_any` raises them all as one error."""

    def __init__(self) -> None:
        self.errors: list[ConfigError] = []

    def check(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except ConfigError as exc:
            self.errors.append(exc)
            return INVALID

    def add(self, message: str, field: str | None = None) -> None:
        self.errors.append(ConfigError(message, field))

    def fields(self) -> set[str | None]:
        return {leaf.field for error in self.errors for leaf in error.errors}

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_any(self, prefix: str | None = None) -> None:
        if self.errors:
            raise ConfigError.of(self.errors).within(prefix)
