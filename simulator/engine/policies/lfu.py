"""LFU: evict the page with the fewest hits while cached; ties go to the least recently used."""

from __future__ import annotations

import heapq
from collections import OrderedDict

from .base import Key, Policy, PolicyState


class LFU(Policy):
    """In-cache LFU as libCacheSim's ``LFU``.

    A page's count starts at 1 when it is admitted, grows by one per hit and is forgotten when
    the page leaves (no history). ``victim`` takes the smallest count; among equal counts, the
    page that reached that count first, which is the least recently used of them (a page joins the
    bucket of count *f* at the access that gave it *f*).

    Sizes are in ``_sizes``; buckets: count -> ``OrderedDict`` of keys in order of arrival. The
    smallest count is tracked exactly on insert and hit; when an eviction empties the smallest
    bucket the next one is found through a heap of bucket counts with lazy deletion, so every
    operation is O(1) or O(log n) amortised.
    """

    __slots__ = ("_buckets", "_freq", "_heap", "_min", "_sizes")
    name = "lfu"
    resident_maps = ("_sizes",)

    def __init__(self, capacity: int | None) -> None:
        super().__init__(capacity)
        self._sizes: dict[Key, int] = {}
        self._freq: dict[Key, int] = {}
        self._buckets: dict[int, OrderedDict[Key, None]] = {}
        self._heap: list[int] = []  # counts of buckets, possibly stale
        self._min = 0  # smallest count resident, 0 = unknown

    def _bucket(self, f: int) -> OrderedDict[Key, None]:
        b = self._buckets.get(f)
        if b is None:
            b = self._buckets[f] = OrderedDict()
            heap = self._heap
            heapq.heappush(heap, f)
            if len(heap) > 2 * len(self._buckets) + 32:
                self._heap = sorted(self._buckets)  # drop stale counts; a sorted list is a heap
        return b

    def touch(self, key: Key) -> None:
        freq = self._freq
        f = freq[key]
        freq[key] = f + 1
        buckets = self._buckets
        old = buckets[f]
        del old[key]
        if not old:
            del buckets[f]
            if self._min == f:
                self._min = f + 1
        self._bucket(f + 1)[key] = None

    def insert(self, key: Key, size: int) -> None:
        self._freq[key] = 1
        self._bucket(1)[key] = None
        self._min = 1
        self._sizes[key] = size
        self.used += size

    def _find_min(self) -> int:
        heap, buckets = self._heap, self._buckets
        while heap[0] not in buckets:
            heapq.heappop(heap)
        return heap[0]

    def victim(self) -> Key:
        if not self._freq:
            raise self._nothing_resident()
        f = self._min or self._find_min()
        b = self._buckets[f]
        key = b.popitem(last=False)[0]
        if not b:
            del self._buckets[f]
            self._min = 0
        del self._freq[key]
        self.used -= self._sizes.pop(key)
        return key

    def remove(self, key: Key) -> None:
        f = self._freq.pop(key)
        b = self._buckets[f]
        del b[key]
        if not b:
            del self._buckets[f]
            if self._min == f:
                self._min = 0
        self.used -= self._sizes.pop(key)

    def snapshot(self) -> PolicyState:
        order = tuple(k for f in sorted(self._buckets) for k in self._buckets[f])
        return PolicyState(order, "fewest uses first, then least recent (the next victim first)",
                           dict(self._freq), "uses while resident")
