"""Schemas every part of the API shares (Django Ninja / pydantic), for the OpenAPI document."""

from __future__ import annotations

from pydantic import BaseModel


class FieldError(BaseModel):
    error: str
    field: str | None = None


class Error(BaseModel):
    """What every error answers: ``error`` for a person, ``field`` naming the bad input (400),
    ``errors`` when several inputs are bad, ``line`` for a malformed trace."""

    error: str
    field: str | None = None
    line: int | None = None
    errors: list[FieldError] | None = None


#: the responses every authenticated operation may give besides its own
COMMON_ERRORS = {401: Error, 403: Error}
