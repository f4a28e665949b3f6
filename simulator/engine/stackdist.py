"""LRU stack distances in one pass (Mattson et al. 1970; defined in docs/mrc.md §2).

The **stack distance** of a reference to a page is what was referenced since the previous
reference to the same page: the number of distinct other pages (:class:`UnitStack`), or the
tokens of those pages (:class:`TokenStack`). A first reference has no distance
(:data:`FIRST`). Both count *marks*: a page's mark sits at the position of its latest
reference, so the pages referenced after position ``p`` are exactly the marks after ``p``.

* :class:`UnitStack` keeps the marks in a compressed bitmap (CRoaring, through ``pyroaring``)
  whose ``rank`` counts the marks up to a position in C. Positions advance by
  :data:`_STEP`, so that a chunk of 65,536 positions holds at most 4,096 marks: CRoaring keeps
  such a chunk as a sorted array, where a rank is a binary search, rather than as a bitset,
  where it counts the bits from the chunk's start (2.3 times faster on a Zipf trace;
  bench/README.md).
* :class:`TokenStack` weighs each mark with its page's tokens in a Fenwick (binary indexed)
  tree: O(log M) per reference for M distinct pages.

Positions only grow, so both renumber the marks ``0..M-1`` (order kept) whenever the position
counter reaches a bound that grows with M: memory and the cost of a rank stay bounded by the
number of distinct pages, never by the length of the trace, and renumbering costs O(1) per
reference amortised.

Each class hands out a dense id per page (``ids``: page -> 0, 1, 2, … in order of first
reference) and consumes a whole stream through a generator, so that the per-reference work
happens on local variables: this loop is what an exact LRU curve costs.
"""

from __future__ import annotations

from array import array
from collections.abc import Hashable, Iterable, Iterator

import numpy as np
from pyroaring import BitMap

__all__ = ["FIRST", "TokenStack", "UnitStack"]

#: the distance of a first reference (the page is in no stack yet)
FIRST = -1
#: positions handed out before the first renumbering, and at least this many between two
_MIN_SPAN = 1 << 16
#: a unit stack's positions advance by this much per reference (a bitmap chunk of 2**16
#: positions then holds at most 2**12 marks, the most CRoaring keeps as a sorted array)
_STEP = 16


def _next_limit(pages: int) -> int:
    return pages + max(4 * pages, _MIN_SPAN)


def _step_for(pages: int) -> int:
    """:data:`_STEP`, or 1 when positions that far apart would leave the bitmap's 32 bits
    before the next renumbering (tens of millions of distinct pages)."""
    return _STEP if _next_limit(pages) * _STEP < 1 << 32 else 1


def _renumber_in_place(last: array) -> None:
    """Replace every position in ``last`` by its rank among them (they are all distinct)."""
    positions = np.frombuffer(last, dtype=np.int64)
    positions[np.argsort(positions)] = np.arange(len(positions))


class UnitStack:
    """Stack distances in pages. With unit pages an LRU cache of ``C`` pages hits exactly the
    references whose distance is below ``C`` (docs/mrc.md §2)."""

    def __init__(self) -> None:
        #: page -> dense id, in order of first reference
        self.ids: dict[Hashable, int] = {}
        self._last = array("q")  # dense id -> position of its mark
        self._marks = BitMap()
        self._position = 0
        self._step = _step_for(0)
        self._limit = _next_limit(0) * self._step

    @property
    def pages(self) -> int:
        """Distinct pages referenced so far."""
        return len(self._last)

    def distances(self, pages: Iterable[Hashable]) -> Iterator[int]:
        """Record each reference of ``pages`` in turn and yield its distance."""
        ids = self.ids
        get = ids.get
        last = self._last
        append = last.append
        marks = self._marks
        rank, add, discard = marks.rank, marks.add, marks.discard
        position, limit, step = self._position, self._limit, self._step
        count = len(last)  # marks = pages
        try:
            for page in pages:
                k = get(page)
                if k is None:
                    ids[page] = count
                    append(position)
                    count += 1
                    distance = FIRST
                else:
                    previous = last[k]
                    distance = count - rank(previous)
                    discard(previous)
                    last[k] = position
                add(position)
                position += step
                if position == limit:
                    self._renumber()
                    marks = self._marks
                    rank, add, discard = marks.rank, marks.add, marks.discard
                    position, limit, step = self._position, self._limit, self._step
                yield distance
        finally:
            self._position = position

    def _renumber(self) -> None:
        """Move the marks to positions ``0, step, 2·step, …``, in the same order."""
        last = self._last
        _renumber_in_place(last)
        count = len(last)
        step = self._step = _step_for(count)
        if step != 1:
            positions = np.frombuffer(last, dtype=np.int64)
            positions *= step
        # not run containers (what a range would give): they are twice as slow to update one
        # position at a time
        self._marks = BitMap(array("I", range(0, count * step, step)), optimize=False)
        self._position = count * step
        self._limit = _next_limit(count) * step


