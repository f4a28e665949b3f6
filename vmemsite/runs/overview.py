"""A run's overview: every series downsampled to a fixed budget of points, kept as the run goes
(docs/architecture.md §6).

**Min-max buckets.** Consecutive windows of a series fall into buckets of ``width`` windows
(a power of two). A bucket of one window is that window; a bucket of more is two points, its
*low* and its *high*: every measured field is the smallest (low) or largest (high) value in the
bucket, element-wise for the per-tier lists, and the position fields (``seq``, ``end``,
``time_ms``) are the bucket's first window's (low) and last window's (high); both carry
``windows``, the number of windows in the bucket. So a chart of the overview has the same
envelope as the full series: no spike is lost, however long the run. When the points pass
the budget, neighbouring buckets merge pairwise and the width doubles, so a series holds
between half the budget and the budget.

Libraries considered: ``tsdownsample`` and ``lttb`` downsample one numeric array in one pass
over all of it (numpy); a run's windows have fifteen fields and arrive a frame at a time, and
the overview must be extended as chunks come, stored as JSON and never re-read from the start.
The pairwise-merging buckets above do that in a few lines; ``tests/web/test_overview.py``
checks them against a direct computation.

**The cache.** :class:`~vmemsite.runs.models.RunOverview` stores, per run, the buckets of
every series, the last notable events and a sparse index of chunks (chunk ``seq`` → the last
access it holds), up to the last chunk it has folded in. Reading a state folds in only the
chunks stored since (:func:`overview_refresh`), so a late viewer's state costs the overview
plus a few chunks, not the whole run; the windows pages use the index to start near their
cursor instead of at the first chunk.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from itertools import groupby
from typing import Any

from django.db import IntegrityError, transaction

from .frames import POSITION_FIELDS, SERIES_POINTS, STATE_EVENTS, STATE_POINTS
from .models import Run, RunChunk, RunOverview

Point = dict[str, Any]
#: bump when the stored form changes: older caches are rebuilt from the chunks
VERSION = 1
#: entries of the sparse chunk index at most
INDEX_ENTRIES = 1000
#: rows of one windows page at most
PAGE_ROWS = 5000


def _edge(a: Point, b: Point, pick, position_from: Point) -> Point:
    out: Point = {}
    for key, value in a.items():
        if key == "windows":
            continue
        if key in POSITION_FIELDS:
            out[key] = position_from[key]
        elif isinstance(value, list):
            other = b.get(key, value)
            out[key] = [pick(x, y) for x, y in zip(value, other, strict=False)]
        else:
            out[key] = pick(value, b.get(key, value))
    return out


def merge_low(a: Point, b: Point) -> Point:
    """The low edge of two neighbouring buckets (``a`` first): minima, at ``a``'s position."""
    return _edge(a, b, min, a)


def merge_high(a: Point, b: Point) -> Point:
    """The high edge of two neighbouring buckets (``a`` first): maxima, at ``b``'s position."""
    return _edge(a, b, max, b)


class Downsampler:
    """Min-max buckets of one series, extended a point at a time (see the module docstring).

    ``buckets`` are ``[n, low, high]`` (``high`` None when ``n == 1``: ``low`` is the window
    itself)."""

    def __init__(self, budget: int, width: int = 1,
                 buckets: list[list[Any]] | None = None) -> None:
        if budget < 2:
            raise ValueError("a budget of at least 2 points")
        self.budget = budget
        self.width = width
        self.buckets: list[list[Any]] = buckets if buckets is not None else []
        self.size = sum(1 if n == 1 else 2 for n, _, _ in self.buckets)

    def add(self, point: Point) -> None:
        buckets = self.buckets
        if buckets and buckets[-1][0] < self.width:
            n, low, high = buckets[-1]
            top = high if high is not None else low
            buckets[-1] = [n + 1, merge_low(low, point), merge_high(top, point)]
            if n == 1:
                self.size += 1
        else:
            buckets.append([1, point, None])
            self.size += 1
        while self.size > self.budget:
            self._halve()

    def extend(self, points: Iterable[Point]) -> None:
        for point in points:
            self.add(point)

    def _halve(self) -> None:
        old = self.buckets
        merged: list[list[Any]] = []
        for i in range(0, len(old) - 1, 2):
            (n1, low1, high1), (n2, low2, high2) = old[i], old[i + 1]
            merged.append([n1 + n2, merge_low(low1, low2),
                           merge_high(high1 or low1, high2 or low2)])
        if len(old) % 2:
            merged.append(old[-1])
        self.buckets = merged
        self.width *= 2
        self.size = sum(1 if n == 1 else 2 for n, _, _ in merged)

    def points(self) -> list[Point]:
        out: list[Point] = []
        for n, low, high in self.buckets:
            if n == 1:
                out.append(low)
            else:
                out.append({**low, "windows": n})
                out.append({**high, "windows": n})
        return out

    def to_json(self) -> dict[str, Any]:
        return {"budget": self.budget, "width": self.width, "buckets": self.buckets}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Downsampler:
        return cls(data["budget"], data["width"], data["buckets"])


