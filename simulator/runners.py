"""Where runs execute, and how their frames reach the browsers (DESIGN §4, §6).

* :class:`LocalRunner` — the embedded default: a thread pool inside the ASGI server process.
* :class:`CeleryRunner` — at scale (``REDIS_URL``): a Celery task per run, on any worker.

Both end in the same service, ``services.run_execute``; controls reach it through the database
(the executor polls its run's ``desired``/``speed``/``step_requests`` every tick), so a pause
from any server process reaches a run on any worker.

:func:`publish` hides how a frame gets to the channel group ``run.<id>``: the in-memory channel
layer lives on the server's event loop and does not cross loops, so a LocalRunner thread hands
its ``group_send`` to that loop with ``asyncio.run_coroutine_threadsafe``; anywhere else (a
Celery worker with channels-redis, a management command) ``async_to_sync`` is fine.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.db import close_old_connections, connection

logger = logging.getLogger(__name__)

_server_loop: asyncio.AbstractEventLoop | None = None


def group_name(run_id: int) -> str:
    return f"run.{run_id}"


def set_server_loop(loop: asyncio.AbstractEventLoop | None) -> None:
    """Remember the event loop of the ASGI server (called by the app for every connection)."""
    global _server_loop
    _server_loop = loop


class LoopRecorder:
    """ASGI middleware: records the server's running loop for :func:`publish`."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        loop = asyncio.get_running_loop()
        if _server_loop is not loop:
            set_server_loop(loop)
        return await self.app(scope, receive, send)


def publish(run_id: int, message: dict[str, Any]) -> None:
    """Send ``message`` to every viewer of run ``run_id``; never blocks on slow viewers.

    The message is encoded once here; consumers forward the text as is."""
    layer = get_channel_layer()
    if layer is None:
        return
    event = {"type": "run.message", "text": json.dumps(message, separators=(",", ":"))}
    group = group_name(run_id)
    loop = _server_loop
    if isinstance(layer, InMemoryChannelLayer):
        if loop is None or loop.is_closed() or not loop.is_running():
            return  # nobody can be listening: no server loop in this process
        try:
            if asyncio.get_running_loop() is loop:
                loop.create_task(layer.group_send(group, event))
                return
        except RuntimeError:
            pass
        # fire and forget: the runner thread never waits for the viewers
        asyncio.run_coroutine_threadsafe(layer.group_send(group, event), loop)
        return
    try:
        async_to_sync(layer.group_send)(group, event)
    except Exception:  # a broken channel layer must not kill the run
        logger.exception("could not publish a frame of run %s", run_id)


def _execute_in_thread(run_id: int) -> None:
    from .services import run_execute

    close_old_connections()
    try:
        run_execute(run_id=run_id)
    finally:
        connection.close()


class LocalRunner:
    """Runs execute in a thread pool of the server process (``VMEM_LOCAL_WORKERS`` threads)."""

    name = "local"

    def __init__(self, workers: int) -> None:
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vmem-run")
        # Simulations are CPU-bound Python threads sharing the GIL with the server's event
        # loop. At the default 5 ms switch interval every hop of a frame through the loop
        # (channel layer, consumer, socket) can wait 5 ms for the GIL; 1 ms keeps websocket
        # delivery prompt at a small cost in engine throughput (bench/stream.py).
        sys.setswitchinterval(min(sys.getswitchinterval(), 0.001))

    def submit(self, run_id: int) -> None:
        self.pool.submit(_execute_in_thread, run_id)


class CeleryRunner:
    """Runs execute as Celery tasks (``simulator.tasks.execute_run``) on any worker."""

    name = "celery"

    def submit(self, run_id: int) -> None:
        from .tasks import execute_run

        execute_run.delay(run_id)


_runner: LocalRunner | CeleryRunner | None = None
_runner_lock = threading.Lock()


def get_runner() -> LocalRunner | CeleryRunner:
    """The runner chosen by ``settings.VMEM_RUNNER`` (one per process)."""
    global _runner
    with _runner_lock:
        wanted = settings.VMEM_RUNNER
        if _runner is None or _runner.name != wanted:
            _runner = CeleryRunner() if wanted == "celery" else LocalRunner(
                settings.VMEM_LOCAL_WORKERS
            )
        return _runner
