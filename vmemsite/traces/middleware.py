"""Tells a view running in a worker thread that its client has gone.

Under ASGI, Django cancels the task of a request whose client disconnects (``http.disconnect``)
but cannot stop the thread that runs a synchronous view: without this, a trace upload's
validation would go on for nothing. This middleware gives every request a
``request.client_gone`` event (a :class:`threading.Event`) and sets it when the cancellation
reaches it; long work (``traces.services.trace_upload``'s ``stop``) looks at it between lines,
and the cancellation goes on only once the view has returned.
Under WSGI the event is never set.

It is asynchronous only, and first in ``MIDDLEWARE``: a middleware that can run both ways is
run synchronously, in the worker thread, as soon as one after it is synchronous only (as
WhiteNoise is), and the cancellation would never reach it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable

from asgiref.sync import markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase


def client_gone(request: HttpRequest) -> threading.Event | None:
    """The request's event, set once its client has disconnected (None without this
    middleware)."""
    return getattr(request, "client_gone", None)


class ClientGoneMiddleware:
    sync_capable = False
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]],
                 ) -> None:
        self.get_response = get_response
        markcoroutinefunction(self)

    async def __call__(self, request: HttpRequest) -> HttpResponseBase:
        gone = threading.Event()
        request.client_gone = gone  # type: ignore[attr-defined]
        # The rest of the chain runs in a task of its own, shielded: asgiref's sync_to_async
        # holds a cancellation back until its thread has finished, so awaiting the chain
        # directly would hear of it only once the work is done.
        rest = asyncio.ensure_future(self.get_response(request))
        try:
            return await asyncio.shield(rest)
        except asyncio.CancelledError:
            gone.set()
            with contextlib.suppress(Exception):
                await rest  # the view sees the event at its next check and cleans up
            raise
