"""Who is calling: a signed-in session, or a script with ``Authorization: Bearer <token>``."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from .models import ApiToken


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def api_user(request: HttpRequest) -> AbstractBaseUser | None:
    """The session's user, else the owner of a valid bearer token, else None."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    found = ApiToken.objects.select_related("user").filter(
        digest=token_digest(token.strip())
    ).first()
    if found is None or not found.user.is_active:
        return None
    ApiToken.objects.filter(pk=found.pk).update(last_used_at=timezone.now())
    return found.user


def api_login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """JSON 401 for anonymous callers; sets ``request.api_user`` otherwise."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = api_user(request)
        if user is None:
            return JsonResponse(
                {"error": "authentication required: sign in, or send "
                          "'Authorization: Bearer <token>' (create one at /accounts/tokens/)"},
                status=401,
            )
        request.api_user = user
        return view(request, *args, **kwargs)

    return wrapper
