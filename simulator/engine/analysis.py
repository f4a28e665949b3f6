"""What a trace is made of, in one streaming pass with bounded memory (docs/analysis.md).

:func:`analyse` reads a stream of accesses once and returns a :class:`TraceAnalysis`:
stack-distance and reuse-distance histograms, popularity (rank-frequency with a fitted Zipf
exponent), one-hit wonders, footprint, the working-set size W(t, tau) and the footprint over
time, the request rate over time, an access heatmap (time x popularity rank) and the size
distribution. Every number is defined in docs/analysis.md.

Like the miss-ratio curves (docs/mrc.md), the analysis is of the **reference string**: reads
and writes are references, ``pin``/``unpin`` are counted and otherwise left out.

Memory grows with the number of distinct pages (a few arrays indexed by page, as the
engine's page table does) and with the largest window tau, never with the trace's length:
every series over time is kept at a bounded number of points by merging neighbours.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import numpy as np

from .access import Access, Op
from .errors import ConfigError
from .stackdist import FIRST, UnitStack

__all__ = ["DEFAULT_TAUS", "TraceAnalysis", "analyse", "log2_bucket_label", "zipf_fit"]

_READ, _WRITE = Op.READ, Op.WRITE
#: the windows tau (in references) of the working-set series, by default
DEFAULT_TAUS = (1_000, 10_000, 100_000)
#: references per numpy batch
_BATCH = 1 << 12
#: references in a heatmap row at first (rows double as they merge): a short trace still
#: gets several rows
_FIRST_SPAN = 16


def log2_bucket_label(k: int) -> str:
    """The values of log2 bucket ``k``: 0 for k = 0, else [2^(k-1), 2^k - 1]."""
    if k == 0:
        return "0"
    low, high = 1 << (k - 1), (1 << k) - 1
    return str(low) if low == high else f"{low}-{high}"


def _log2_buckets(values: np.ndarray) -> np.ndarray:
    """Bucket of each non-negative integer: 0 for 0, else its bit length (1 -> 1, 2..3 -> 2,
    4..7 -> 3, …)."""
    return np.frexp(values.astype(np.float64))[1].astype(np.int64)


def _add_counts(target: list[int], buckets: np.ndarray) -> None:
    if len(buckets):
        counts = np.bincount(buckets)
        target.extend([0] * (len(counts) - len(target)))
        for k, c in enumerate(counts.tolist()):
            target[k] += c


def zipf_fit(frequencies_desc: np.ndarray, points_per_decade: int = 20) -> dict[str, Any]:
    """The Zipf exponent alpha of a rank-frequency curve (frequencies in descending order).

    Fitted by ordinary least squares of log10(frequency) on log10(rank) at log-spaced ranks
    (``points_per_decade`` per decade, each rank once) from rank 1 to the last rank seen at
    least twice: the plateau of pages seen once is a floor of a finite trace, not a slope.
    alpha = -slope. Fewer than 3 such ranks: alpha is None. Returns alpha, r2 and the ranks used."""
    counts = np.asarray(frequencies_desc, dtype=np.float64)
    last = int(np.count_nonzero(counts >= 2))
    ranks = _log_ranks(last, points_per_decade)
    if len(ranks) < 3:
        return {"alpha": None, "r2": None, "fit_ranks": [1, last] if last else []}
    x = np.log10(ranks.astype(np.float64))
    y = np.log10(counts[ranks - 1])
    slope, intercept = np.polyfit(x, y, 1)
    fitted = slope * x + intercept
    total = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(np.sum((y - fitted) ** 2)) / total if total > 0 else 1.0
    return {"alpha": float(-slope), "r2": r2, "fit_ranks": [1, last]}


def _log_ranks(last: int, per_decade: int) -> np.ndarray:
    """Ranks 1..last, log-spaced, each once."""
    if last < 1:
        return np.zeros(0, dtype=np.int64)
    count = max(2, math.ceil(math.log10(last) * per_decade) + 1) if last > 1 else 1
    return np.unique(np.round(np.geomspace(1, last, count)).astype(np.int64))


@dataclass
class _Series:
    """Values sampled every ``stride`` references, at most ``limit`` points: when full, every
    other point is dropped and the stride doubles."""

    limit: int
    stride: int
    points: list[tuple[int, tuple[int, ...]]] = field(default_factory=list)

    def offer(self, index: int, values: tuple[int, ...]) -> None:
        if index % self.stride:
            return
        self.points.append((index, values))
        if len(self.points) > self.limit:
            self.stride *= 2
            self.points = [p for p in self.points if p[0] % self.stride == 0]

    def end(self, index: int, values: tuple[int, ...]) -> None:
        """The values after the last reference: always the series' last point (in place of
        the last sampled one when the series is full)."""
        if self.points and self.points[-1][0] == index:
            return
        if len(self.points) >= self.limit:
            self.points.pop()
        self.points.append((index, values))


class _WorkingSet:
    """W(t, tau) for every reference t, from a difference array over a ring of positions.

    Reference j counts in W(t, tau) when it is in the window (t - tau, t] and is the first
    reference to its page there, i.e. for t in [max(j, prev_j + tau), j + tau): +1 at the first
    position, -1 at the second. Positions are kept modulo a ring longer than tau + a batch."""

    def __init__(self, tau: int) -> None:
        self.tau = tau
        self.size = tau + _BATCH + 1
        self.diff = np.zeros(self.size, dtype=np.int64)
        self.value = 0

    def batch(self, positions: np.ndarray, previous: np.ndarray) -> np.ndarray:
        """W after each of the batch's references (``previous`` < 0: first reference)."""
        tau = self.tau
        start = np.where(previous < 0, positions, np.maximum(positions, previous + tau))
        np.add.at(self.diff, start % self.size, 1)
        np.add.at(self.diff, (positions + tau) % self.size, -1)
        ring = positions % self.size
        values = self.value + np.cumsum(self.diff[ring])
        self.diff[ring] = 0
        self.value = int(values[-1])
        return values


