"""A policy that weighs a page's recall value against the prompt cache its eviction breaks
(docs/sessions.md, "Cache-aware memory").

With ``stable`` packing the pages of a prompt come in the order they came into L0, so evicting
the page at position *p* makes every token after it uncached on the next call. For each
resident page, at an eviction::

    value  v = the importance-weighted LRU score (recency, frequency, kind, importance)
    cache  c = tokens of the pages that came into L0 after it / tokens resident
    keep   = v + w_cache * c

and the page with the lowest ``keep`` goes (ties to the least recently used). ``w_cache=0``
gives the importance-weighted LRU; large ``w_cache`` evicts from the tail of the prompt. The
order is the policy's own: a page enters it when it comes into L0 (written, faulted back, or
unpinned) and leaves it when evicted. One pass over the resident pages per eviction.
"""

from __future__ import annotations

from simulator.engine.policies import Key

from .importance import ImportanceLRU

__all__ = ["CacheAwareLRU"]


class CacheAwareLRU(ImportanceLRU):
    name = "cacheaware"

    def __init__(self, capacity: int | None, *, w_cache: float = 0.5, w_recency: float = 0.5,
                 w_frequency: float = 0.2, w_kind: float = 0.15, w_importance: float = 0.15,
                 half_life: float = 50.0, freq_cap: int = 8) -> None:
        super().__init__(capacity, w_recency=w_recency, w_frequency=w_frequency,
                         w_kind=w_kind, w_importance=w_importance, half_life=half_life,
                         freq_cap=freq_cap)
        if w_cache < 0:
            raise ValueError("w_cache must be >= 0")
        self.w_cache = float(w_cache)
        self._after: dict[Key, int] = {}

    def _prepare(self) -> None:
        # tokens behind each page in arrival order (the resident dict keeps insertion order)
        after: dict[Key, int] = {}
        running = 0
        for key in reversed(self._size):
            after[key] = running
            running += self._size[key]
        self._after = after

    def cache_share(self, key: Key) -> float:
        """The share of resident tokens that came into L0 after ``key``."""
        return self._after.get(key, 0) / self.used if self.used else 0.0

    def keep_score(self, key: Key) -> float:
        return self.score(key) + self.w_cache * self.cache_share(key)
