"""SIEVE (Zhang et al., NSDI'24): a FIFO whose eviction hand skips visited pages."""

from __future__ import annotations

from collections import OrderedDict

from .base import Key, Policy, PolicyState


class Sieve(Policy):
    """SIEVE as libCacheSim's ``Sieve``.

    Pages never move. New pages enter at the head of a FIFO with their *visited* bit clear; a hit
    sets the bit. The hand walks from the tail (oldest) towards the head: a visited page has its
    bit cleared and is passed over; the first unvisited page is evicted and the hand stays at the
    next newer page. Reaching the head wraps the hand round to the tail.

    The queue is kept as two ``OrderedDict``s (key -> size, oldest first): ``_ahead`` holds the
    pages from the hand to the head, ``_behind`` the pages the hand has already passed (all older
    than ``_ahead``). Passing a page moves it from one to the other in O(1); when ``_ahead`` runs
    out the hand wraps and the two swap. Visited bits live in a set, so ``touch`` is one
    ``set.add``.
    """

    __slots__ = ("_ahead", "_behind", "_visited")
    name = "sieve"
    resident_maps = ("_behind", "_ahead")  # oldest first

    def __init__(self, capacity: int | None) -> None:
        super().__init__(capacity)
        self._ahead: OrderedDict[Key, int] = OrderedDict()
        self._behind: OrderedDict[Key, int] = OrderedDict()
        self._visited: set[Key] = set()
        if type(self).touch is Sieve.touch:
            self.touch = self._visited.add  # type: ignore[method-assign]

    def touch(self, key: Key) -> None:
        self._visited.add(key)

    def insert(self, key: Key, size: int) -> None:
        self._visited.discard(key)
        self._ahead[key] = size  # the head: newest of all
        self.used += size

    def _wrap(self) -> None:
        # the hand passed the head: everything is "ahead" again, oldest first
        self._ahead, self._behind = self._behind, self._ahead

    def victim(self) -> Key:
        if not self._ahead:
            if not self._behind:
                raise self._nothing_resident()
            self._wrap()
        visited = self._visited
        while True:
            ahead = self._ahead
            key, size = ahead.popitem(last=False)
            if key in visited:
                visited.discard(key)
                self._behind[key] = size
                if not ahead:
                    self._wrap()
            else:
                self.used -= size
                if not ahead:
                    self._wrap()
                return key

    def remove(self, key: Key) -> None:
        if key in self._ahead:
            size = self._ahead.pop(key)
            if not self._ahead:
                self._wrap()
        else:
            size = self._behind.pop(key)
        self._visited.discard(key)
        self.used -= size

    def snapshot(self) -> PolicyState:
        """From the hand towards the newest page, then round to the ones the hand passed."""
        order = tuple(self._ahead) + tuple(self._behind)
        visited = self._visited
        return PolicyState(order, "from the hand", {k: int(k in visited) for k in order},
                           "visited bit", {"hand": order[0] if order else None})
