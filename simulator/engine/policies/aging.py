"""Aging: a shift register per page approximates LRU from reference bits."""

from __future__ import annotations

from collections import OrderedDict

from .base import Key, Policy, PolicyState


class Aging(Policy):
    """Aging (docs/policies.md, "Aging").

    Each resident page has a ``bits``-bit counter and a reference bit R, set by every access.
    Before each access whose index is a positive multiple of ``period`` (a clock tick), every
    counter shifts right by one and R enters at the top bit, then R is cleared. The victim is
    the page with the smallest counter; between equal counters a page with R clear goes
    first, then the page loaded first. A new page starts with counter 0 and R set.

    No tick touches every page. Between ticks t₀ and t a page's counter only depends on
    whether it was referenced in interval t₀ (the accesses from tick t₀ to the next), so each
    page keeps its counter as it stood in the interval of its last reference and the ticks
    since are applied when it is looked at (:meth:`_rank`). A page not referenced for ``bits``
    + 1 intervals has counter 0 and R clear, the least rank there is: the victim is the first
    such page in load order, found by walking the load order past the pages referenced
    recently — at most (``bits`` + 1) · ``period`` of them, so O(bits · period) per eviction
    and O(1) per hit however many pages are resident.
    """

    __slots__ = ("_load", "_since", "_top", "bits", "period")

    name = "aging"
    needs_clock = True
    resident_maps = ("_load",)

    def __init__(self, capacity: int | None, *, bits: int = 8, period: int = 4) -> None:
        super().__init__(capacity)
        if isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= 32:
            raise ValueError(f"bits must be an integer in 1..32, got {bits!r}")
        if isinstance(period, bool) or not isinstance(period, int) or period < 1:
            raise ValueError(f"period must be an integer >= 1 (accesses), got {period!r}")
        self.bits = bits
        self.period = period
        self._top = 1 << (bits - 1)
        self._load: OrderedDict[Key, int] = OrderedDict()  # key -> size, in load order
        #: key -> (its counter during the interval of its last reference, that interval);
        #: R was set in that interval
        self._since: dict[Key, tuple[int, int]] = {}

    def _counter(self, counter: int, interval: int, now: int) -> int:
        """The counter in interval ``now`` of a page whose counter was ``counter`` in
        ``interval``, the interval of its last reference."""
        if interval == now:
            return counter
        # the first tick since took R into the top bit; the others shifted it down
        return ((counter >> 1) | self._top) >> (now - interval - 1)

    def _rank(self, key: Key) -> tuple[int, bool]:
        """(counter, R) of a resident page now."""
        counter, interval = self._since[key]
        now = self.now // self.period
        return self._counter(counter, interval, now), interval == now

    def touch(self, key: Key) -> None:
        counter, interval = self._since[key]  # KeyError for a page not resident
        now = self.now // self.period
        if interval != now:
            self._since[key] = (self._counter(counter, interval, now), now)

    def insert(self, key: Key, size: int) -> None:
        self._load[key] = size
        self._since[key] = (0, self.now // self.period)
        self.used += size

    def victim(self) -> Key:
        if not self._load:
            raise self._nothing_resident()
        forgotten = self.now // self.period - self.bits  # referenced before it: (0, R clear)
        since = self._since
        for key in self._load:
            if since[key][1] < forgotten:
                break
        else:  # every page was referenced lately: few pages, compare them all
            key = min(self._load, key=self._rank)  # min keeps the first of equals
        self.remove(key)
        return key

    def remove(self, key: Key) -> None:
        self.used -= self._load.pop(key)
        del self._since[key]

    def snapshot(self) -> PolicyState:
        order = tuple(sorted(self._load, key=self._rank))
        ranks = {k: self._rank(k) for k in order}
        width = self.bits
        marks = {k: f"{counter:0{width}b} R{int(referenced)}"
                 for k, (counter, referenced) in ranks.items()}
        return PolicyState(order, "smallest counter first (the next victim first)", marks,
                           "counter and reference bit", {"period": self.period})
