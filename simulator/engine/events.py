"""The small typed records the engine hands to observers: notable events, window snapshots and
the final result. All are plain data with ``to_dict()`` so any observer can serialise them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

#: kinds of notable events
# a read missed L0; ``src`` is the tier that served it ("new": a first touch; "store": a page
# read back from the backing store after it had left every tier)
FAULT = "fault"
EVICT = "evict"  # a page left L0 (the context window) for ``dst``
DEMOTE = "demote"  # a page left a lower tier for ``dst`` ("" when dropped off the last tier)
PROMOTE = "promote"  # a page moved up without a fault (prefetch)
WRITEBACK = "writeback"  # a dirty page was written back on demotion


class Event(NamedTuple):
    kind: str
    index: int  # 0-based access index at which it happened
    time_ms: float
    page_id: Any
    src: str = ""
    dst: str = ""
    latency_ms: float = 0.0
    refault: bool = False

    def to_dict(self) -> dict[str, Any]:
        return self._asdict()


@dataclass
class LatencySummary:
    mean: float = 0.0
    p50: float = 0.0
    p95: float = 0.0
    p99: float = 0.0
    max: float = 0.0

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass
class TierStats:
    name: str
    capacity_tokens: int | None
    policy: str
    hits: int
    misses: int
    hit_ratio: float
    evictions: int
    demotions_in: int
    used_tokens: int
    pages: int
    spared: int = 0


@dataclass
class WindowSnapshot:
    """Metrics of one window of accesses ``[start, end)`` plus the state at its end.

    Counts (``accesses``, ``hits``, ``faults``…) are for the window; ``cumulative`` holds the
    run's totals so far; ``tiers`` gives each tier's window hits/misses and its occupancy now.
    """

    seq: int
    start: int
    end: int
    time_ms: float
    accesses: int
    hits: int
    faults: int
    evictions: int
    refaults: int
    thrash_index: float
    latency_ms: LatencySummary
    tiers: list[TierStats]
    cumulative: dict[str, Any]
    events: list[Event] = field(default_factory=list)
    progress: float | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["events"] = [e.to_dict() for e in self.events]
        return data


@dataclass
class RunResult:
    """Everything a finished (or paused) run measured. ``to_dict()`` is the CLI's ``--json``."""

    policy: str
    requests: int
    reads: int
    writes: int
    hits: int
    misses: int  # reads L0 did not serve: the faults (docs/metrics.md)
    allocations: int  # writes of pages L0 did not hold (nothing fetched)
    miss_ratio: float
    faults: int
    faults_by_tier: dict[str, int]
    refaults: int
    thrash_index: float
    latency_ms: LatencySummary
    sim_time_ms: float
    tiers: list[TierStats]
    tokens_moved: list[dict[str, Any]]
    writebacks: int
    prefetches: int
    prefetch_hits: int
    dropped: int
    mean_eviction_distance: float | None
    finished: bool
    regret: int | None = None
    opt_faults: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
