"""LFU: evict the page with the fewest hits while cached; ties go to the least recently used."""

from __future__ import annotations

import heapq
from collections import OrderedDict
from collections.abc import Iterator

from .base import Key, Policy


class LFU(Policy):
    """In-cache LFU as libCacheSim's ``LFU``.

    A page's count starts at 1 when it is admitted, grows by one per hit and is forgotten when
    the page leaves (no history). ``victim`` takes the smallest count; among equal counts, the
    page that reached that count first, which is the least recently used of them (a page joins the
    bucket of count *f* at the access that gave it *f*).

    Buckets: count -> ``OrderedDict`` (key -> size) in order of arrival. The smallest count is
    tracked exactly on insert and hit; when an eviction empties the smallest bucket the next one
    is found through a heap of bucket counts with lazy deletion, so every operation is O(1) or
    O(log n) amortised.
    """

    __slots__ = ("_buckets", "_freq", "_heap", "_min")
    name = "lfu"

    def __init__(self, capacity: int | None) -> None:
        super().__init__(capacity)
        self._freq: dict[Key, int] = {}
        self._buckets: dict[int, OrderedDict[Key, int]] = {}
        self._heap: list[int] = []  # counts of buckets, possibly stale
        self._min = 0  # smallest count resident, 0 = unknown

    def __contains__(self, key: Key) -> bool:
        return key in self._freq

    def __len__(self) -> int:
        return len(self._freq)

    def keys(self) -> Iterator[Key]:
        return iter(self._freq)

    def _bucket(self, f: int) -> OrderedDict[Key, int]:
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
        size = old.pop(key)
        if not old:
            del buckets[f]
            if self._min == f:
                self._min = f + 1
        self._bucket(f + 1)[key] = size

    def insert(self, key: Key, size: int) -> None:
        self._freq[key] = 1
        self._bucket(1)[key] = size
        self._min = 1
        self.used += size

    def _find_min(self) -> int:
        heap, buckets = self._heap, self._buckets
        while heap[0] not in buckets:
            heapq.heappop(heap)
        return heap[0]

    def victim(self) -> Key:
        if not self._freq:
            raise LookupError("lfu: nothing resident")
        f = self._min or self._find_min()
        b = self._buckets[f]
        key, size = b.popitem(last=False)
        if not b:
            del self._buckets[f]
            self._min = 0
        del self._freq[key]
        self.used -= size
        return key

    def remove(self, key: Key) -> None:
        f = self._freq.pop(key)
        b = self._buckets[f]
        self.used -= b.pop(key)
        if not b:
            del self._buckets[f]
            if self._min == f:
                self._min = 0

    def size_of(self, key: Key) -> int:
        return self._buckets[self._freq[key]][key]
