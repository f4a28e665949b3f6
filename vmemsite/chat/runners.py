"""Where chat turns and scripted sessions execute, and how their news reaches the browsers.

The model is slow (seconds per turn) and blocking, so a turn never runs on the event loop: the
service that accepts a message hands the work to the chat pool of the server process
(``VMEM_CHAT_WORKERS`` threads, 2 by default) — the lab's one worker pool
(``vmemsite.live.workers``, docs/architecture.md "The live executor"), which heartbeats the
chats it holds, sweeps for chats a dead server left busy, and winds down with the server.
Chats always run in the server process — the embedded model lives there — also when simulator
runs go to Celery.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings

from vmemsite.live import workers
from vmemsite.live.publish import publish_json

from .recovery import ChatKeeper

_pool: workers.WorkerPool | None = None
_pool_lock = threading.Lock()


def group_name(chat_id: int) -> str:
    return f"chat.{chat_id}"


def publish(chat_id: int, message: dict[str, Any]) -> None:
    """Send ``message`` to every browser watching chat ``chat_id``; never blocks, never
    raises (a broken channel layer must not lose a turn)."""
    publish_json(group_name(chat_id), "chat.message", message)


def chat_pool() -> workers.WorkerPool:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = workers.WorkerPool(ChatKeeper(), settings.VMEM_CHAT_WORKERS, "chat")
        return _pool


def submit(chat_id: int, work: Callable[[], None]) -> None:
    """Run ``work`` (a call of a service for chat ``chat_id``) in the chat pool."""
    chat_pool().submit(chat_id, work)


# sweeps for chats a dead server left busy
workers.keep_from_first_connection(chat_pool)