def downsample(points: list[Point], budget: int) -> list[Point]:
    """``points`` (consecutive windows of one series) in at most ``budget`` points, min and
    max of every field kept per bucket; as they are when they fit."""
    if len(points) <= budget:
        return points
    sampler = Downsampler(budget)
    sampler.extend(points)
    return sampler.points()


def series_budget(n_series: int) -> int:
    """Points per series in a state: :data:`SERIES_POINTS`, less when many series share the
    :data:`STATE_POINTS` of one state."""
    return max(2, min(SERIES_POINTS, STATE_POINTS // max(1, n_series)))


# --- the stored overview of a run -----------------------------------------------------------


class Overview:
    """A run's overview as stored in :class:`RunOverview` (see the module docstring)."""

    def __init__(self, budget: int, data: dict[str, Any] | None = None) -> None:
        data = data if data and data.get("version") == VERSION and data.get(
            "budget") == budget else {}
        self.budget = budget
        self.seq: int = data.get("seq", -1)
        self.series = {label: Downsampler.from_json(s)
                       for label, s in data.get("series", {}).items()}
        self.events: deque[dict[str, Any]] = deque(data.get("events", []), maxlen=STATE_EVENTS)
        index = data.get("index", {})
        self.index: list[list[int]] = index.get("entries", [])
        self.stride: int = index.get("stride", 1)
        self.chunks: int = index.get("chunks", 0)
        self.last_end: int = index.get("last_end", 0)

    def fold(self, seq: int, points: dict[str, list[Point]], events: list[dict]) -> None:
        """Add one chunk (they come in ``seq`` order)."""
        for label, rows in points.items():
            sampler = self.series.get(label)
            if sampler is None:
                sampler = self.series[label] = Downsampler(self.budget)
            sampler.extend(rows)
            if rows:
                self.last_end = max(self.last_end, rows[-1]["end"])
        self.events.extend(events)
        if self.chunks % self.stride == 0:
            self.index.append([seq, self.last_end])
            if len(self.index) > INDEX_ENTRIES:
                self.index = self.index[::2]
                self.stride *= 2
        self.chunks += 1
        self.seq = seq

    def start_after(self, access: int) -> int:
        """A chunk ``seq`` such that every point with ``end > access`` is in a later chunk."""
        start = -1
        for seq, end in self.index:
            if end > access:
                break
            start = seq
        return start

    def points(self, labels: list[str]) -> dict[str, list[Point]]:
        out = {label: [] for label in labels}
        for label, sampler in self.series.items():
            out[label] = sampler.points()
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "budget": self.budget,
            "seq": self.seq,
            "series": {label: s.to_json() for label, s in self.series.items()},
            "events": list(self.events),
            "index": {"entries": self.index, "stride": self.stride, "chunks": self.chunks,
                      "last_end": self.last_end},
        }


def _chunks_after(run: Run, seq: int):
    return (RunChunk.objects.filter(run=run, seq__gt=seq).order_by("seq")
            .values_list("seq", "points", "events").iterator(chunk_size=20))


def overview_refresh(run: Run, n_series: int) -> Overview:
    """The run's overview with every stored chunk folded in; the stored copy is brought up to
    date on the way (a cache: losing a race to another viewer only means both computed it)."""
    budget = series_budget(n_series)
    stored = RunOverview.objects.filter(run=run).values_list("data", flat=True).first()
    overview = Overview(budget, stored)
    before = overview.seq
    for seq, points, events in _chunks_after(run, overview.seq):
        overview.fold(seq, points, events)
    if overview.seq == before and stored is not None and stored.get("seq") == before:
        return overview
    data = overview.to_json()
    if stored is None:
        try:
            with transaction.atomic():
                RunOverview.objects.create(run=run, seq=overview.seq, data=data)
        except IntegrityError:  # another viewer stored it first
            pass
    else:
        RunOverview.objects.filter(run=run, seq__lte=overview.seq).update(
            seq=overview.seq, data=data)
    return overview


def windows_page(run: Run, overview: Overview, *, after: int, limit: int,
                 until: int | None = None, series: str | None = None) -> dict[str, Any]:
    """Full-resolution points with ``after < end`` (and ``end <= until``), at most ``limit``
    rows across the series (or of ``series`` alone), in access order; a page ends between two
    ends, never inside one. ``next`` is the cursor of the following page (pass it as
    ``after``), None when nothing more is stored."""
    limit = max(1, min(limit, PAGE_ROWS))
    out: dict[str, list[Point]] = {}
    rows = 0
    last = after
    for _, points, _ in _chunks_after(run, overview.start_after(after)):
        chosen = sorted(
            ((label, p) for label, items in points.items() if series in (None, label)
             for p in items if p["end"] > after and (until is None or p["end"] <= until)),
            key=_end_of)
        for end, group in groupby(chosen, key=_end_of):
            group = list(group)
            if rows and rows + len(group) > limit:
                return {"points": out, "next": last}
            for label, point in group:
                out.setdefault(label, []).append(point)
            rows += len(group)
            last = end
        if until is not None and any(items and items[-1]["end"] >= until
                                     for items in points.values()):
            break  # later chunks hold later windows only
    return {"points": out, "next": None}


def _end_of(item: tuple[str, Point]) -> int:
    return item[1]["end"]