class _Rows:
    """The heatmap's rows: per row of consecutive references, how often each page (dense id)
    was referenced. At most ``limit`` rows: when full, neighbouring rows merge and each row
    spans twice as many references."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.span = _FIRST_SPAN
        self.rows: list[tuple[np.ndarray, np.ndarray]] = []
        self.current: list[np.ndarray] = []
        self.filled = 0

    def add(self, ids: np.ndarray) -> None:
        while len(ids):
            piece, ids = ids[:self.span - self.filled], ids[self.span - self.filled:]
            self.current.append(piece)
            self.filled += len(piece)
            if self.filled >= self.span:
                self._close()

    def _close(self) -> None:
        if self.current:
            pages, counts = np.unique(np.concatenate(self.current), return_counts=True)
            self.rows.append((pages, counts))
        self.current, self.filled = [], 0
        if len(self.rows) > self.limit:
            merged = []
            for k in range(0, len(self.rows) - 1, 2):
                (p1, c1), (p2, c2) = self.rows[k], self.rows[k + 1]
                pages, inverse = np.unique(np.concatenate([p1, p2]), return_inverse=True)
                merged.append((pages, np.bincount(inverse, weights=np.concatenate([c1, c2]))
                               .astype(np.int64)))
            if len(self.rows) % 2:
                merged.append(self.rows[-1])
            self.rows = merged
            self.span *= 2

    def finish(self) -> list[tuple[np.ndarray, np.ndarray]]:
        self._close()
        return self.rows


class _RateHistogram:
    """Requests per interval of the trace's ``time``, at most ``limit`` intervals: when more
    are needed, the width doubles and neighbours merge."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.width = 1.0
        self.counts: dict[int, int] = {}

    def add(self, times: np.ndarray) -> None:
        keys, counts = np.unique(np.floor(times / self.width).astype(np.int64),
                                 return_counts=True)
        for key, count in zip(keys.tolist(), counts.tolist(), strict=True):
            self.counts[key] = self.counts.get(key, 0) + count
        while len(self.counts) > self.limit:
            self.width *= 2
            merged: dict[int, int] = {}
            for key, count in self.counts.items():
                merged[key // 2] = merged.get(key // 2, 0) + count
            self.counts = merged

    def intervals(self) -> list[dict[str, float]]:
        width = self.width
        return [{"start": key * width, "end": (key + 1) * width, "requests": count,
                 "rate": count / width} for key, count in sorted(self.counts.items())]


@dataclass
class TraceAnalysis:
    """The result of :func:`analyse`; every field is defined in docs/analysis.md."""

    references: int
    control_ops: int
    pages: int
    tokens: int
    requested_tokens: int
    one_hit_wonders: int
    stack_cold: int
    stack_histogram: list[int]
    reuse_histogram: list[int]
    rank_frequency: list[tuple[int, int]]
    zipf: dict[str, Any]
    taus: tuple[int, ...]
    working_set: list[dict[str, Any]]
    request_rate: list[dict[str, float]]
    heatmap: dict[str, Any]
    size_requests: list[int]
    size_pages: list[int]

    @property
    def one_hit_wonder_ratio(self) -> float:
        return self.one_hit_wonders / self.pages if self.pages else 0.0

    def to_dict(self) -> dict[str, Any]:
        def labelled(counts: list[int], first: int = 0) -> list[dict[str, Any]]:
            return [{"bucket": log2_bucket_label(k), "count": counts[k]}
                    for k in range(first, len(counts))]

        return {
            "references": self.references,
            "control_ops": self.control_ops,
            "footprint": {"pages": self.pages, "tokens": self.tokens},
            "requested_tokens": self.requested_tokens,
            "one_hit_wonders": self.one_hit_wonders,
            "one_hit_wonder_ratio": self.one_hit_wonder_ratio,
            "stack_distance": {"cold": self.stack_cold,
                               "histogram": labelled(self.stack_histogram)},
            "reuse_distance": {"cold": self.stack_cold,
                               "histogram": labelled(self.reuse_histogram)},
            "popularity": {"rank_frequency": [{"rank": r, "frequency": f}
                                              for r, f in self.rank_frequency],
                           "zipf": self.zipf},
            "working_set": {"taus": list(self.taus), "points": self.working_set},
            "request_rate": self.request_rate,
            "heatmap": self.heatmap,
            # a size is at least 1 token: no "0" bucket, always empty
            "sizes": {"requests": labelled(self.size_requests, 1),
                      "pages": labelled(self.size_pages, 1)},
        }


class _PerPage:
    """Growable int64 arrays indexed by dense page id."""

    def __init__(self) -> None:
        self.size = 0
        self.count = np.zeros(1024, dtype=np.int64)
        self.last = np.full(1024, -1, dtype=np.int64)
        self.tokens = np.zeros(1024, dtype=np.int64)

    def grow(self, pages: int) -> None:
        if pages > len(self.count):
            capacity = max(pages, 2 * len(self.count))
            extra = capacity - len(self.count)
            self.count = np.concatenate([self.count, np.zeros(extra, np.int64)])
            self.last = np.concatenate([self.last, np.full(extra, -1, np.int64)])
            self.tokens = np.concatenate([self.tokens, np.zeros(extra, np.int64)])
        self.size = pages


def _references(accesses: Iterable[Access], skipped: list[int]
                ) -> Iterator[tuple[float, Any, int]]:
    for access in accesses:
        op = access[3]
        if op is _READ or op is _WRITE:
            yield access[0], access[1], access[2]
        else:
            skipped[0] += 1


def _check_positive_ints(values: Sequence[int], field: str) -> tuple[int, ...]:
    out = tuple(values)
    if not out or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in out):
        raise ConfigError(f"expected positive integers, got {values!r}", field=field)
    return out


