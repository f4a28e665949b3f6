"""Where runs execute, and how their frames reach the browsers (docs/architecture.md §4, §6).

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
    """ASGI middleware: records the server's running loop for :func:`publish`, and on the
    first connection of the process starts the LocalRunner's housekeeping (heartbeats, and
    runs left over by a server that stopped are marked interrupted; see
    :meth:`LocalRunner.start_housekeeping`). Daphne sends no ASGI lifespan events, so the first
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
            runner = get_runner()
            if isinstance(runner, LocalRunner) and getattr(settings, "VMEM_RECOVER_RUNS", True):
                runner.start_housekeeping()
        return await self.app(scope, receive, send)


def publish(run_id: int, message: dict[str, Any], *, private: bool = False) -> None:
    """Send ``message`` to every viewer of run ``run_id``; never blocks on slow viewers.

    The message is encoded once here; consumers forward the text as is. ``private``: the run
    has just been made private, so the consumers close the connections of everyone but its
    owner (``RunConsumer.run_private``)."""
    event = {"type": "run.private" if private else "run.message",
             "text": json.dumps(message, separators=(",", ":"))}
    try:
        group_publish(group_name(run_id), event)
    except Exception:  # a broken channel layer must not kill the run
        logger.exception("could not publish a frame of run %s", run_id)


def group_publish(group: str, event: dict[str, Any]) -> None:
    """Hand ``event`` to the channel group ``group`` from any thread, without waiting.

    With the in-memory layer the send must happen on the server's loop (the layer does not
    cross loops): from a worker thread it is scheduled there, fire and forget; without a
    running server loop nobody in this process can be listening. Any other layer
    (channels-redis) is fine with ``async_to_sync``."""
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


#: seconds between two heartbeats of the runs a LocalRunner holds
HEARTBEAT_S = 5.0
#: a local run whose heartbeat is older than this has no live server process behind it
STALE_S = 30.0


class LocalRunner:
    """Runs execute in a thread pool of the server process (``VMEM_LOCAL_WORKERS`` threads).

    The runs this process holds (queued in the pool or executing) are ``held``; once
    :meth:`start_housekeeping` is called (by the ASGI app, on the first connection), a daemon
    thread stamps their ``heartbeat_at`` every :data:`HEARTBEAT_S` seconds and marks the
    local runs whose heartbeat is older than :data:`STALE_S` as interrupted: their server
    stopped while they were queued, running or paused. It does so at once (a restart finds
    the runs of the previous server) and then on every sweep (a run whose server died just
    before the restart is found when its last heartbeat turns stale). Heartbeats also run in
    any other process that submits local runs (a shell, a script), without the sweeps. Celery
    runs are never touched: their workers may well be alive.
    """

    name = "local"

    def __init__(self, workers: int) -> None:
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vmem-run")
        self.held: set[int] = set()
        self._held_lock = threading.Lock()
        self._housekeeping: threading.Thread | None = None
        self._stop = threading.Event()
        # heartbeats start with the first submitted run; sweeps only in the server process
        self.sweeping = False
        # Simulations are CPU-bound Python threads sharing the GIL with the server's event
        # loop. At the default 5 ms switch interval every hop of a frame through the loop
        # (channel layer, consumer, socket) can wait 5 ms for the GIL; 1 ms keeps websocket
        # delivery prompt at a small cost in engine throughput (bench/stream.py).
        sys.setswitchinterval(min(sys.getswitchinterval(), 0.001))

    def submit(self, run_id: int) -> None:
        with self._held_lock:
            self.held.add(run_id)
        self._ensure_thread()
        self.pool.submit(self._execute, run_id)

    def _execute(self, run_id: int) -> None:
        from .services import run_execute

        close_old_connections()
        try:
            run_execute(run_id=run_id)
        finally:
            with self._held_lock:
                self.held.discard(run_id)
            connection.close()

    def held_ids(self) -> set[int]:
        with self._held_lock:
            return set(self.held)

    def housekeeping_once(self, *, sweep: bool = True) -> list[int]:
        """One heartbeat of the held runs and, with ``sweep``, one sweep for interrupted runs;
        returns the ids marked interrupted."""
        from .services import run_heartbeat, run_recover_interrupted

        held = self.held_ids()
        if held:
            run_heartbeat(run_ids=held)
        if not sweep:
            return []
        return run_recover_interrupted(stale_s=STALE_S, exclude=held)

    def _housekeep(self) -> None:
        while not self._stop.is_set():
            try:
                self.housekeeping_once(sweep=self.sweeping)
            except Exception:  # a locked or absent database must not kill the thread
                logger.exception("run housekeeping failed; trying again")
            finally:
                connection.close()
            self._stop.wait(HEARTBEAT_S)

    def _ensure_thread(self) -> None:
        with self._held_lock:
            if self._housekeeping is None:
                self._housekeeping = threading.Thread(
                    target=self._housekeep, name="vmem-housekeeping", daemon=True)
                self._housekeeping.start()

    def start_housekeeping(self) -> None:
        """Heartbeats and sweeps (the server process calls this once, at its start)."""
        self.sweeping = True
        self._ensure_thread()


class CeleryRunner:
    """Runs execute as Celery tasks (``vmemsite.runs.tasks.execute_run``) on any worker."""

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
