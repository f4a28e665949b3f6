"""NRU (not recently used): four classes of reference and dirty bits, the lowest evicted."""

from __future__ import annotations

from .base import Key, Policy, PolicyState


class NRU(Policy):
    """Not recently used (docs/policies.md, "NRU").

    Each resident page has a reference bit R, set by every access to it, and a dirty bit M, set
    by a write. A clock interrupt clears every R bit before each access whose index is a
    multiple of ``period``. The victim comes from the lowest non-empty class 2·R + M
    (0: not referenced, clean … 3: referenced, dirty); within a class, the page loaded first.

    R is kept as the index of the page's last reference (R = 1 when it is at or after the last
    clearing), so the interrupt costs nothing; ``victim`` looks at every resident page, which
    suits the frame counts a course uses (O(resident) per eviction).
    """

    __slots__ = ("_dirty", "_last", "_sizes", "period")
    name = "nru"
    needs_clock = True
    resident_maps = ("_sizes",)

    def __init__(self, capacity: int | None, *, period: int = 4) -> None:
        super().__init__(capacity)
        if isinstance(period, bool) or not isinstance(period, int) or period < 1:
            raise ValueError(f"period must be an integer >= 1 (accesses), got {period!r}")
        self.period = period
        self._sizes: dict[Key, int] = {}  # in load order
        self._last: dict[Key, int] = {}  # key -> index of its last reference
        self._dirty: set[Key] = set()

    def _klass(self, key: Key) -> int:
        cleared_at = self.now - self.now % self.period
        return 2 * (self._last[key] >= cleared_at) + (key in self._dirty)

    def touch(self, key: Key) -> None:
        if key not in self._sizes:
            raise KeyError(key)
        self._last[key] = self.now

    def on_write(self, key: Key) -> None:
        self._dirty.add(key)

    def insert(self, key: Key, size: int) -> None:
        self._sizes[key] = size
        self._last[key] = self.now
        self.used += size

    def victim(self) -> Key:
        if not self._sizes:
            raise self._nothing_resident()
        key = min(self._sizes, key=self._klass)  # min keeps the first of equals: load order
        self.remove(key)
        return key

    def remove(self, key: Key) -> None:
        self.used -= self._sizes.pop(key)
        del self._last[key]
        self._dirty.discard(key)

    def snapshot(self) -> PolicyState:
        order = tuple(sorted(self._sizes, key=self._klass))
        return PolicyState(order, "by class, then load order (the next victim first)",
                           {k: self._klass(k) for k in order}, "class 2·R + M",
                           {"period": self.period})