class TokenStack:
    """Stack distances in tokens: each page weighs the tokens of its latest reference. With
    pages that keep one size and fit the cache, an LRU cache of ``C`` tokens hits exactly the
    references whose distance plus own size is at most ``C`` (docs/mrc.md §2)."""

    def __init__(self) -> None:
        self.ids: dict[Hashable, int] = {}
        #: references of a page whose size differed from its previous reference's
        self.resized = 0
        self._last = array("q")  # dense id -> position of its mark
        self._weight = array("q")  # dense id -> tokens its mark weighs
        self._limit = _next_limit(0)
        self._tree = array("q", bytes(8 * (self._limit + 1)))  # Fenwick tree, 1-based
        self._position = 0
        self._total = 0

    @property
    def pages(self) -> int:
        return len(self._last)

    def distances(self, references: Iterable[tuple[Hashable, int]]) -> Iterator[int]:
        """Record each ``(page, tokens)`` reference in turn and yield its distance."""
        ids = self.ids
        get = ids.get
        last, weight = self._last, self._weight
        tree = self._tree
        size = len(tree)
        position, limit, total = self._position, self._limit, self._total
        try:
            for page, tokens in references:
                k = get(page)
                if k is None:
                    ids[page] = len(last)
                    last.append(position)
                    weight.append(tokens)
                    distance = FIRST
                else:
                    previous = last[k] + 1
                    i = previous
                    prefix = 0  # tokens of the marks up to and including the page's own
                    while i:
                        prefix += tree[i]
                        i &= i - 1
                    distance = total - prefix
                    old = weight[k]
                    i = previous
                    while i < size:
                        tree[i] -= old
                        i += i & -i
                    total -= old
                    if old != tokens:
                        weight[k] = tokens
                        self.resized += 1
                    last[k] = position
                position += 1
                i = position
                while i < size:
                    tree[i] += tokens
                    i += i & -i
                total += tokens
                if position == limit:
                    self._renumber()
                    tree = self._tree
                    size = len(tree)
                    position, limit = self._position, self._limit
                yield distance
        finally:
            self._position, self._total = position, total

    def _renumber(self) -> None:
        last = self._last
        _renumber_in_place(last)
        count = len(last)
        self._limit = _next_limit(count)
        # marks at positions 0..count-1; node i of a Fenwick tree sums the positions
        # (i - lowbit(i), i], i.e. prefix[i] - prefix[i - lowbit(i)]
        prefix = np.zeros(self._limit + 1, dtype=np.int64)
        weights = np.zeros(count, dtype=np.int64)
        weights[np.frombuffer(last, dtype=np.int64)] = np.frombuffer(self._weight, np.int64)
        np.cumsum(weights, out=prefix[1:count + 1])
        prefix[count + 1:] = prefix[count]
        node = np.arange(self._limit + 1, dtype=np.int64)
        tree = prefix - prefix[node - (node & -node)]
        self._tree = array("q", tree.tobytes())
        self._position = count
