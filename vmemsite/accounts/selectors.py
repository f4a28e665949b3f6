"""Reads of the accounts app."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from .models import ApiToken, token_digest


def token_list(user: AbstractBaseUser) -> QuerySet[ApiToken]:
    """``user``'s API tokens, newest first (the token itself is never stored)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")


def token_get(token: str) -> ApiToken | None:
    """The API token ``token`` (as a script sends it) if it exists and its user is active,
    with the user; None otherwise (unknown, revoked, or the user deactivated)."""
    found = ApiToken.objects.select_related("user").filter(digest=token_digest(token)).first()
    if found is None or not found.user.is_active:
        return None
    return found
