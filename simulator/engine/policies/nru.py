"""NRU (not recently used): four classes of reference and dirty bits, the lowest evicted."""

from __future__ import annotations

import heapq
from collections import OrderedDict

from .base import Key, Policy, PolicyState


class NRU(Policy):
    """Not recently used (docs/policies.md, "NRU").

    Each resident page has a reference bit R, set by every access to it, and a dirty bit M, set
    by a write. A clock interrupt clears every R bit before each access whose index is a
    multiple of ``period``. The victim comes from the lowest non-empty class 2·R + M
    (0: not referenced, clean … 3: referenced, dirty); within a class, the page loaded first.

    R is kept as the index of the page's last reference (R = 1 when it is at or after the last
    clearing), so the interrupt costs nothing. At most ``period`` pages have R = 1, so the
    victim is found by walking the clean pages in load order past those (class 0), then the
    dirty ones, kept in a heap by load order (class 1); only when every resident page has
    R = 1 — ``period`` pages at most — are all compared. O(period · log n) per eviction however
    many pages are resident.
    """

    __slots__ = ("_clean", "_dirty", "_dirty_order", "_last", "_loaded", "_loads", "period")

    name = "nru"
    needs_clock = True
    resident_maps = ("_clean", "_dirty")

    def __init__(self, capacity: int | None, *, period: int = 4) -> None:
        super().__init__(capacity)
        if isinstance(period, bool) or not isinstance(period, int) or period < 1:
            raise ValueError(f"period must be an integer >= 1 (accesses), got {period!r}")
        self.period = period
        self._clean: OrderedDict[Key, int] = OrderedDict()  # key -> size, in load order
        self._dirty: dict[Key, int] = {}  # key -> size
        #: (load number, key) of the dirty pages, smallest first; entries of pages that left
        #: since are skipped when met and dropped when the heap is rebuilt
        self._dirty_order: list[tuple[int, Key]] = []
        self._last: dict[Key, int] = {}  # key -> index of its last reference
        self._loaded: dict[Key, int] = {}  # key -> its load number (load order)
        self._loads = 0

    def _cleared_at(self) -> int:
        return self.now - self.now % self.period

    def _klass(self, key: Key) -> int:
        return 2 * (self._last[key] >= self._cleared_at()) + (key in self._dirty)

    def _order_key(self, key: Key) -> tuple[int, int]:
        return self._klass(key), self._loaded[key]

    def touch(self, key: Key) -> None:
        if key not in self._loaded:
            raise KeyError(key)
        self._last[key] = self.now

    def on_write(self, key: Key) -> None:
        size = self._clean.pop(key, None)
        if size is None:
            return  # already dirty
        self._dirty[key] = size
        heapq.heappush(self._dirty_order, (self._loaded[key], key))

    def insert(self, key: Key, size: int) -> None:
        self._clean[key] = size
        self._last[key] = self.now
        self._loaded[key] = self._loads
        self._loads += 1
        self.used += size

    def victim(self) -> Key:
        if not self._loaded:
            raise self._nothing_resident()
        cleared = self._cleared_at()
        last = self._last
        for key in self._clean:  # class 0, past the clean pages referenced lately
            if last[key] < cleared:
                break
        else:
            key = self._first_dirty_unreferenced(cleared)
            if key is None:  # every page has R = 1: at most ``period`` of them
                key = min(self._loaded, key=self._order_key)
        self.remove(key)
        return key

    def _first_dirty_unreferenced(self, cleared: int) -> Key | None:
        """The dirty page with R = 0 loaded first (class 1), if any."""
        heap, loaded, last = self._dirty_order, self._loaded, self._last
        passed = []  # dirty pages with R = 1, put back afterwards
        found = None
        while heap:
            number, key = heap[0]
            if loaded.get(key) != number or key not in self._dirty:
                heapq.heappop(heap)  # the page has left since
            elif last[key] < cleared:
                found = key
                break
            else:
                passed.append(heapq.heappop(heap))
        for entry in passed:
            heapq.heappush(heap, entry)
        return found

    def remove(self, key: Key) -> None:
        size = self._clean.pop(key, None)
        if size is None:
            size = self._dirty.pop(key)
            if len(self._dirty_order) > 2 * len(self._dirty) + 64:  # mostly departed pages
                loaded = self._loaded
                self._dirty_order = [(n, k) for n, k in self._dirty_order
                                     if k in self._dirty and loaded[k] == n]
                heapq.heapify(self._dirty_order)
        self.used -= size
        del self._last[key], self._loaded[key]

    def snapshot(self) -> PolicyState:
        order = tuple(sorted(self._loaded, key=self._order_key))
        return PolicyState(order, "by class, then load order (the next victim first)",
                           {k: self._klass(k) for k in order}, "class 2·R + M",
                           {"period": self.period})
