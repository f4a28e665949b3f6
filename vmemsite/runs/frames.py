"""The streaming vocabulary (docs/architecture.md §6): points, counters and frames, as plain data.

A **point** is one engine window in a compact, JSON-ready form (what the charts plot and what
the CSV export lists). A **frame** is what the runner publishes at most ~10 times a second:
every point closed since the previous frame (per variant), the last few notable events, the
counters and the run's status. Frames carry a sequence number; the same data is stored as a
:class:`~vmemsite.runs.models.RunChunk`, so ``state`` (all chunks) + later frames = the whole run.
"""

from __future__ import annotations

from typing import Any

from simulator.engine.events import Event, WindowSnapshot

#: the events kept in a frame, and in the rolling log of a state message
FRAME_EVENTS = 12
STATE_EVENTS = 50


def _r(value: float, digits: int = 4) -> float:
    return round(float(value), digits)


def window_point(snapshot: WindowSnapshot) -> dict[str, Any]:
    """One window as a chart point. Keys are short: a long run has thousands of these."""
    lat = snapshot.latency_ms
    cumulative = snapshot.cumulative
    return {
        "seq": snapshot.seq,
        "end": snapshot.end,
        "t": _r(snapshot.time_ms, 3),
        "acc": snapshot.accesses,
        "hits": snapshot.hits,
        "faults": snapshot.faults,
        "ev": snapshot.evictions,
        "rf": snapshot.refaults,
        "thrash": _r(snapshot.thrash_index),
        "p50": _r(lat.p50, 3),
        "p95": _r(lat.p95, 3),
        "p99": _r(lat.p99, 3),
        "mean": _r(lat.mean, 3),
        "hr": [_r(t.hit_ratio) for t in snapshot.tiers],
        "used": [t.used_tokens for t in snapshot.tiers],
        "pages": [t.pages for t in snapshot.tiers],
        "chr": _r(cumulative.get("hit_ratio", 0.0)),
        "mr": _r(cumulative.get("miss_ratio", 0.0)),
    }


def event_row(event: Event, variant: str) -> dict[str, Any]:
    return {
        "v": variant,
        "kind": event.kind,
        "i": event.index,
        "t": _r(event.time_ms, 3),
        "page": str(event.page_id),
        "src": event.src,
        "dst": event.dst,
        "ms": _r(event.latency_ms, 3),
        "refault": bool(event.refault),
    }


def counters_of(snapshot: WindowSnapshot) -> dict[str, Any]:
    """The run's totals at the end of ``snapshot`` (what the counter cards show)."""
    c = snapshot.cumulative
    return {
        "accesses": snapshot.end,
        "requests": c.get("requests", 0),
        "hits": c.get("hits", 0),
        "faults": c.get("faults", 0),
        "evictions": c.get("evictions", 0),
        "refaults": c.get("refaults", 0),
        "hit_ratio": _r(c.get("hit_ratio", 0.0)),
        "miss_ratio": _r(c.get("miss_ratio", 0.0)),
        "thrash_index": _r(snapshot.thrash_index),
        "time_ms": _r(snapshot.time_ms, 3),
        "used": [t.used_tokens for t in snapshot.tiers],
    }


CSV_COLUMNS = [
    "variant", "window", "end_access", "time_ms", "accesses", "hits", "faults", "evictions",
    "refaults", "thrash_index", "latency_mean_ms", "latency_p50_ms", "latency_p95_ms",
    "latency_p99_ms", "cumulative_hit_ratio", "miss_ratio",
]


def csv_header(tier_names: list[str]) -> list[str]:
    return [
        *CSV_COLUMNS,
        *(f"{name}_hit_ratio" for name in tier_names),
        *(f"{name}_used_tokens" for name in tier_names),
    ]


def csv_row(variant: str, point: dict[str, Any], n_tiers: int) -> list[Any]:
    hr = list(point.get("hr", [])) + [""] * n_tiers
    used = list(point.get("used", [])) + [""] * n_tiers
    return [
        variant, point["seq"], point["end"], point["t"], point["acc"], point["hits"],
        point["faults"], point["ev"], point["rf"], point["thrash"], point["mean"], point["p50"],
        point["p95"], point["p99"], point["chr"], point["mr"], *hr[:n_tiers], *used[:n_tiers],
    ]
