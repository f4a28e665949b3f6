"""Importance-weighted LRU: recency, frequency, kind and importance in one score.

For every resident page, at the current access ``now``::

    recency    r = 1 / (1 + (now - last_use) / half_life)      1 when just used, 1/2 after half_life
    frequency  f = min(1, log2(1 + uses) / log2(1 + freq_cap)) uses while resident (1 on insert)
    kind       k = kind_weight[kind]                              system 1, summary .8, document .5,
                                                                  message .4, tool .2
    importance i = the page's importance in [0, 1]                default 0.5

    score = w_recency*r + w_frequency*f + w_kind*k + w_importance*i

The victim is the resident page with the **lowest** score; ties go to the least recently used.
With ``w_recency=1`` and the other weights 0 the victims are exactly LRU's. Kind comes from the
page id's prefix (``message:…``, ``document:…``, see :mod:`simulator.memory.pages`) unless
:meth:`set_meta` said otherwise, so a recorded session trace replays with its kinds. Pinned
pages never reach a policy (the tier keeps them aside), so they are never chosen. Anti-thrash
protection is applied by the tier on top of this policy's choice: a protected victim is handed
back (re-inserted) and, since its score can stay the lowest after that, this policy then leaves
it out of the candidates for the rest of the same access.

**Cost.** Pages whose score differs only by recency — the same uses (up to ``freq_cap``), kind
and importance — form a group, kept in the order of last use. Within a group the page used
longest ago has the lowest score (recency falls with age, and rounding keeps that order), so
``victim()`` compares only the first page of each group: O(groups) per eviction, a few dozen
with the default importance whatever the number of pages (each page its own group in the
worst case, when every page is given an importance of its own). A subclass that adds to the
score (:mod:`simulator.memory.cache_aware`) ranks every resident page, with NumPy.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterator

from simulator.engine.policies import Key, Policy

from .pages import DEFAULT_IMPORTANCE, KIND_WEIGHT, kind_of


class ImportanceLRU(Policy):
    name = "importance"
    needs_clock = True

    def __init__(self, capacity: int | None, *, w_recency: float = 0.5,
                 w_frequency: float = 0.2, w_kind: float = 0.15, w_importance: float = 0.15,
                 half_life: float = 50.0, freq_cap: int = 8) -> None:
        super().__init__(capacity)
        for name, value in (("w_recency", w_recency), ("w_frequency", w_frequency),
                            ("w_kind", w_kind), ("w_importance", w_importance)):
            if value < 0:
                raise ValueError(f"{name} must be >= 0")
        if half_life <= 0 or freq_cap < 1:
            raise ValueError("half_life must be > 0 and freq_cap >= 1")
        self.w = (float(w_recency), float(w_frequency), float(w_kind), float(w_importance))
        self.half_life = float(half_life)
        self._flog = math.log2(1 + freq_cap)
        self._size: dict[Key, int] = {}
        self._last: dict[Key, int] = {}
        self._uses: dict[Key, int] = {}
        self._seq: dict[Key, int] = {}  # tie-break: order of last use
        self._tick = 0
        #: key -> (kind weight, importance), from set_meta or the id's prefix
        self._meta: dict[Key, tuple[float, float]] = {}
        # anti-thrash: a victim handed straight back by the tier (protected) is not chosen
        # again at the same access, whatever its score
        self._last_victim: tuple[Key, int] | None = None
        self._spared: set[Key] = set()
        self._spared_at = -1
        self._freq_cap = freq_cap
        #: (uses up to freq_cap, kind weight, importance) -> its pages, in order of last use
        self._groups: dict[tuple[int, float, float], OrderedDict[Key, None]] = {}
        self._group_of: dict[Key, tuple[int, float, float]] = {}
        # the groups decide only while the score is this class's own
        self._by_group = all(getattr(type(self), name) is getattr(ImportanceLRU, name)
                             for name in ("score", "keep_score", "_prepare"))

    def set_meta(self, key: Key, *, kind: str | None = None,
                 importance: float | None = None) -> None:
        """Tell the policy what a page is (may be called before the page arrives)."""
        k, i = self._meta.get(key, (KIND_WEIGHT.get(kind_of(key), 0.4), DEFAULT_IMPORTANCE))
        if kind is not None:
            k = KIND_WEIGHT.get(kind, 0.4)
        if importance is not None:
            i = min(1.0, max(0.0, float(importance)))
        self._meta[key] = (k, i)
        if key in self._size:
            self._regroup(key)

    def __contains__(self, key: Key) -> bool:
        return key in self._size

    def __len__(self) -> int:
        return len(self._size)

    def keys(self) -> Iterator[Key]:
        return iter(self._size)

    def _use(self, key: Key) -> None:
        self._last[key] = self.now
        self._tick += 1
        self._seq[key] = self._tick

    def _meta_of(self, key: Key) -> tuple[float, float]:
        meta = self._meta.get(key)
        if meta is None:
            meta = (KIND_WEIGHT.get(kind_of(key), 0.4), DEFAULT_IMPORTANCE)
        return meta

    def _leave_group(self, key: Key) -> None:
        group = self._group_of.pop(key)
        members = self._groups[group]
        del members[key]
        if not members:
            del self._groups[group]

    def _regroup(self, key: Key) -> None:
        """Put the resident ``key`` in the group of its uses and meta now, in its place by
        last use (the end after a use; elsewhere after ``set_meta``)."""
        if key in self._group_of:
            self._leave_group(key)
        group = (min(self._uses[key], self._freq_cap), *self._meta_of(key))
        members = self._groups.setdefault(group, OrderedDict())
        last = next(reversed(members), None)
        members[key] = None
        self._group_of[key] = group
        seq = self._seq
        if last is not None and seq[last] > seq[key]:  # set_meta: not the latest use
            self._groups[group] = OrderedDict.fromkeys(sorted(members, key=seq.__getitem__))

    def touch(self, key: Key) -> None:
        self._uses[key] += 1
        self._use(key)
        if self._uses[key] > self._freq_cap:  # its group stays: only its place moves (a hit)
            self._groups[self._group_of[key]].move_to_end(key)
        else:
            self._regroup(key)

    def insert(self, key: Key, size: int) -> None:
        if self._last_victim == (key, self.now):
            if self._spared_at != self.now:
                self._spared.clear()
                self._spared_at = self.now
            self._spared.add(key)
        self._size[key] = size
        self.used += size
        self._uses[key] = 1
        self._use(key)
        self._regroup(key)

    def score(self, key: Key) -> float:
        wr, wf, wk, wi = self.w
        age = max(0, self.now - self._last[key])
        r = 1.0 / (1.0 + age / self.half_life)
        f = min(1.0, math.log2(1 + self._uses[key]) / self._flog)
        meta = self._meta_of(key)
        return wr * r + wf * f + wk * meta[0] + wi * meta[1]

    def _prepare(self) -> None:
        """Called once before an eviction ranks the pages (a hook for policies that add to
        the score)."""

    def keep_score(self, key: Key) -> float:
        """How much the page is worth keeping; the lowest goes."""
        return self.score(key)

    def victim(self) -> Key:
        if not self._size:
            raise LookupError("importance: nothing resident")
        spared = self._spared if self._spared and self._spared_at == self.now else ()
        best = self._lowest(spared)
        self._forget(best)
        self._last_victim = (best, self.now)
        return best

    def _lowest(self, spared: set[Key] | tuple[()]) -> Key:
        """The resident page with the lowest (keep score, last use) that is not ``spared``
        (among all of them when every one is)."""
        best = self._best_of_groups(spared) if self._by_group else None
        if best is None:
            pool = self._size.keys()
            if spared:
                left = [k for k in pool if k not in spared]
                pool = left or pool
            self._prepare()
            seq = self._seq
            best = min(pool, key=lambda k: (self.keep_score(k), seq[k]))
        return best

    def _best_of_groups(self, spared: set[Key] | tuple[()]) -> Key | None:
        """The lowest (score, last use) among the first page of each group that is not
        ``spared``; None when every page is spared."""
        best, best_rank = None, None
        seq = self._seq
        for members in self._groups.values():
            for key in members:
                if key not in spared:
                    break
            else:
                continue
            rank = (self.score(key), seq[key])
            if best_rank is None or rank < best_rank:
                best, best_rank = key, rank
        return best

    def _forget(self, key: Key) -> None:
        self.used -= self._size.pop(key)
        self._leave_group(key)
        del self._last[key], self._uses[key], self._seq[key]

    def remove(self, key: Key) -> None:
        self._forget(key)

    def size_of(self, key: Key) -> int:
        return self._size[key]
