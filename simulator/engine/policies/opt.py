"""OPT (Belady's MIN): evict the page whose next use is farthest in the future."""

from __future__ import annotations

import heapq
import math

from .base import Key, Policy, PolicyState

NEVER = math.inf
"""Next-use value for a key that is never accessed again (``sys.maxsize`` works as well)."""


def _index_or_none(next_use: float) -> int | None:
    """A next use as an access index, ``None`` for "never" (``inf`` or a huge sentinel)."""
    return None if next_use >= 1 << 62 else int(next_use)


class OPT(Policy):
    """Belady's optimal replacement for unit pages, as libCacheSim's ``Belady``.

    The engine calls :meth:`set_next_use` with the trace index of the key's next access (or a
    huge sentinel such as ``math.inf``/``sys.maxsize`` for "never") right before each ``touch``
    and ``insert``. ``victim`` evicts the resident page with the largest next use; ties, which only
    happen among pages never used again, go to the one whose next use was set earliest. The
    newcomer is always admitted (no bypass), as in the textbook OPT and libCacheSim.

    A max-heap of ``(-next_use, stamp, key)`` with lazy deletion: a hit pushes a fresh entry and
    the old one is skipped when it surfaces (its stamp no longer matches). The heap is rebuilt
    when stale entries outnumber live ones, so it stays O(resident) in size and every operation
    is O(log n) amortised.

    With sized pages this is still "farthest next use first" (libCacheSim's ``Belady`` in byte
    mode), which is a good heuristic but no longer optimal.
    """

    __slots__ = ("_entry", "_heap", "_next", "_sizes", "_stamp")
    name = "opt"
    needs_future = True
    resident_maps = ("_sizes",)
    #: heap priority = _sign * next use: -1 puts the farthest next use on top (OPT); the worst
    #: policy (``worst.py``) takes +1, the nearest
    _sign = -1

    def __init__(self, capacity: int | None) -> None:
        super().__init__(capacity)
        self._heap: list[tuple[float, int, Key]] = []
        self._entry: dict[Key, int] = {}  # key -> stamp of its live heap entry
        self._sizes: dict[Key, int] = {}
        self._stamp = 0
        self._next: float = NEVER  # set by set_next_use, consumed by touch/insert

    def set_next_use(self, next_index: float) -> None:
        """Index of the next access of the key about to be touched or inserted."""
        self._next = next_index

    def _push(self, key: Key) -> None:
        stamp = self._stamp = self._stamp + 1
        self._entry[key] = stamp
        heap = self._heap
        heapq.heappush(heap, (self._sign * self._next, stamp, key))
        self._next = NEVER
        if len(heap) > 2 * len(self._entry) + 64:
            entry = self._entry
            self._heap = [e for e in heap if entry.get(e[2]) == e[1]]
            heapq.heapify(self._heap)

    def touch(self, key: Key) -> None:
        if key not in self._sizes:
            raise KeyError(key)
        self._push(key)

    def insert(self, key: Key, size: int) -> None:
        self._sizes[key] = size
        self.used += size
        self._push(key)

    def victim(self) -> Key:
        heap, entry = self._heap, self._entry
        if not entry:
            raise self._nothing_resident()
        while True:
            _, stamp, key = heapq.heappop(heap)
            if entry.get(key) == stamp:
                del entry[key]
                self.used -= self._sizes.pop(key)
                return key

    def remove(self, key: Key) -> None:
        del self._entry[key]  # its heap entries are now stale
        self.used -= self._sizes.pop(key)

    def snapshot(self) -> PolicyState:
        """Marks are each page's next use (access index; ``None``: never again), in the order
        the rule evicts them."""
        entry, sign = self._entry, self._sign
        live = sorted(e for e in self._heap if entry.get(e[2]) == e[1])
        order = tuple(e[2] for e in live)
        marks = {key: _index_or_none(sign * p) for p, _, key in live}
        return PolicyState(order, "in eviction order (the next victim first)", marks,
                           "next use (access #)")
