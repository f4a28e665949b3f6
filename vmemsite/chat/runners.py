"""Where chat turns and scripted sessions execute, and how their news reaches the browsers.

The model is slow (seconds per turn) and blocking, so a turn never runs on the event loop: the
service that accepts a message hands the work to a small thread pool of the server process
(``VMEM_CHAT_WORKERS`` threads, 2 by default). Chats always run in the server process — the
embedded model lives there — also when simulator runs go to Celery.

:func:`publish` sends a message to the channel group ``chat.<id>`` through the lab's one
``vmemsite.runs.runners.group_publish``, which knows how to reach the in-memory channel layer on
the server's loop from a worker thread (docs/architecture.md §4).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection

from vmemsite.runs.runners import group_publish, set_server_loop

logger = logging.getLogger(__name__)

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def group_name(chat_id: int) -> str:
    return f"chat.{chat_id}"


def set_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Remember the server's event loop (the chat consumer calls this on connect)."""
    set_server_loop(loop)


def publish(chat_id: int, message: dict[str, Any]) -> None:
    """Send ``message`` to every browser watching chat ``chat_id``; never blocks, never
    raises (a broken channel layer must not lose a turn)."""
    event = {"type": "chat.message", "text": json.dumps(message, separators=(",", ":"))}
    try:
        group_publish(group_name(chat_id), event)
    except Exception:
        logger.exception("could not publish to chat %s", chat_id)


def _in_thread(work: Callable[[], None]) -> None:
    close_old_connections()
    try:
        work()
    except Exception:  # services record their own errors; this is the last resort
        logger.exception("chat work failed")
    finally:
        connection.close()


def submit(work: Callable[[], None]) -> Future:
    """Run ``work`` (a call of a service) in the chat thread pool."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=max(1, settings.VMEM_CHAT_WORKERS),
                                       thread_name_prefix="vmem-chat")
        return _pool.submit(_in_thread, work)
