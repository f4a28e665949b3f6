"""A run's overview: every series downsampled to a fixed budget of points (min-max buckets,
:mod:`vmemsite.runs.downsample`), kept as the run goes (docs/architecture.md §6).

**The cache.** :class:`~vmemsite.runs.models.RunOverview` stores, per run, the buckets of
every series, the last notable events and a sparse index of chunks (chunk ``seq`` → the last
access it holds), up to the last chunk it has folded in. Reading a state folds in only the
chunks stored since (:func:`overview_refresh`), so a late viewer's state costs the overview
plus a few chunks, not the whole run; the windows pages use the index to start near their
cursor instead of at the first chunk.
"""

from __future__ import annotations

from collections import deque
from itertools import groupby
from typing import Any

from django.db import IntegrityError, transaction

from .downsample import Downsampler
from .frames import SERIES_POINTS, STATE_EVENTS, STATE_POINTS
from .models import Run, RunChunk, RunOverview

Point = dict[str, Any]
#: bump when the stored form changes: older caches are rebuilt from the chunks
VERSION = 1
#: entries of the sparse chunk index at most
INDEX_ENTRIES = 1000
#: rows of one windows page at most
PAGE_ROWS = 5000


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
