"""CLOCK (second chance, FIFO-reinsertion) with an n-bit reference counter."""

from __future__ import annotations

from collections import OrderedDict

from .base import Key, Policy, PolicyState


class Clock(Policy):
    """CLOCK as libCacheSim's ``Clock`` (FIFO-reinsertion).

    Pages sit in one FIFO (``OrderedDict`` key -> counter, oldest first). A new page enters at the
    head with counter ``init_freq`` (default 0). A hit raises the counter by one, saturating at
    ``2**bits - 1`` (default 1 bit: the classic reference bit). ``victim`` looks at the oldest
    page: a non-zero counter is decremented and the page goes back to the head (its second
    chance); the first page found with counter 0 is evicted. Amortised O(1): every reinsertion
    spends a unit of counter that a hit paid for.
    """

    __slots__ = ("_init", "_max", "_q", "_sizes")
    name = "clock"
    resident_maps = ("_sizes",)

    def __init__(self, capacity: int | None, *, bits: int = 1, init_freq: int = 0) -> None:
        super().__init__(capacity)
        if isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= 16:
            raise ValueError(f"bits must be an integer in 1..16, got {bits!r}")
        max_freq = (1 << bits) - 1
        if (
            isinstance(init_freq, bool)
            or not isinstance(init_freq, int)
            or not (0 <= init_freq <= max_freq)
        ):
            raise ValueError(f"init_freq must be an integer in 0..{max_freq}, got {init_freq!r}")
        self._max = max_freq
        self._init = init_freq
        self._q: OrderedDict[Key, int] = OrderedDict()
        self._sizes: dict[Key, int] = {}
        if max_freq == 1 and type(self).touch is Clock.touch:
            self.touch = self._touch_bit  # type: ignore[method-assign]

    def _touch_bit(self, key: Key) -> None:
        self._q[key] = 1  # an existing key keeps its place in the FIFO

    def touch(self, key: Key) -> None:
        q = self._q
        f = q[key]
        if f < self._max:
            q[key] = f + 1

    def insert(self, key: Key, size: int) -> None:
        self._q[key] = self._init
        self._sizes[key] = size
        self.used += size

    def victim(self) -> Key:
        q = self._q
        if not q:
            raise self._nothing_resident()
        pop = q.popitem
        while True:
            key, f = pop(last=False)
            if f:
                q[key] = f - 1  # second chance: back to the head
            else:
                self.used -= self._sizes.pop(key)
                return key

    def remove(self, key: Key) -> None:
        del self._q[key]
        self.used -= self._sizes.pop(key)

    def snapshot(self) -> PolicyState:
        """The hand points at the first page of ``order``; marks are the reference counters."""
        q = self._q
        order = tuple(q)
        label = "reference bit" if self._max == 1 else f"reference counter (0..{self._max})"
        return PolicyState(order, "from the hand, oldest first", dict(q), label,
                           {"hand": order[0] if order else None})
