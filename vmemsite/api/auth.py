"""Who is calling the JSON API, and whether the call may go on.

A call is authenticated in exactly one way:

* **a bearer token** — ``Authorization: Bearer <token>`` (tokens from /accounts/tokens/;
  only their sha256 is stored). When the header is there, the token decides: a valid token
  authenticates its owner, a wrong or revoked one is refused (401) even if the browser also
  carries a session cookie. A browser never adds that header on its own (a cross-site page
  cannot set it without a CORS preflight, which we do not answer), so token calls need no
  CSRF token.
* **the session cookie** — a signed-in browser. Unsafe methods must pass Django's CSRF check,
  like any form (403 otherwise).

:class:`ApiAuth` is that rule as a Django Ninja authentication callable; the operation gets
the :class:`Caller` as ``request.auth``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware

from vmemsite.accounts.selectors import token_get
from vmemsite.accounts.services import token_mark_used
from vmemsite.errors import Forbidden, Unauthenticated

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
VIA_TOKEN = "token"
VIA_SESSION = "session"
SIGN_IN = ("authentication required: sign in, or send 'Authorization: Bearer <token>' "
           "(create one at /accounts/tokens/)")


@dataclass(frozen=True)
class Caller:
    """The user calling (None: anonymous, on reads of public things) and how (``"token"``,
    ``"session"`` or None)."""

    user: AbstractBaseUser | None
    via: str | None

    def __bool__(self) -> bool:  # Django Ninja takes a falsy result for "not authenticated"
        return True


def _bearer(request: HttpRequest) -> str | None:
    """The token of an ``Authorization: Bearer …`` header ('' if empty), None without one."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip()


def caller_of(request: HttpRequest) -> Caller:
    """The caller of ``request``; :class:`Unauthenticated` for a bearer header whose token is
    empty, unknown, revoked or belongs to an inactive user."""
    token = _bearer(request)
    if token is not None:
        found = token_get(token) if token else None
        if found is None:
            reason = "empty bearer token" if not token else "unknown or revoked token"
            raise Unauthenticated(f"invalid bearer token ({reason}): check it, or create a "
                                  "new one at /accounts/tokens/")
        token_mark_used(token=found)
        return Caller(found.user, VIA_TOKEN)
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return Caller(user, VIA_SESSION)
    return Caller(None, None)


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


class ApiAuth:
    """The lab's authentication for a Django Ninja operation: a valid token or a signed-in
    session (with Django's CSRF check on unsafe methods); anonymous callers only on safe
    methods when ``anonymous_reads`` (public things: the operation decides what they see)."""

    def __init__(self, *, anonymous_reads: bool = False) -> None:
        self.anonymous_reads = anonymous_reads

    def __call__(self, request: HttpRequest) -> Caller:
        caller = caller_of(request)
        safe = request.method in SAFE_METHODS
        if caller.user is None and not (self.anonymous_reads and safe):
            raise Unauthenticated(SIGN_IN)
        if caller.via == VIA_SESSION and not safe:
            reason = csrf_failure_reason(request)
            if reason is not None:
                raise Forbidden(f"CSRF check failed ({reason}). Calls made with the session "
                                "cookie need the X-CSRFToken header; scripts should send "
                                "'Authorization: Bearer <token>' instead.")
        return caller


#: the two ways operations are guarded
SIGNED_IN = ApiAuth()
ANONYMOUS_READS = ApiAuth(anonymous_reads=True)

#: how the OpenAPI document describes them
SECURITY_SCHEMES = {
    "bearerToken": {"type": "http", "scheme": "bearer",
                    "description": "An API token from /accounts/tokens/"},
    "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "sessionid",
                      "description": "A signed-in browser session (writes also need the "
                                     "X-CSRFToken header)"},
}
