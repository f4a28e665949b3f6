"""Tells a view running in a worker thread that its client has gone.

Under ASGI, Django cancels the task of a request whose client disconnects (``http.disconnect``)
but cannot stop the thread that runs a synchronous view: without this, a trace upload's
validation would go on for nothing. This middleware gives every request a
``request.client_gone`` event (a :class:`threading.Event`) and sets it when the cancellation
reaches it; long work (``traces.services.trace_upload``'s ``stop``) looks at it between lines.
Under WSGI the event is never set. It must come first in ``MIDDLEWARE``, where the chain is
still asynchronous.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase


def client_gone(request: HttpRequest) -> threading.Event | None:
    """The request's event, set once its client has disconnected (None without this
    middleware)."""
    return getattr(request, "client_gone", None)


class ClientGoneMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        request.client_gone = threading.Event()  # type: ignore[attr-defined]
        if self.is_async:
            return self._acall(request)
        return self.get_response(request)

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        response: Awaitable[HttpResponseBase] = self.get_response(request)
        try:
            return await response
        except asyncio.CancelledError:
            request.client_gone.set()  # type: ignore[attr-defined]
            raise
