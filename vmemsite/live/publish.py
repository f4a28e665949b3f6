"""How a message reaches a channel group from anywhere (docs/architecture.md §4).

The in-memory channel layer lives on the server's event loop and does not cross loops, so a
worker thread hands its ``group_send`` to that loop with ``asyncio.run_coroutine_threadsafe``;
anywhere else (a Celery worker with channels-redis, a management command) ``async_to_sync`` is
fine. :class:`LoopRecorder` remembers the server's loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

logger = logging.getLogger(__name__)

_server_loop: asyncio.AbstractEventLoop | None = None
_on_first_connection: list[Callable[[], None]] = []


def set_server_loop(loop: asyncio.AbstractEventLoop | None) -> None:
    """Remember the event loop of the ASGI server (the app records it on every connection)."""
    global _server_loop
    _server_loop = loop


def on_first_connection(hook: Callable[[], None]) -> None:
    """Call ``hook`` once, on the server's first connection (see :class:`LoopRecorder`)."""
    _on_first_connection.append(hook)


class LoopRecorder:
    """ASGI middleware: records the server's running loop for :func:`group_publish`, and on
    the first connection of the process calls the hooks given to :func:`on_first_connection`
    (housekeeping: heartbeats and sweeps). Daphne sends no ASGI lifespan events, so the first
    connection is the earliest moment that exists in every way of serving the app."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.started = False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        loop = asyncio.get_running_loop()
        if _server_loop is not loop:
            set_server_loop(loop)
        if not self.started:
            self.started = True
            for hook in _on_first_connection:
                hook()
        return await self.app(scope, receive, send)


def group_publish(group: str, event: dict[str, Any]) -> None:
    """Hand ``event`` to the channel group ``group`` from any thread, without waiting.

    With the in-memory layer the send must happen on the server's loop: from a worker thread
    it is scheduled there, fire and forget; without a running server loop nobody in this
    process can be listening. Any other layer (channels-redis) is fine with
    ``async_to_sync``."""
    layer = get_channel_layer()
    if layer is None:
        return
    if isinstance(layer, InMemoryChannelLayer):
        loop = _server_loop
        if loop is None or loop.is_closed() or not loop.is_running():
            return
        try:
            if asyncio.get_running_loop() is loop:
                loop.create_task(layer.group_send(group, event))
                return
        except RuntimeError:
            pass  # not in any loop: a worker thread
        asyncio.run_coroutine_threadsafe(layer.group_send(group, event), loop)
        return
    async_to_sync(layer.group_send)(group, event)


def publish_json(group: str, event_type: str, message: dict[str, Any]) -> None:
    """Send ``message``, encoded once here, to every consumer of ``group`` as an event of
    ``event_type`` (the consumers forward the text as is). Never raises: a broken channel
    layer must not kill the work that publishes."""
    event = {"type": event_type, "text": json.dumps(message, separators=(",", ":"))}
    try:
        group_publish(group, event)
    except Exception:
        logger.exception("could not publish to %s", group)
