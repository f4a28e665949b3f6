"""What a sweep's worker process runs: the engine only, no Django (a process of the pool is
spawned fresh, and imports nothing but this and the engine)."""

from __future__ import annotations

from typing import Any

from simulator.engine.mrc import Cell, run_cell

#: in a process of a local pool, the event the server sets when it shuts down: the cell under
#: way stops within a fraction of a second (:func:`init_worker`)
_stop: Any = None


def init_worker(stop: Any) -> None:
    """The pool's initializer: remember the server's stop event (a multiprocessing Event)."""
    global _stop
    _stop = stop


def compute_cell(spec: dict[str, Any], seconds: float | None = None) -> dict[str, Any]:
    """Compute one engine cell (:class:`~simulator.engine.mrc.Cell` as a dict) in at most
    about ``seconds`` (else :class:`~simulator.engine.errors.TimeLimitExceeded`)."""
    stop = _stop.is_set if _stop is not None else None
    result = run_cell(Cell.from_dict(spec), seconds=seconds, stop=stop)
    return {"requests": result.requests, "misses": result.misses,
            "miss_ratio": result.miss_ratio, "seconds": result.seconds,
            "exact": result.exact, "std_error": None if result.exact else result.error}
