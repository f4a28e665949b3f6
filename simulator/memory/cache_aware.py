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
unpinned) and leaves it when evicted.

**Cost.** The cache term moves every page's ``keep`` at each arrival and eviction, so no
order of the pages survives from one eviction to the next: every resident page is ranked
at each eviction. The pages' fields live in NumPy arrays in arrival order (:class:`_Arrivals`,
updated in O(1) per access), and an eviction ranks them all in a few array operations, with
the same floating-point operations in the same order as :meth:`CacheAwareLRU.keep_score`, so
the victim is the one a scan of every page in Python finds (a Hypothesis test compares them).
"""

from __future__ import annotations

import math

import numpy as np

from simulator.engine.policies import Key

from .importance import ImportanceLRU

__all__ = ["CacheAwareLRU"]


class _Arrivals:
    """The resident pages in the order they came into L0, one slot each, with what ranking
    them needs: size, last use, uses (capped), order of last use, kind weight and importance.
    A page that leaves leaves a hole (size 0, not ``live``); the slots are compacted when
    holes are half of them, so the arrays stay within twice the resident pages."""

    FIELDS = (("size", np.int64), ("last", np.int64), ("uses", np.int64), ("seq", np.int64),
              ("kind", np.float64), ("importance", np.float64), ("live", np.bool_))

    def __init__(self, room: int = 64) -> None:
        self.slot_of: dict[Key, int] = {}
        self.keys: list[Key | None] = []
        self.arrays = {name: np.zeros(room, dtype) for name, dtype in self.FIELDS}

    @property
    def top(self) -> int:
        return len(self.keys)

    def add(self, key: Key, size: int, last: int, uses: int, seq: int,
            kind: float, importance: float) -> None:
        if self.top == len(self.arrays["size"]):
            self._make_room()
        slot = self.top
        self.keys.append(key)
        self.slot_of[key] = slot
        a = self.arrays
        a["size"][slot], a["last"][slot], a["uses"][slot], a["seq"][slot] = size, last, uses, seq
        a["kind"][slot], a["importance"][slot], a["live"][slot] = kind, importance, True

    def drop(self, key: Key) -> None:
        slot = self.slot_of.pop(key)
        self.keys[slot] = None
        self.arrays["size"][slot] = 0
        self.arrays["live"][slot] = False

    def _make_room(self) -> None:
        """Compact the live slots to the front, in order; grow the arrays if that frees
        less than half of them."""
        live = np.flatnonzero(self.arrays["live"][:self.top])
        room = len(self.arrays["size"])
        if len(live) * 2 > room:
            room *= 2
        arrays = {}
        for name, dtype in self.FIELDS:
            grown = np.zeros(room, dtype)
            grown[:len(live)] = self.arrays[name][live]
            arrays[name] = grown
        self.arrays = arrays
        self.keys = [self.keys[slot] for slot in live]
        self.slot_of = {key: slot for slot, key in enumerate(self.keys)}


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
        self._arrivals = _Arrivals()
        # the frequency term by uses (capped), computed as score() computes it
        self._frequency = np.array([min(1.0, math.log2(1 + uses) / self._flog)
                                    for uses in range(freq_cap + 1)])

    # --- the arrival-order table kept in step with the resident pages ----------------------

    def insert(self, key: Key, size: int) -> None:
        super().insert(key, size)
        kind, importance = self._meta_of(key)
        self._arrivals.add(key, size, self._last[key], 1, self._seq[key], kind, importance)

    def touch(self, key: Key) -> None:
        super().touch(key)
        slot = self._arrivals.slot_of[key]
        arrays = self._arrivals.arrays
        arrays["last"][slot] = self._last[key]
        arrays["uses"][slot] = min(self._uses[key], self._freq_cap)
        arrays["seq"][slot] = self._seq[key]

    def set_meta(self, key: Key, *, kind: str | None = None,
                 importance: float | None = None) -> None:
        super().set_meta(key, kind=kind, importance=importance)
        slot = self._arrivals.slot_of.get(key)
        if slot is not None:
            arrays = self._arrivals.arrays
            arrays["kind"][slot], arrays["importance"][slot] = self._meta[key]

    def _forget(self, key: Key) -> None:
        super()._forget(key)
        self._arrivals.drop(key)

    # --- the rule ---------------------------------------------------------------------------

    def _prepare(self) -> None:
        # tokens behind each page in arrival order (the resident dict keeps insertion order)
        after: dict[Key, int] = {}
        running = 0
        for key in reversed(self._size):
            after[key] = running
            running += self._size[key]
        self._after = after

    def cache_share(self, key: Key) -> float:
        """The share of resident tokens that came into L0 after ``key`` (as of the last
        :meth:`_prepare`)."""
        return self._after.get(key, 0) / self.used if self.used else 0.0

    def keep_score(self, key: Key) -> float:
        return self.score(key) + self.w_cache * self.cache_share(key)

    def _lowest(self, spared: set[Key] | tuple[()]) -> Key:
        """:meth:`keep_score` of every resident page at once, by the same operations in the
        same order (so the same floats), then the lowest; ties to the least recently used."""
        table = self._arrivals
        top = table.top
        a = {name: array[:top] for name, array in table.arrays.items()}
        wr, wf, wk, wi = self.w
        age = np.maximum(self.now - a["last"], 0)
        recency = 1.0 / (1.0 + age / self.half_life)
        score = wr * recency + wf * self._frequency[a["uses"]] + wk * a["kind"] \
            + wi * a["importance"]
        used = self.used
        after = used - np.cumsum(a["size"])  # tokens in the slots after each one
        share = after / used if used else np.zeros(top)
        keep = score + self.w_cache * share
        candidates = a["live"].copy()
        if spared:
            left = candidates.copy()
            for key in spared:
                slot = table.slot_of.get(key)
                if slot is not None:
                    left[slot] = False
            if left.any():
                candidates = left
        keep[~candidates] = np.inf
        lowest = np.flatnonzero(keep == keep.min())
        slot = lowest[np.argmin(a["seq"][lowest])] if len(lowest) > 1 else lowest[0]
        return table.keys[slot]
