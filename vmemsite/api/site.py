"""The lab's JSON API on Django Ninja: one :data:`api` holding the runs and traces routers.

Django Ninja validates the typed request bodies and generates ``/api/openapi.json`` from the
same definitions (``vmemsite.openapi``). What the lab adds around it, in one place:

* errors in the one vocabulary (``vmemsite.errors``), always JSON ``{"error", "field"?}``:
  bad input 400 (Ninja's own validation errors too, their location turned into the field),
  401, 403, 404, 405 (with ``Allow``), 409, a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``
  413, and a bug 500 without details, under any settings;
* :func:`api_paths`: the operations as Django URL patterns under the names the rest of the
  site reverses (``simulator:api_run``, ``traces_api:detail``), HEAD answered as GET.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, path
from django.views.defaults import page_not_found
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser

from vmemsite.chat.api import router as sessions_router
from vmemsite.errors import (
    Invalid,
    LabError,
    NotFound,
    TooLarge,
    Unauthenticated,
    error_body,
    http_headers,
    http_status,
    lab_error,
)
from vmemsite.runs.api import router as runs_router
from vmemsite.sweeps.api import router as sweeps_router
from vmemsite.traces.api import router as traces_router

from .auth import SIGN_IN

logger = logging.getLogger(__name__)


class TooManyDigits:
    """An integer literal longer than Python converts (4,300 digits): kept as this marker so
    that the validation names the field it was sent in, instead of the whole body failing."""

    def __init__(self, digits: int) -> None:
        self.digits = digits

    def __repr__(self) -> str:
        return f"<an integer of {self.digits:,} digits>"


def _integer(text: str) -> int | TooManyDigits:
    return int(text) if len(text) <= 4000 else TooManyDigits(len(text))


class JsonBody(Parser):
    """Request bodies are JSON; what is not gets a 400 that says why."""

    def parse_body(self, request: HttpRequest) -> Any:
        try:
            return json.loads(request.body, parse_int=_integer)
        except RecursionError:
            raise Invalid("request body is not valid JSON: nested too deeply") from None
        except ValueError as exc:  # UnicodeDecodeError and too-long integers included
            raise Invalid(f"request body is not valid JSON: {exc}") from None


api = NinjaAPI(
    title="VMem Lab API",
    version="1",
    description=(
        "Authenticate scripts with `Authorization: Bearer <token>` (create tokens at "
        "/accounts/tokens/). A signed-in browser session works too; its writes need "
        "Django's CSRF token in the `X-CSRFToken` header. Errors are JSON objects "
        "with an `error` message meant for a person and, for bad input, the `field` it is "
        "about (`errors` lists every problem when there are several). A private resource of "
        "another user answers 404, exactly like one that does not exist."
    ),
    parser=JsonBody(),
    docs_url=None,  # the readable page is /api/ (vmemsite.openapi)
    urls_namespace="ninja-api",
)
api.add_router("runs/", runs_router)
api.add_router("traces/", traces_router)
api.add_router("sessions/", sessions_router)
api.add_router("sweeps/", sweeps_router)


# --- errors ---------------------------------------------------------------------------------


def error_response(exc: LabError) -> JsonResponse:
    return JsonResponse(error_body(exc), status=http_status(exc), headers=http_headers(exc))


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The site's 404 (``handler404``): JSON in the one vocabulary under ``/api/`` (an id
    that is not a number, a path no endpoint has), the HTML page elsewhere."""
    if request.path.startswith("/api/"):
        return error_response(NotFound("no such endpoint or object"))
    return page_not_found(request, exception)


def _field(location: list[Any]) -> str | None:
    """Pydantic's location as a field path: ``["tiers", 0, "name"]`` → ``tiers[0].name``."""
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or None


def invalid_from(exc: NinjaValidationError) -> Invalid:
    """Django Ninja's validation errors in the vocabulary: each with its field."""
    problems = []
    for error in exc.errors:
        location = list(error.get("loc", ()))
        source = location.pop(0) if location else ""
        if source == "body" and location:
            location.pop(0)  # the operation's name for the body
        kind = error.get("type", "")
        if source == "body" and not location:
            message = "send a JSON object as the request body"
        else:
            message = {"missing": "is required", "extra_forbidden": "unknown key"}.get(
                kind, error.get("msg", "invalid"))
        problems.append(Invalid(message, _field(location)))
    return Invalid.of(problems)


@api.exception_handler(Http404)
@api.exception_handler(Exception)
def _any_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    known = lab_error(exc)
    if known is not None:
        return error_response(known)
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return error_response(TooLarge(f"request body too large: at most {limit:,} bytes"))
    logger.exception("API error on %s %s", request.method, request.path)
    return error_response(_Internal())


class _Internal(LabError):
    status = 500

    def __init__(self) -> None:
        super().__init__("internal error: the request was not carried out (it is logged)")


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    return error_response(invalid_from(exc))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    cause = exc.__cause__
    if isinstance(cause, LabError):  # e.g. the body could not be parsed (JsonBody)
        return error_response(cause)
    if isinstance(exc, AuthenticationError):
        return error_response(Unauthenticated(SIGN_IN))
    return JsonResponse({"error": exc.message}, status=exc.status_code)


# --- URLs -------------------------------------------------------------------------------------


def _json_methods(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """``view`` answering HEAD as GET, and a wrong method with the JSON 405."""

    def dispatch(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        method = request.method
        if method == "HEAD":
            request.method = "GET"
        try:
            response = view(request, *args, **kwargs)
        finally:
            request.method = method
        if response.status_code != 405 or response.get("Content-Type", "").startswith(
                "application/json"):
            return response
        allowed = {m.strip() for m in response.get("Allow", "").split(",") if m.strip()}
        if "GET" in allowed:
            allowed.add("HEAD")
        allow = ", ".join(sorted(allowed))
        return JsonResponse({"error": f"method {method} is not allowed here (allowed: {allow})"},
                            status=405, headers={"Allow": allow})

    dispatch.csrf_exempt = True  # the API checks CSRF itself, for session calls only
    return dispatch


def api_paths(mount: str, route_prefix: str = "") -> list[URLPattern]:
    """The API's operations under ``mount`` (``"runs/"``) as Django URL patterns at
    ``route_prefix`` + the rest of their path, named as the operations say (``url_name``)."""
    patterns: dict[str, URLPattern] = {}
    for pattern in api.urls[0]:
        route = str(pattern.pattern)
        if isinstance(pattern, URLPattern) and route.startswith(mount) and route not in patterns:
            patterns[route] = path(route_prefix + route.removeprefix(mount),
                                   _json_methods(pattern.callback), name=pattern.name)
    return list(patterns.values())
