"""Metric arithmetic shared by every layer. The definitions are written out for users in
``docs/metrics.md``; keep the two in step."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence

from .events import LatencySummary


def ratio(part: float, whole: float) -> float:
    """``part / whole``, 0 when nothing was counted."""
    return part / whole if whole else 0.0


def nearest_rank(sorted_nonzero: Sequence[float], zeros: int, q: float) -> float:
    """The ``q``-quantile (0 < q ≤ 1) by the nearest-rank method over ``zeros`` zero values
    followed by ``sorted_nonzero`` (ascending). Zero latencies (L0 hits) are never stored one by
    one: a hit costs nothing, so only their number matters."""
    n = zeros + len(sorted_nonzero)
    if n == 0:
        return 0.0
    rank = max(1, math.ceil(q * n))
    if rank <= zeros:
        return 0.0
    return float(sorted_nonzero[rank - zeros - 1])


class LatencyHistogram:
    """Non-zero latencies kept as value -> count, so memory is bounded by the number of distinct
    values, not by the run's length (docs/metrics.md, "Time and latency").

    Quantiles are exact while at most ``max_distinct`` distinct values have been seen. Past
    that (continuous latency models over long runs), every value is rounded to a binary
    mantissa of fewer bits — fewer each time the table fills up — which bounds the relative
    error of a quantile by 2**-(bits+1) (0.01 % at the first rounding, 16 bits)."""

    __slots__ = ("bits", "counts", "max_distinct", "n")

    #: the mantissa widths tried in turn when the table fills up
    WIDTHS = (16, 12, 10, 8, 6, 4, 2, 0)

    def __init__(self, max_distinct: int = 4096) -> None:
        self.counts: dict[float, int] = {}
        self.max_distinct = max_distinct
        self.bits: int | None = None  # None: values are kept exactly
        self.n = 0

    def add(self, value: float) -> None:
        if self.bits is not None:
            value = _round_mantissa(value, self.bits)
        counts = self.counts
        counts[value] = counts.get(value, 0) + 1
        self.n += 1
        if len(counts) > self.max_distinct:
            self._coarsen()

    def _coarsen(self) -> None:
        for bits in self.WIDTHS:
            if self.bits is not None and bits >= self.bits:
                continue
            self.bits = bits
            merged: dict[float, int] = {}
            for value, count in self.counts.items():
                key = _round_mantissa(value, bits)
                merged[key] = merged.get(key, 0) + count
            self.counts = merged
            if len(merged) <= self.max_distinct // 2:
                return

    def __len__(self) -> int:
        return self.n

    def summary(self, total_accesses: int) -> LatencySummary:
        """Like :func:`summarize_latency` over the values added."""
        if total_accesses == 0:
            return LatencySummary()
        ordered = sorted(self.counts.items())
        zeros = total_accesses - self.n

        def quantile(q: float) -> float:
            rank = max(1, math.ceil(q * total_accesses))
            if rank <= zeros:
                return 0.0
            seen = zeros
            for value, count in ordered:
                seen += count
                if seen >= rank:
                    return float(value)
            return float(ordered[-1][0])

        return LatencySummary(
            mean=math.fsum(v * c for v, c in ordered) / total_accesses,
            p50=quantile(0.50), p95=quantile(0.95), p99=quantile(0.99),
            max=float(ordered[-1][0]) if ordered else 0.0,
        )


def _round_mantissa(value: float, bits: int) -> float:
    mantissa, exponent = math.frexp(value)
    scale = 1 << bits
    return math.ldexp(round(mantissa * scale) / scale, exponent)


def summarize_latency(costs: Sequence[float], total_accesses: int) -> LatencySummary:
    """Mean and p50/p95/p99/max over ``total_accesses`` accesses, of which those not in
    ``costs`` took 0 ms. ``costs`` holds the non-zero access latencies in any order."""
    ordered = sorted(costs)
    zeros = total_accesses - len(ordered)
    if total_accesses == 0:
        return LatencySummary()
    return LatencySummary(
        mean=math.fsum(ordered) / total_accesses,
        p50=nearest_rank(ordered, zeros, 0.50),
        p95=nearest_rank(ordered, zeros, 0.95),
        p99=nearest_rank(ordered, zeros, 0.99),
        max=float(ordered[-1]) if ordered else 0.0,
    )


class _NoStamps(dict):
    """The eviction stamps of a run that does not track refaults: it keeps none."""

    def __setitem__(self, page_id: object, stamp: int) -> None:
        pass


class ThrashMeter:
    """Refaults and the thrash index.

    The engine reports each L0 eviction (``evicted``) and each fault (``stamp_of``, then
    ``judge``). A fault is a *refault* when the page's eviction distance — L0 evictions since
    its own — is at most the number of pages resident in L0 at that moment: with L0 twice as
    large it would still have been there (the kernel's workingset refault test). The thrash
    index is refaults over the last ``window`` accesses, anchored at the current access.

    Only evictions within the last ``horizon`` ones (L0's capacity: no more pages than that
    can be resident, so no farther eviction can make a refault) are remembered, in two
    generations of at most ``horizon + 1`` stamps each; the younger becomes the older every
    ``horizon + 1`` evictions and the older is dropped. So the stamps stay bounded however many
    distinct pages a trace has (one table of every evicted page grew by ~100 bytes a page), and
    two small tables stay in the processor's cache where one large one did not
    (bench/README.md). ``horizon=None`` (an L0 without a capacity) remembers every eviction.
    """

    __slots__ = ("distance_count", "distance_sum", "evictions", "horizon", "older",
                 "positions", "recent", "refaults", "renew_at", "window")

    def __init__(self, window: int, horizon: int | None = None, remember: bool = True) -> None:
        self.window = window
        self.horizon = horizon
        self.evictions = 0
        # the stamps (eviction count at each page's eviction) of the current generation and
        # of the one before; a run that does not remember keeps none
        self.recent: dict[object, int] = {} if remember else _NoStamps()
        self.older: dict[object, int] = {}
        #: the eviction count at which ``recent`` becomes ``older``: generations of horizon + 1
        #: evictions, so that right after a renewal ``older`` still holds the eviction exactly
        #: ``horizon`` ago (a refault when L0 is full of one-token pages)
        self.renew_at = horizon + 1 if horizon is not None else math.inf
        # the accesses that refaulted; only the last ``window`` accesses' can count, so the
        # deque never needs more (memory bounded however long a window, without a trim per
        # refault; index_at drops the ones that fell out of the window)
        self.positions: deque[int] = deque(maxlen=window)
        self.refaults = 0
        self.distance_sum = 0
        self.distance_count = 0

    def evicted(self, page_id: object) -> None:
        self.evictions += 1
        self.recent[page_id] = self.evictions
        if self.evictions >= self.renew_at:
            self.renew(self.evictions)

    def renew(self, evictions: int) -> tuple[dict[object, int], dict[object, int]]:
        """Start a new generation at eviction count ``evictions`` (the caller's, which may be
        ahead of ``self.evictions``); returns the new (recent, older) pair."""
        self.older, self.recent = self.recent, type(self.recent)()
        self.renew_at = evictions + self.horizon + 1
        return self.recent, self.older

    def stamp_of(self, page_id: object) -> int | None:
        """The eviction stamp of ``page_id`` if it was evicted within the horizon (forgotten
        either way: the page is coming back)."""
        stamp = self.recent.pop(page_id, None)
        if stamp is None:
            stamp = self.older.pop(page_id, None)
            if stamp is not None and self.evictions - stamp > self.horizon:
                return None
        return stamp

    def is_refault(self, page_id: object, index: int, resident_pages: int) -> bool:
        """Judge a fault on ``page_id`` at access ``index`` (``resident_pages`` in L0 now)."""
        stamp = self.stamp_of(page_id)
        return stamp is not None and self.judge(stamp, index, resident_pages)

    def judge(self, stamp: int, index: int, resident_pages: int) -> bool:
        """The refault test for a page whose eviction stamp (from ``stamp_of``) is ``stamp``."""
        distance = self.evictions - stamp
        self.distance_sum += distance
        self.distance_count += 1
        if distance <= resident_pages:
            self.refaults += 1
            self.positions.append(index)
            return True
        return False

    def index_at(self, processed: int) -> float:
        """Thrash index after ``processed`` accesses (the last one is index processed-1)."""
        if processed == 0:
            return 0.0
        low = processed - self.window
        positions = self.positions
        while positions and positions[0] < low:
            positions.popleft()
        return len(positions) / min(self.window, processed)

    @property
    def mean_distance(self) -> float | None:
        return self.distance_sum / self.distance_count if self.distance_count else None
