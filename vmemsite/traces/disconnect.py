"""Tells work running in a worker thread that the client of its request has gone.

Under ASGI, Django notices a client that disconnects (an ``http.disconnect`` message) and
cancels the request's task, but it cannot stop the thread that runs a synchronous view, and
asgiref holds the cancellation back until that thread has finished: a trace upload's
validation would go on for nothing. :class:`ClientGoneApp` wraps the HTTP application
(``vmemsite/asgi.py``): it gives every request a :class:`threading.Event` in a context variable
(asgiref copies the context into the view's thread) and sets it when the server reports the
disconnect. Long work looks at :func:`client_gone` between steps (``traces.services.
trace_upload``'s ``stop``). Under WSGI, and outside a request, there is no event.

Not a middleware: Django runs a middleware that can run both ways synchronously, in the
worker thread, as soon as one after it is synchronous only (WhiteNoise is), and an
asynchronous-only one breaks the synchronous test client in a thread that has an event loop.
"""

from __future__ import annotations

import threading
from contextvars import ContextVar
from typing import Any

_client_gone: ContextVar[threading.Event | None] = ContextVar("client_gone", default=None)


def client_gone() -> threading.Event | None:
    """The current request's event, set once its client has disconnected (None without
    :class:`ClientGoneApp`, e.g. under WSGI)."""
    return _client_gone.get()


class ClientGoneApp:
    """ASGI middleware around Django's HTTP application (see the module's docstring)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        gone = threading.Event()

        async def receive_and_watch() -> dict:
            message = await receive()
            if message["type"] == "http.disconnect":
                gone.set()
            return message

        token = _client_gone.set(gone)
        try:
            await self.app(scope, receive_and_watch, send)
        finally:
            _client_gone.reset(token)
