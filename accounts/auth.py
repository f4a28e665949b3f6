"""Who is calling: a signed-in session, or a script with ``Authorization: Bearer <token>``."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

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


def _unauthorized() -> JsonResponse:
    return JsonResponse(
        {"error": "authentication required: sign in, or send "
                  "'Authorization: Bearer <token>' (create one at /accounts/tokens/)"},
        status=401,
        headers={"WWW-Authenticate": 'Bearer realm="vmem"'},
    )


def api_login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """JSON 401 for anonymous callers; sets ``request.api_user`` otherwise."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = api_user(request)
        if user is None:
            return _unauthorized()
        request.api_user = user
        return view(request, *args, **kwargs)

    return wrapper


# --------------------------------------------------------------------------------------------
# JSON endpoints: methods, authentication and CSRF in one decorator

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class _CsrfCheck(CsrfViewMiddleware):
    """Django's own CSRF check, run on demand; remembers why it rejected."""

    reason = ""

    def _reject(self, request: HttpRequest, reason: str) -> HttpResponse:
        self.reason = reason
        return HttpResponse(status=403)


def csrf_failure_reason(request: HttpRequest) -> str | None:
    """Why Django's CSRF protection would refuse ``request``, or None if it passes."""
    check = _CsrfCheck(lambda _request: HttpResponse())
    check.process_request(request)
    if check.process_view(request, None, (), {}) is None:
        return None
    return check.reason or "rejected"


def api_endpoint(*methods: str) -> Callable[[Callable[..., HttpResponse]],
                                            Callable[..., HttpResponse]]:
    """Decorator of a JSON API view accepting ``methods`` (HEAD comes with GET).

    In order: another method gets a JSON 405 (with ``Allow``); an anonymous caller a JSON 401;
    a call authenticated by the **session cookie** (a browser) must pass Django's CSRF check
    on unsafe methods like any form (JSON 403 otherwise); a call authenticated by a **bearer
    token** (a script) is exempt, since a browser never sends that header on its own. Sets
    ``request.api_user``.
    """
    allowed = {method.upper() for method in methods}
    if "GET" in allowed:
        allowed.add("HEAD")
    allow_header = ", ".join(sorted(allowed))

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in allowed:
                return JsonResponse(
                    {"error": f"method {request.method} is not allowed here "
                              f"(allowed: {allow_header})"},
                    status=405, headers={"Allow": allow_header},
                )
            user = api_user(request)
            if user is None:
                return _unauthorized()
            session_user = getattr(request, "user", None)
            if (session_user is not None and session_user.is_authenticated
                    and request.method not in _SAFE_METHODS):
                reason = csrf_failure_reason(request)
                if reason is not None:
                    return JsonResponse(
                        {"error": f"CSRF check failed ({reason}). Calls made with the session "
                                  "cookie need the X-CSRFToken header; scripts should send "
                                  "'Authorization: Bearer <token>' instead."},
                        status=403,
                    )
            request.api_user = user
            return view(request, *args, **kwargs)

        return csrf_exempt(wrapper)

    return decorator
