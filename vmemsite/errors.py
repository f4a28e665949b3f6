"""One error vocabulary for the lab's services, and its one mapping to HTTP and websockets.

Services raise one of four kinds (HackSoft: the service decides, the edge only translates):

* :class:`Invalid` — bad input; ``field`` names it (``config.tiers[0].capacity_tokens``) and
  ``errors`` holds every problem found at once (each with its own field). 400;
  :class:`TooLarge` is the 413 case.
* :class:`NotFound` — no such thing, *or* one the caller may not see (the two look alike). 404
* :class:`Forbidden` — the caller sees it but may not do this (a public run of someone else). 403
* :class:`Conflict` — not in a state that allows it (the run is already over). 409
* :class:`Busy` — too much of it at once right now; ``Retry-After`` says when to try. 429

and, at the edge only, :class:`Unauthenticated` (401: who is calling is unknown or their
token is not valid).

:func:`lab_error` turns the engine's errors (:class:`ConfigError`, :class:`TraceError`) and
Django's ``PermissionDenied``/``Http404`` into that vocabulary; :func:`error_body` and
:func:`http_status` are what every JSON response of an error is made of, :func:`ws_reply`
what a websocket consumer sends back. Nothing else chooses a status.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404

from simulator.engine.errors import ConfigError, TraceError, join_field


class LabError(Exception):
    """Base of the vocabulary: a ``message`` meant for a person, the ``field`` it is about
    (or None) and ``extra`` keys for the JSON body (e.g. ``line`` of a malformed trace)."""

    status = 400

    def __init__(self, message: str, field: str | None = None, **extra: Any) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.message = message
        self.field = field
        self.extra = {key: value for key, value in extra.items() if value is not None}


class Invalid(LabError):
    """Bad input. ``errors``: every problem found (this one first)."""

    status = 400

    def __init__(self, message: str, field: str | None = None, **extra: Any) -> None:
        super().__init__(message, field, **extra)
        self.errors: tuple[Invalid, ...] = (self,)

    @classmethod
    def of(cls, problems: Iterable[Invalid | ConfigError], prefix: str | None = None,
           ) -> Invalid:
        """One error standing for several (fields put under ``prefix``)."""
        flat: list[Invalid] = []
        for problem in problems:
            for leaf in problem.errors:
                field = join_field(prefix, leaf.field)
                flat.append(leaf if field == leaf.field and isinstance(leaf, Invalid)
                            else cls(leaf.message, field, **getattr(leaf, "extra", {})))
        first = flat[0]
        combined = cls(first.message, first.field, **first.extra)
        combined.errors = tuple(flat)
        return combined

    @classmethod
    def from_config(cls, exc: ConfigError, prefix: str | None = None) -> Invalid:
        """The engine's :class:`ConfigError` (with every problem it holds) as input errors
        whose fields sit under ``prefix`` (``config``, ``workload``…)."""
        return cls.of([exc], prefix)


class TooLarge(Invalid):
    status = 413


class NotFound(LabError):
    status = 404


class Forbidden(LabError):
    status = 403


class Conflict(LabError):
    status = 409


class Busy(LabError):
    """Too much of this is going on right now: try again after ``retry_after`` seconds."""

    status = 429

    def __init__(self, message: str, field: str | None = None, *,
                 retry_after: int | None = None, **extra: Any) -> None:
        super().__init__(message, field, **extra)
        self.headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}


class Unauthenticated(LabError):
    """The caller must sign in or send a valid ``Authorization: Bearer`` token."""

    status = 401
    headers = {"WWW-Authenticate": 'Bearer realm="vmem"'}


def lab_error(exc: BaseException) -> LabError | None:
    """``exc`` in the vocabulary, or None when it is not an error of bad input or access
    (a bug: the caller logs it and answers 500)."""
    if isinstance(exc, LabError):
        return exc
    if isinstance(exc, ConfigError):
        return Invalid.from_config(exc)
    if isinstance(exc, TraceError):
        return Invalid(exc.message, exc.field, line=exc.line)
    if isinstance(exc, PermissionDenied):
        return Forbidden(str(exc) or "you may not do this")
    if isinstance(exc, Http404):
        return NotFound(str(exc) or "not found")
    return None


def http_status(exc: LabError) -> int:
    return exc.status


def http_headers(exc: LabError) -> dict[str, str]:
    return dict(getattr(exc, "headers", {}))


def error_body(exc: LabError) -> dict[str, Any]:
    """The JSON of an error: ``{"error", "field"}`` (``field`` only when there is one), the
    extra keys, and ``errors`` (each ``{"error", "field"}``) when there are several."""
    body: dict[str, Any] = {"error": exc.message}
    if exc.field is not None:
        body["field"] = exc.field
    body.update(exc.extra)
    errors = getattr(exc, "errors", ())
    if len(errors) > 1:
        body["errors"] = [{"error": e.message, "field": e.field} for e in errors]
    return body


def ws_reply(exc: BaseException) -> dict[str, Any]:
    """What a websocket consumer sends back when a message could not be carried out:
    ``{"type": "error", "error", "field"?, "status"}`` (the HTTP status it would have had)."""
    error = lab_error(exc) or LabError("internal error: the request was not carried out")
    status = 500 if lab_error(exc) is None else http_status(error)
    return {"type": "error", **error_body(error), "status": status}


__all__ = [
    "Conflict", "Forbidden", "Invalid", "LabError", "NotFound", "TooLarge", "Unauthenticated",
    "error_body", "http_headers", "http_status", "lab_error", "ws_reply",
]
