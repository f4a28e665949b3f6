"""Reads of the accounts app."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from .models import ApiToken


def token_list(user: AbstractBaseUser) -> QuerySet[ApiToken]:
    """``user``'s API tokens, newest first (the token itself is never stored)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")
