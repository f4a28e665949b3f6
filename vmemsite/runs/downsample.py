"""Min-max buckets: a series of window points in a fixed budget of points, extended a point at
a time (docs/architecture.md §6). Pure Python, no Django: frames and the run overview use it.

Consecutive windows of a series fall into buckets of ``width`` windows
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
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

Point = dict[str, Any]
#: fields that say where a point is rather than what it measured: a bucket takes them from
#: its first window (low point) and its last one (high point), not a min or max
POSITION_FIELDS = ("seq", "end", "time_ms")


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
