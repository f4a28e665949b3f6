"""2Q (Johnson & Shasha, VLDB'94), the full version with A1in, A1out and Am."""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterator

from .base import Key, Policy, PolicyState


class TwoQ(Policy):
    """2Q as libCacheSim's ``TwoQ``.

    * A1in: FIFO of pages seen once, target size ``Kin = floor(c * kin_ratio)`` (default c/4).
      A hit in A1in changes nothing.
    * A1out: FIFO of *keys* (ghosts) evicted from A1in, bounded to ``Kout = floor(c * kout_ratio)``
      tokens (default c/2); the oldest ghosts fall out first.
    * Am: LRU of pages that were re-referenced after leaving A1in. A hit moves to the MRU end.

    A miss on a key in A1out (the ghost is dropped) admits the page to Am, any other miss to
    A1in. ``victim``: if A1in holds more than Kin tokens, its oldest page is evicted and its key
    joins A1out; otherwise Am's LRU page is evicted (no ghost).

    ``strict=True`` (default) reproduces libCacheSim's admission rule: a page larger than Kin is
    never cached (so with unit pages a capacity below 4 caches nothing). ``strict=False`` admits
    every page that fits the tier, uses ``Kin, Kout >= 1`` and falls back to A1in when Am is empty.
    """

    __slots__ = (
        "_a1in",
        "_a1out",
        "_am",
        "_ghost_hit",
        "_kin",
        "_kout",
        "_s_in",
        "_s_out",
        "_strict",
    )
    name = "2q"
    resident_maps = ("_a1in", "_am")

    def __init__(
        self,
        capacity: int | None,
        *,
        kin_ratio: float = 0.25,
        kout_ratio: float = 0.5,
        strict: bool = True,
    ) -> None:
        super().__init__(capacity)
        for label, r in (("kin_ratio", kin_ratio), ("kout_ratio", kout_ratio)):
            if isinstance(r, bool) or not isinstance(r, int | float) or not 0 < r < 1:
                raise ValueError(f"{label} must be a number in (0, 1), got {r!r}")
        self._strict = bool(strict)
        if capacity is None:
            self._kin: float = math.inf
            self._kout: float = math.inf
        else:
            # libCacheSim: int64 = cache_size * ratio (a double), i.e. truncation
            self._kin = int(capacity * kin_ratio)
            self._kout = int(capacity * kout_ratio)
            if not strict:
                self._kin = max(self._kin, 1)
                self._kout = max(self._kout, 1)
        self._a1in: OrderedDict[Key, int] = OrderedDict()
        self._a1out: OrderedDict[Key, int] = OrderedDict()
        self._am: OrderedDict[Key, int] = OrderedDict()
        self._s_in = 0
        self._s_out = 0
        self._ghost_hit = False

    @property
    def kin(self) -> float:
        return self._kin

    @property
    def kout(self) -> float:
        return self._kout

    def ghost_keys(self) -> Iterator[Key]:
        """Keys in A1out (history only, not resident)."""
        return iter(self._a1out)

    def touch(self, key: Key) -> None:
        am = self._am
        if key in am:
            am.move_to_end(key)

    def on_miss(self, key: Key, size: int) -> None:
        size_out = self._a1out.pop(key, None)
        if size_out is None:
            self._ghost_hit = False
        else:
            self._s_out -= size_out
            self._ghost_hit = True

    def admits(self, key: Key, size: int) -> bool:
        """Whether a missed page is cached at all (called after ``on_miss``)."""
        if self.capacity is not None and size > self.capacity:
            return False
        return not self._strict or size <= self._kin

    def insert(self, key: Key, size: int) -> None:
        # a page inserted without a miss first (an unpinned page coming back to the policy)
        # may still have a ghost in A1out: drop it, or A1out's size would count it twice
        if not self._ghost_hit and key in self._a1out:
            self._s_out -= self._a1out.pop(key)
        if self._ghost_hit:
            self._am[key] = size
            self._ghost_hit = False
        else:
            self._a1in[key] = size
            self._s_in += size
        self.used += size

    def victim(self) -> Key:
        if self._s_in > self._kin or (not self._am and self._a1in):
            key, size = self._a1in.popitem(last=False)
            self._s_in -= size
            self.used -= size
            if size <= self._kout:
                out = self._a1out
                while self._s_out + size > self._kout:
                    self._s_out -= out.popitem(last=False)[1]
                out[key] = size
                self._s_out += size
            return key
        if not self._am:
            raise self._nothing_resident()
        key, size = self._am.popitem(last=False)
        self.used -= size
        return key

    def snapshot(self) -> PolicyState:
        """A1in (FIFO, oldest first) then Am (LRU, least recent first), each page marked
        with its queue; ``extra`` has the ghost queue A1out, oldest first."""
        a1in, am = tuple(self._a1in), tuple(self._am)
        marks = {**dict.fromkeys(a1in, "A1in"), **dict.fromkeys(am, "Am")}
        return PolicyState(a1in + am, "A1in (first use, oldest first) then Am (reused, "
                           "least recent first)", marks, "queue", {"A1out": list(self._a1out)})

    def remove(self, key: Key) -> None:
        if key in self._a1in:
            size = self._a1in.pop(key)
            self._s_in -= size
        else:
            size = self._am.pop(key)
        self.used -= size
