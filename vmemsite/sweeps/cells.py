"""What a sweep's worker process runs: the engine only, no Django (a process of the pool is
spawned fresh, and imports nothing but this, the engine and the policies of
``simulator.memory``)."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

# registers the importance and cache-aware policies in this process too: the server offers
# every registered policy, and a spawned process knows only the engine's unless told
import simulator.memory  # noqa: F401
from simulator.engine.mrc import Cell, CellResult, lru_curve, open_source, run_cell

#: in a process of a local pool, the event the server sets when it shuts down: the cell under
#: way stops within a fraction of a second (:func:`init_worker`)
_stop: Any = None


def init_worker(stop: Any, server: int | None = None) -> None:
    """The pool's initializer: remember the server's stop event (a multiprocessing Event),
    and leave with the server, process ``server`` (:func:`_leave_with`)."""
    global _stop
    _stop = stop
    if server is not None:
        threading.Thread(target=_leave_with, args=(server,), daemon=True,
                         name="vmem-parent-watch").start()


def _leave_with(server: int, every_s: float = 0.5) -> None:
    """A pool process whose server was killed (SIGKILL, out of memory: no exit hook sets the
    stop event) would compute its cell to the end and then wait for the next on a queue that
    its siblings keep open, forever. Once it is no longer the server's child — maybe already
    when it starts: the server can die while it imports — it exits."""
    while os.getppid() == server:
        time.sleep(every_s)
    os._exit(0)


def compute_cell(spec: dict[str, Any], seconds: float | None = None,
                 curve_sizes: list[int] | None = None) -> dict[str, Any]:
    """Compute one engine cell (:class:`~simulator.engine.mrc.Cell` as a dict) in at most
    about ``seconds`` (else :class:`~simulator.engine.errors.TimeLimitExceeded`).

    ``curve_sizes`` (an exact LRU cell's, its own size among them): the misses at all of them
    from one pass of stack distances, each point in the result's ``curve`` (docs/mrc.md §2);
    the cell's own fields are its own size's point."""
    stop = _stop.is_set if _stop is not None else None
    cell = Cell.from_dict(spec)
    if not curve_sizes:
        return _fields(run_cell(cell, seconds=seconds, stop=stop))
    curve = lru_curve(open_source(cell.source), curve_sizes, unit_pages=cell.unit_pages,
                      seconds=seconds, stop=stop)
    points = [_fields(point) | {"size": point.size} for point in curve.points]
    own = next(point for point in points if point["size"] == cell.size)
    return {key: value for key, value in own.items() if key != "size"} | {"curve": points}


def _fields(result: CellResult) -> dict[str, Any]:
    """A result as a sweep cell stores it."""
    return {"requests": result.requests, "misses": result.misses,
            "miss_ratio": result.miss_ratio, "seconds": result.seconds,
            "exact": result.exact, "std_error": None if result.exact else result.error}
