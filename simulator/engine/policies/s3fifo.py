"""S3-FIFO (Yang et al., SOSP'23): a small probation FIFO, a main 2-bit CLOCK and a ghost FIFO."""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterator

from .base import Key, Policy, PolicyState


class S3FIFO(Policy):
    """S3-FIFO as libCacheSim's ``S3FIFO`` (the 2024 version of ``S3FIFO.c``).

    Sizes: small queue ``S = floor(c * small_ratio)`` (default 10 %), main ``M = c - S``, ghost
    ``G = floor(c * ghost_ratio)`` (default 90 %), all in tokens. Every resident page has a hit
    counter that starts at 0 and grows by one per hit.

    * miss on a key in the ghost: the ghost entry is dropped and the page is admitted to main.
    * other misses go to small, except before the first eviction ever, when small is already
      full (``|small| >= S``): then the page goes straight to main.
    * ``victim``: if main holds more than M tokens, or small is empty, evict from main, else
      from small.
      - small: take its oldest page; with counter >= ``promote_at`` (default 2) it moves to main
        with counter 0 and the next oldest is examined; otherwise it is evicted and its key enters
        the ghost (the ghost's oldest keys fall out while it would exceed G tokens).
      - main (2-bit CLOCK): take its oldest page; with counter >= 1 it goes back to main's head
        with counter ``min(counter, 3) - 1``; otherwise it is evicted (no ghost).

    ``strict=True`` (default) reproduces libCacheSim's admission rule: a page is cached only if
    it is smaller than S, or equal to S when it comes back from the ghost. With unit pages that
    means capacities below 20 cache nothing (libCacheSim refuses capacities below 10 outright).
    ``strict=False`` admits every page that fits the tier and uses ``S, G >= 1``; a page at
    least as large as S then simply passes through small.
    """

    __slots__ = (
        "_freq",
        "_g",
        "_ghost",
        "_ghost_hit",
        "_has_evicted",
        "_m",
        "_main",
        "_promote",
        "_s",
        "_s_ghost",
        "_s_main",
        "_s_small",
        "_small",
        "_strict",
    )
    name = "s3fifo"
    resident_maps = ("_small", "_main")

    def __init__(
        self,
        capacity: int | None,
        *,
        small_ratio: float = 0.1,
        ghost_ratio: float = 0.9,
        promote_at: int = 2,
        strict: bool = True,
    ) -> None:
        super().__init__(capacity)
        if (
            isinstance(small_ratio, bool)
            or not isinstance(small_ratio, int | float)
            or not (0 < small_ratio < 1)
        ):
            raise ValueError(f"small_ratio must be a number in (0, 1), got {small_ratio!r}")
        if (
            isinstance(ghost_ratio, bool)
            or not isinstance(ghost_ratio, int | float)
            or not (0 <= ghost_ratio <= 64)
        ):
            raise ValueError(f"ghost_ratio must be a number in [0, 64], got {ghost_ratio!r}")
        if isinstance(promote_at, bool) or not isinstance(promote_at, int) or promote_at < 1:
            raise ValueError(f"promote_at must be an integer >= 1, got {promote_at!r}")
        self._strict = bool(strict)
        self._promote = promote_at
        if capacity is None:
            self._s: float = math.inf
            self._m: float = math.inf
            self._g: float = math.inf
        else:
            # libCacheSim: (int64_t)(cache_size * ratio), i.e. truncation
            self._s = int(capacity * small_ratio)
            self._g = int(capacity * ghost_ratio)
            if not strict:
                self._s = max(self._s, 1)
                self._g = max(self._g, 1)
            self._m = capacity - self._s
        self._small: OrderedDict[Key, int] = OrderedDict()  # key -> size, oldest first
        self._main: OrderedDict[Key, int] = OrderedDict()
        self._ghost: OrderedDict[Key, int] = OrderedDict()
        self._freq: dict[Key, int] = {}  # every resident key -> hit counter
        self._s_small = self._s_main = self._s_ghost = 0
        self._ghost_hit = False
        self._has_evicted = False

    def ghost_keys(self) -> Iterator[Key]:
        """Keys in the ghost FIFO (history only, not resident)."""
        return iter(self._ghost)

    def touch(self, key: Key) -> None:
        self._freq[key] += 1

    def on_miss(self, key: Key, size: int) -> None:
        size_g = self._ghost.pop(key, None)
        if size_g is None:
            self._ghost_hit = False
        else:
            self._s_ghost -= size_g
            self._ghost_hit = True

    def admits(self, key: Key, size: int) -> bool:
        """Whether a missed page is cached at all (called after ``on_miss``)."""
        if self.capacity is not None and size > self.capacity:
            return False
        if not self._strict:
            return True
        return size < self._s or (size == self._s and self._ghost_hit)

    def insert(self, key: Key, size: int) -> None:
        # a page inserted without a miss first (an unpinned page coming back to the policy)
        # may still have a ghost: drop it, or the ghost FIFO's size would count it twice
        if not self._ghost_hit and key in self._ghost:
            self._s_ghost -= self._ghost.pop(key)
        if self._ghost_hit:
            self._ghost_hit = False
            self._main[key] = size
            self._s_main += size
        elif not self._has_evicted and self._s_small >= self._s:
            self._main[key] = size
            self._s_main += size
        else:
            self._small[key] = size
            self._s_small += size
        self._freq[key] = 0
        self.used += size

    def _to_ghost(self, key: Key, size: int) -> None:
        g = self._g
        if size > g:
            return
        ghost = self._ghost
        while self._s_ghost + size > g:
            self._s_ghost -= ghost.popitem(last=False)[1]
        ghost[key] = size
        self._s_ghost += size

    def _evict_small(self) -> Key | None:
        small, freq = self._small, self._freq
        while small:
            key, size = small.popitem(last=False)
            self._s_small -= size
            if freq[key] >= self._promote:
                freq[key] = 0
                self._main[key] = size
                self._s_main += size
            else:
                del freq[key]
                self.used -= size
                self._to_ghost(key, size)
                return key
        return None

    def _evict_main(self) -> Key | None:
        main, freq = self._main, self._freq
        while main:
            key, size = main.popitem(last=False)
            f = freq[key]
            if f >= 1:
                main[key] = size
                freq[key] = (f if f < 3 else 3) - 1
            else:
                del freq[key]
                self._s_main -= size
                self.used -= size
                return key
        return None

    def victim(self) -> Key:
        if not self._freq:
            raise self._nothing_resident()
        self._has_evicted = True
        while True:
            if self._s_main > self._m or self._s_small == 0:
                key = self._evict_main()
            else:
                key = self._evict_small()
            if key is not None:
                return key

    def snapshot(self) -> PolicyState:
        """The small queue then the main one, oldest first; each page marked with its queue
        and hit counter (``S1``: small, one hit); ``extra`` has the ghost queue."""
        small, main = tuple(self._small), tuple(self._main)
        freq = self._freq
        marks = {**{k: f"S{freq[k]}" for k in small}, **{k: f"M{freq[k]}" for k in main}}
        return PolicyState(small + main, "small queue (S) then main queue (M), oldest first",
                           marks, "queue and hit counter", {"ghost": list(self._ghost)})

    def remove(self, key: Key) -> None:
        del self._freq[key]
        if key in self._small:
            size = self._small.pop(key)
            self._s_small -= size
        else:
            size = self._main.pop(key)
            self._s_main -= size
        self.used -= size