def analyse(
    accesses: Iterable[Access], *, taus: Sequence[int] = DEFAULT_TAUS, points: int = 512,
    heat_rows: int = 32, rate_intervals: int = 512, unit_pages: bool = False,
) -> TraceAnalysis:
    """Analyse a stream of accesses in one pass (docs/analysis.md).

    ``taus``: the windows of W(t, tau), in references; ``points``: the most points of a series
    over time; ``heat_rows``: the most rows (time) of the heatmap; ``rate_intervals``: the
    most intervals of the request rate. ``unit_pages`` counts every page as one token.
    """
    taus = _check_positive_ints(taus, "taus")
    points, heat_rows, rate_intervals = _check_positive_ints(
        (points, heat_rows, rate_intervals), "points")
    stack = UnitStack()
    ids = stack.ids
    per_page = _PerPage()
    windows = [_WorkingSet(tau) for tau in taus]
    series = _Series(points, 1)
    rows = _Rows(heat_rows)
    rate = _RateHistogram(rate_intervals)
    stack_hist: list[int] = []
    reuse_hist: list[int] = []
    size_requests: list[int] = []
    cold = 0
    requested_tokens = 0
    position = 0
    skipped = [0]
    references = _references(accesses, skipped)
    while batch := list(islice(references, _BATCH)):
        count = len(batch)
        found = np.fromiter(stack.distances(page for _, page, _ in batch), dtype=np.int64,
                            count=count)
        dense = np.fromiter((ids[page] for _, page, _ in batch), dtype=np.int64, count=count)
        times = np.fromiter((t for t, _, _ in batch), dtype=np.float64, count=count)
        tokens = np.ones(count, np.int64) if unit_pages else np.fromiter(
            (n for _, _, n in batch), dtype=np.int64, count=count)
        per_page.grow(len(ids))
        positions = np.arange(position, position + count, dtype=np.int64)
        previous = _previous_positions(dense, positions, per_page)
        first = found == FIRST
        footprint_now = cold + np.cumsum(first)
        cold = int(footprint_now[-1])
        _add_counts(stack_hist, _log2_buckets(found[~first]))
        _add_counts(reuse_hist, _log2_buckets(positions[~first] - previous[~first] - 1))
        _add_counts(size_requests, _log2_buckets(tokens))
        requested_tokens += int(tokens.sum())
        per_page.count += np.bincount(dense, minlength=len(per_page.count))
        _last_wins(per_page.tokens, dense, tokens)
        working = [w.batch(positions, previous) for w in windows]
        for k in np.flatnonzero((positions + 1) % series.stride == 0).tolist():
            series.offer(position + k + 1, (int(footprint_now[k]),
                                            *(int(w[k]) for w in working)))
        rows.add(dense)
        rate.add(times)
        position += count
        last = (int(footprint_now[-1]), *(int(w[-1]) for w in working))
    if position:
        series.end(position, last)
    pages = len(ids)
    counts = per_page.count[:pages]
    order = np.argsort(-counts, kind="stable")  # ties: the page referenced first ranks first
    frequencies = counts[order]
    return TraceAnalysis(
        references=position, control_ops=skipped[0], pages=pages,
        tokens=int(per_page.tokens[:pages].sum()), requested_tokens=requested_tokens,
        one_hit_wonders=int(np.count_nonzero(counts == 1)), stack_cold=cold,
        stack_histogram=stack_hist, reuse_histogram=reuse_hist,
        rank_frequency=[(int(r), int(frequencies[r - 1]))
                        for r in _log_ranks(pages, 20).tolist()],
        zipf=zipf_fit(frequencies), taus=taus,
        working_set=[{"references": index, "footprint": values[0],
                      "w": dict(zip(map(str, taus), values[1:], strict=True))}
                     for index, values in series.points],
        request_rate=rate.intervals(),
        heatmap=_heatmap(rows.finish(), rows.span, order, pages),
        size_requests=size_requests,
        size_pages=_size_pages(per_page.tokens[:pages]),
    )


