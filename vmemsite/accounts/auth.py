"""Who is calling a JSON endpoint, and whether the call may go on: one decorator,
:func:`api_endpoint`, used by every JSON API of the lab (runs, traces).

A call is authenticated in exactly one way:

* **a bearer token** — ``Authorization: Bearer <token>`` (tokens from /accounts/tokens/). When
  the header is there, the token decides: a valid token authenticates its owner, a wrong or
  revoked one is refused (401) even if the browser also carries a session cookie. A browser
  never adds that header on its own (a cross-site page cannot set it without a CORS
  preflight, which we do not answer), so token calls need no CSRF token.
* **the session cookie** — a signed-in browser. Unsafe methods must pass Django's CSRF check,
  like any form (403 otherwise).
"""

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

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

#: how a call was authenticated (``request.api_auth``)
VIA_TOKEN = "token"
VIA_SESSION = "session"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class BadToken(Exception):
    """An ``Authorization: Bearer`` header whose token is empty, unknown, revoked or belongs
    to an inactive user."""


def _bearer(request: HttpRequest) -> str | None:
    """The token of an ``Authorization: Bearer …`` header ('' if empty), None without one."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip()


def api_authenticate(request: HttpRequest) -> tuple[AbstractBaseUser | None, str | None]:
    """``(user, VIA_TOKEN)`` for a valid bearer token, ``(user, VIA_SESSION)`` for a signed-in
    session without a bearer header, ``(None, None)`` for an anonymous call. Raises
    :class:`BadToken` when a bearer header is there but its token is not valid."""
    token = _bearer(request)
    if token is not None:
        if not token:
            raise BadToken("empty bearer token")
        found = ApiToken.objects.select_related("user").filter(digest=token_digest(token)).first()
        if found is None or not found.user.is_active:
            raise BadToken("unknown or revoked token")
        ApiToken.objects.filter(pk=found.pk).update(last_used_at=timezone.now())
        return found.user, VIA_TOKEN
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user, VIA_SESSION
    return None, None


def api_user(request: HttpRequest) -> AbstractBaseUser | None:
    """The caller as :func:`api_authenticate` sees it, None when anonymous or the token is
    bad."""
    try:
        return api_authenticate(request)[0]
    except BadToken:
        return None


def _unauthorized(message: str | None = None) -> JsonResponse:
    return JsonResponse(
        {"error": message or "authentication required: sign in, or send "
                             "'Authorization: Bearer <token>' (create one at /accounts/tokens/)"},
        status=401,
        headers={"WWW-Authenticate": 'Bearer realm="vmem"'},
    )


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


def api_endpoint(*methods: str, anonymous_reads: bool = False,
                 ) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Decorator of a JSON API view accepting ``methods`` (HEAD comes with GET).

    In order: another method gets a JSON 405 (with ``Allow``); a bad bearer token a JSON 401;
    an anonymous caller a JSON 401, except on safe methods when ``anonymous_reads`` (public
    objects; the view decides what an anonymous caller may see); a call authenticated by the
    **session cookie** must pass Django's CSRF check on unsafe methods (JSON 403 otherwise); a
    call authenticated by a **valid bearer token** is exempt.

    Sets ``request.api_user`` (None for an anonymous read) and ``request.api_auth``
    (``"token"``, ``"session"`` or None).
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
            try:
                user, via = api_authenticate(request)
            except BadToken as exc:
                return _unauthorized(
                    f"invalid bearer token ({exc}): check it, or create a new one at "
                    "/accounts/tokens/"
                )
            safe = request.method in SAFE_METHODS
            if user is None and not (anonymous_reads and safe):
                return _unauthorized()
            if via == VIA_SESSION and not safe:
                reason = csrf_failure_reason(request)
                if reason is not None:
                    return JsonResponse(
                        {"error": f"CSRF check failed ({reason}). Calls made with the session "
                                  "cookie need the X-CSRFToken header; scripts should send "
                                  "'Authorization: Bearer <token>' instead."},
                        status=403,
                    )
            request.api_user = user
            request.api_auth = via
            return view(request, *args, **kwargs)

        # CSRF is checked above, for session calls only; Django's middleware must not refuse
        # token calls before they get here.
        return csrf_exempt(wrapper)

    return decorator


#: The JSON error every API endpoint returns (``error``; ``field`` names the bad input), as an
#: OpenAPI schema shared by the runs and traces documents.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}, "field": {"type": ["string", "null"]}},
}
