"""Aging: a shift register per page approximates LRU from reference bits."""

from __future__ import annotations

from .base import Key, Policy, PolicyState


class Aging(Policy):
    """Aging (docs/policies.md, "Aging").

    Each resident page has a ``bits``-bit counter and a reference bit R, set by every access.
    Before each access whose index is a positive multiple of ``period`` (a clock tick), every
    counter shifts right by one and R enters at the top bit, then R is cleared. The victim is
    the page with the smallest counter; between equal counters a page with R clear goes
    first, then the page loaded first. A new page starts with counter 0 and R set.

    Ticks are applied when the policy is next called (they touch every resident page:
    O(resident) per ``period`` accesses); ``victim`` looks at every page (O(resident)).
    """

    __slots__ = ("_counter", "_next_tick", "_referenced", "_sizes", "_top", "bits", "period")
    name = "aging"
    needs_clock = True
    resident_maps = ("_sizes",)

    def __init__(self, capacity: int | None, *, bits: int = 8, period: int = 4) -> None:
        super().__init__(capacity)
        if isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= 32:
            raise ValueError(f"bits must be an integer in 1..32, got {bits!r}")
        if isinstance(period, bool) or not isinstance(period, int) or period < 1:
            raise ValueError(f"period must be an integer >= 1 (accesses), got {period!r}")
        self.bits = bits
        self.period = period
        self._top = 1 << (bits - 1)
        self._next_tick = period
        self._sizes: dict[Key, int] = {}  # in load order
        self._counter: dict[Key, int] = {}
        self._referenced: set[Key] = set()

    def _catch_up(self) -> None:
        """Apply the clock ticks due up to the current access."""
        while self._next_tick <= self.now:
            top, referenced, counter = self._top, self._referenced, self._counter
            for key, value in counter.items():
                counter[key] = (value >> 1) | (top if key in referenced else 0)
            referenced.clear()
            self._next_tick += self.period

    def touch(self, key: Key) -> None:
        if key not in self._sizes:
            raise KeyError(key)
        self._catch_up()
        self._referenced.add(key)

    def insert(self, key: Key, size: int) -> None:
        self._catch_up()
        self._sizes[key] = size
        self._counter[key] = 0
        self._referenced.add(key)
        self.used += size

    def _rank(self, key: Key) -> tuple[int, bool]:
        return self._counter[key], key in self._referenced

    def victim(self) -> Key:
        if not self._sizes:
            raise self._nothing_resident()
        self._catch_up()
        key = min(self._sizes, key=self._rank)  # min keeps the first of equals: load order
        self.remove(key)
        return key

    def remove(self, key: Key) -> None:
        self.used -= self._sizes.pop(key)
        del self._counter[key]
        self._referenced.discard(key)

    def snapshot(self) -> PolicyState:
        self._catch_up()
        order = tuple(sorted(self._sizes, key=self._rank))
        width = self.bits
        marks = {k: f"{self._counter[k]:0{width}b} R{int(k in self._referenced)}"
                 for k in order}
        return PolicyState(order, "smallest counter first (the next victim first)", marks,
                           "counter and reference bit", {"period": self.period})