def _previous_positions(dense: np.ndarray, positions: np.ndarray, per_page: _PerPage
                        ) -> np.ndarray:
    """The position of each reference's previous reference to its page (-1 if none), and
    ``per_page.last`` moved to the batch's last reference of each page."""
    order = np.argsort(dense, kind="stable")
    sorted_ids = dense[order]
    same = np.zeros(len(order), dtype=bool)
    same[1:] = sorted_ids[1:] == sorted_ids[:-1]
    previous_sorted = np.where(same, np.roll(positions[order], 1), per_page.last[sorted_ids])
    previous = np.empty_like(previous_sorted)
    previous[order] = previous_sorted
    last_of_page = np.ones(len(order), dtype=bool)
    last_of_page[:-1] = ~same[1:]
    per_page.last[sorted_ids[last_of_page]] = positions[order][last_of_page]
    return previous


def _last_wins(target: np.ndarray, index: np.ndarray, values: np.ndarray) -> None:
    """``target[index] = values`` where, for a repeated index, the last value is kept."""
    order = np.argsort(index, kind="stable")
    sorted_index = index[order]
    last = np.ones(len(order), dtype=bool)
    last[:-1] = sorted_index[1:] != sorted_index[:-1]
    target[sorted_index[last]] = values[order][last]


def _size_pages(sizes: np.ndarray) -> list[int]:
    out: list[int] = []
    _add_counts(out, _log2_buckets(sizes))
    return out


def _heatmap(rows: list[tuple[np.ndarray, np.ndarray]], span: int, order: np.ndarray,
             pages: int) -> dict[str, Any]:
    """References per (row of time, popularity-rank bucket). Rank r (1 = most referenced)
    falls in bucket ⌊log2 r⌋; row k covers references [k·span, (k+1)·span)."""
    rank = np.empty(pages, dtype=np.int64)
    rank[order] = np.arange(1, pages + 1)
    columns = int(_log2_buckets(np.array([pages]))[0]) if pages else 0
    grid = np.zeros((len(rows), columns), dtype=np.int64)
    for k, (ids, counts) in enumerate(rows):
        buckets = _log2_buckets(rank[ids]) - 1
        grid[k] = np.bincount(buckets, weights=counts, minlength=columns)[:columns]
    return {
        "row_references": span,
        "columns": [log2_bucket_label(c + 1) for c in range(columns)],
        "grid": grid.tolist(),
    }
