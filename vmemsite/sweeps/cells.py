"""What a sweep's worker process runs: the engine only, no Django (a process of the pool is
spawned fresh, and imports nothing but this and the engine)."""

from __future__ import annotations

from typing import Any

from simulator.engine.mrc import Cell, run_cell


def compute_cell(spec: dict[str, Any]) -> dict[str, Any]:
    """Compute one engine cell (:class:`~simulator.engine.mrc.Cell` as a dict)."""
    result = run_cell(Cell.from_dict(spec))
    return {"requests": result.requests, "misses": result.misses,
            "miss_ratio": result.miss_ratio, "seconds": result.seconds,
            "exact": result.exact, "std_error": None if result.exact else result.error}
