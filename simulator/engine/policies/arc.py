"""ARC (Megiddo & Modha, FAST'03), with libCacheSim's choices where the paper is silent."""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterator

from .base import Key, Policy, PolicyState


class ARC(Policy):
    """Adaptive Replacement Cache as libCacheSim's ``ARC``.

    Resident pages live in T1 (seen once recently) and T2 (seen at least twice); B1 and B2 are
    ghost lists of keys recently evicted from T1 and T2. All four are ``OrderedDict`` key -> size,
    least recent first, and their sizes are counted in tokens. The target size of T1, ``p``, is a
    real number starting at 0.

    * hit in T1 or T2: move to the MRU end of T2.
    * miss on a key in B1 (``on_miss``): ``p += max(|B2| / |B1|, 1)`` capped at the capacity;
      in B2: ``p -= max(|B1| / |B2|, 1)`` floored at 0. The ghost entry goes away, every victim
      for this miss comes from REPLACE, and the page is admitted to T2. A ghost hit is a miss.
    * miss on a key in no list: while room is needed, if ``|T1| + |B1| + size > c`` then
      (B1 non-empty) drop B1's LRU and REPLACE, or (B1 empty) evict T1's LRU with no ghost;
      otherwise, if ``|T1| + |T2| + |B1| + |B2| >= 2c`` drop B2's LRU, then REPLACE. The page is
      admitted to T1.
    * REPLACE: if T2 is empty, or T1 is non-empty and (``|T1| > p`` or ``|T1| == p`` and the
      miss was in B2), T1's LRU moves to B1; otherwise T2's LRU moves to B2.
    """

    __slots__ = (
        "_b1",
        "_b2",
        "_c",
        "_ghost",
        "_incoming",
        "_p",
        "_sb1",
        "_sb2",
        "_st1",
        "_st2",
        "_t1",
        "_t2",
    )
    name = "arc"
    resident_maps = ("_t1", "_t2")

    def __init__(self, capacity: int | None) -> None:
        super().__init__(capacity)
        self._c: float = math.inf if capacity is None else capacity
        self._t1: OrderedDict[Key, int] = OrderedDict()
        self._t2: OrderedDict[Key, int] = OrderedDict()
        self._b1: OrderedDict[Key, int] = OrderedDict()
        self._b2: OrderedDict[Key, int] = OrderedDict()
        self._st1 = self._st2 = self._sb1 = self._sb2 = 0
        self._p = 0.0
        self._ghost = 0  # 1 or 2 while handling a miss that hit B1 or B2
        self._incoming = 1  # size of the page being admitted

    @property
    def p(self) -> float:
        """ARC's current target size of T1, in tokens."""
        return self._p

    def ghost_keys(self) -> Iterator[Key]:
        """Keys in B1 then B2 (history only, not resident)."""
        yield from self._b1
        yield from self._b2

    def touch(self, key: Key) -> None:
        t1 = self._t1
        if key in t1:
            size = t1.pop(key)
            self._st1 -= size
            self._t2[key] = size
            self._st2 += size
        else:
            self._t2.move_to_end(key)

    def on_miss(self, key: Key, size: int) -> None:
        self._incoming = size
        self._ghost = 0
        if key in self._b1:
            delta = max(self._sb2 / self._sb1, 1.0)
            self._p = min(self._p + delta, self._c)
            self._sb1 -= self._b1.pop(key)
            self._ghost = 1
        elif key in self._b2:
            delta = max(self._sb1 / self._sb2, 1.0)
            self._p = max(self._p - delta, 0.0)
            self._sb2 -= self._b2.pop(key)
            self._ghost = 2

    def insert(self, key: Key, size: int) -> None:
        # a page inserted without a miss first (an unpinned page coming back to the policy)
        # may still have a ghost: drop it, or the ghost lists would hold it twice in size
        if key in self._b1:
            self._sb1 -= self._b1.pop(key)
        elif key in self._b2:
            self._sb2 -= self._b2.pop(key)
        if self._ghost:
            self._t2[key] = size
            self._st2 += size
        else:
            self._t1[key] = size
            self._st1 += size
        self.used += size
        self._ghost = 0
        self._incoming = 1

    def _replace(self) -> Key:
        st1 = self._st1
        if self._st2 == 0 or (st1 > 0 and (st1 > self._p or (st1 == self._p and self._ghost == 2))):
            key, size = self._t1.popitem(last=False)
            self._st1 -= size
            self._b1[key] = size
            self._sb1 += size
        else:
            key, size = self._t2.popitem(last=False)
            self._st2 -= size
            self._b2[key] = size
            self._sb2 += size
        self.used -= size
        return key

    def victim(self) -> Key:
        if not self._t1 and not self._t2:
            raise self._nothing_resident()
        if self._ghost:
            return self._replace()
        c = self._c
        if self._st1 + self._sb1 + self._incoming > c:
            if self._sb1 > 0:
                self._sb1 -= self._b1.popitem(last=False)[1]
                return self._replace()
            if not self._t1:  # only reachable after remove() or with odd sizes
                return self._replace()
            key, size = self._t1.popitem(last=False)  # T1 alone fills the cache: no ghost
            self._st1 -= size
            self.used -= size
            return key
        if self._st1 + self._st2 + self._sb1 + self._sb2 >= 2 * c and self._sb2 > 0:
            self._sb2 -= self._b2.popitem(last=False)[1]
        return self._replace()

    def snapshot(self) -> PolicyState:
        """T1 then T2, least recent first (each page marked with its list); ``extra`` has
        the ghosts B1 and B2 (least recent first) and the target size p of T1."""
        t1, t2 = tuple(self._t1), tuple(self._t2)
        marks = {**dict.fromkeys(t1, "T1"), **dict.fromkeys(t2, "T2")}
        return PolicyState(t1 + t2, "T1 (seen once) then T2 (seen again), least recent first",
                           marks, "list", {"B1": list(self._b1), "B2": list(self._b2),
                                           "p": self._p})

    def remove(self, key: Key) -> None:
        if key in self._t1:
            size = self._t1.pop(key)
            self._st1 -= size
        else:
            size = self._t2.pop(key)
            self._st2 -= size
        self.used -= size
