"""Worker pools for live work, heartbeats, sweeps, and a graceful stop (docs/architecture.md,
"The live executor").

A :class:`WorkerPool` executes work (a run, a chat turn) in daemon threads of this process and
*holds* the id of each item from the moment it is submitted until its work returns. One
housekeeping thread per process stamps the held ids every :data:`HEARTBEAT_S` seconds through
the pool's :class:`Keeper` and, in the server process, sweeps for items whose heartbeat is older
than :data:`STALE_S`: a process that died (SIGKILL, a crash) left them behind.

When the process exits — SIGTERM to Daphne stops its reactor and the interpreter winds down —
:func:`stop` runs (an ``atexit`` hook; Celery workers call it on their shutdown signal): it sets
the flag the work polls (:func:`stopping`), waits up to :data:`STOP_GRACE_S` seconds for the
items under way to wind down (a run stores its last windows and marks itself interrupted), and
hands whatever is still held to :meth:`Keeper.abandon`. The threads are daemons, so nothing
keeps the process alive after that.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

from django.conf import settings
from django.db import close_old_connections, connection

logger = logging.getLogger(__name__)

#: seconds between two heartbeats of the items a process holds (default of VMEM_HEARTBEAT_S)
HEARTBEAT_S = 5.0
#: an item whose heartbeat is older than this has no live process behind it (VMEM_STALE_S)
STALE_S = 30.0
#: how long a stopping process lets its work wind down before abandoning it
STOP_GRACE_S = 3.0


class Keeper(Protocol):
    """What an app provides for one kind of live work (its rows in the database)."""

    def beat(self, ids: set[int]) -> None:
        """Stamp the heartbeat of the items this process holds."""

    def sweep(self, exclude: set[int]) -> list[int]:
        """Mark the items whose heartbeat is stale (not in ``exclude``); returns their ids."""

    def abandon(self, ids: set[int]) -> None:
        """This process stops and will not finish ``ids``: mark them at once."""


_stopping = threading.Event()
_pools: list[WorkerPool] = []
_lock = threading.Lock()
_housekeeping: threading.Thread | None = None
_sweeping = False


def heartbeat_s() -> float:
    return float(getattr(settings, "VMEM_HEARTBEAT_S", HEARTBEAT_S))


def stale_s() -> float:
    return float(getattr(settings, "VMEM_STALE_S", STALE_S))


def stopping() -> bool:
    """True once this process is stopping: live work winds down at its next look."""
    return _stopping.is_set()


class WorkerPool:
    """``workers`` daemon threads executing the work submitted, holding each item's id."""

    def __init__(self, keeper: Keeper, workers: int, name: str) -> None:
        self.keeper = keeper
        self.size = max(1, workers)
        self.name = name
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._held: Counter[int] = Counter()
        self._busy = 0
        self._lock = threading.Lock()
        with _lock:
            if not _pools:
                atexit.register(stop)
            _pools.append(self)

    def submit(self, item_id: int, work: Callable[[], None]) -> None:
        """Queue ``work`` (for item ``item_id``); held from now until it returns."""
        self._take(item_id)
        with self._lock:
            if len(self._threads) < self.size:
                thread = threading.Thread(target=self._work, daemon=True,
                                          name=f"vmem-{self.name}-{len(self._threads)}")
                self._threads.append(thread)
                thread.start()
        self._queue.put((item_id, work))
        _ensure_housekeeping()

    @contextmanager
    def hold(self, item_id: int) -> Iterator[None]:
        """Hold ``item_id`` while the caller executes it in its own thread (a Celery task)."""
        self._take(item_id)
        _ensure_housekeeping()
        with self._lock:
            self._busy += 1
        try:
            yield
        finally:
            with self._lock:
                self._busy -= 1
            self._release(item_id)

    def _take(self, item_id: int) -> None:
        with self._lock:
            self._held[item_id] += 1

    def _release(self, item_id: int) -> None:
        with self._lock:
            self._held[item_id] -= 1
            if self._held[item_id] <= 0:
                del self._held[item_id]

    def _work(self) -> None:
        while True:
            item_id, work = self._queue.get()
            if stopping():
                continue  # stays held: stop() abandons it
            with self._lock:
                self._busy += 1
            close_old_connections()
            try:
                work()
            except Exception:  # the work records its own errors; this is the last resort
                logger.exception("%s work on %s failed", self.name, item_id)
            finally:
                connection.close()
                with self._lock:
                    self._busy -= 1
                self._release(item_id)

    def held_ids(self) -> set[int]:
        with self._lock:
            return set(self._held)

    def busy(self) -> int:
        with self._lock:
            return self._busy

    def housekeeping_once(self, *, sweep: bool = True) -> list[int]:
        """One heartbeat of the held items and, with ``sweep``, one sweep; returns the ids the
        sweep marked."""
        held = self.held_ids()
        if held and not stopping():
            self.keeper.beat(held)
        return self.keeper.sweep(held) if sweep else []


def start_housekeeping() -> None:
    """Heartbeats and sweeps (the server process calls this once, at its start)."""
    global _sweeping
    _sweeping = True
    _ensure_housekeeping()


def keep_from_first_connection(make_pool: Callable[[], WorkerPool]) -> None:
    """On the server's first connection, make this pool (so that its heartbeats and sweeps
    run whether or not the process ever submits work to it) and start the housekeeping,
    unless ``VMEM_RECOVER_RUNS`` is off (the test settings)."""
    from .publish import on_first_connection

    def start() -> None:
        if getattr(settings, "VMEM_RECOVER_RUNS", True):
            make_pool()
            start_housekeeping()

    on_first_connection(start)


def _ensure_housekeeping() -> None:
    global _housekeeping
    with _lock:
        if _housekeeping is None:
            _housekeeping = threading.Thread(target=_housekeep, name="vmem-housekeeping",
                                             daemon=True)
            _housekeeping.start()


def _housekeep() -> None:
    while not _stopping.is_set():
        for pool in list(_pools):
            try:
                pool.housekeeping_once(sweep=_sweeping)
            except Exception:  # a locked or absent database must not kill the thread
                logger.exception("%s housekeeping failed; trying again", pool.name)
            finally:
                connection.close()
        _stopping.wait(heartbeat_s())


def stop(grace_s: float = STOP_GRACE_S) -> None:
    """Stop this process's live work: flag it, let it wind down for up to ``grace_s``
    seconds, abandon what is left (see the module's docstring)."""
    if _stopping.is_set():
        return
    _stopping.set()
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and any(pool.busy() for pool in _pools):
        time.sleep(0.05)
    for pool in list(_pools):
        left = pool.held_ids()
        if not left:
            continue
        try:
            pool.keeper.abandon(left)
        except Exception:
            logger.exception("could not mark the %s work left behind: %s", pool.name, left)
    connection.close()
