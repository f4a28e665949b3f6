"""LRU: evict the page whose last reference is oldest."""

from __future__ import annotations

from .base import Key
from .ordered import OrderedPolicy


class LRU(OrderedPolicy):
    """Least recently used.

    One ``OrderedDict`` key -> size, least recently used first. A hit moves the key to the
    most-recent end; ``victim`` pops the other end. Every operation is O(1); ``touch`` is a single
    C call (``OrderedDict.move_to_end``), bound straight onto the instance.
    """

    __slots__ = ()
    name = "lru"
    order_label = "recency, least recently used (the next victim) first"

    def __init__(self, capacity: int | None) -> None:
        super().__init__(capacity)
        if type(self).touch is LRU.touch:
            # A hit is the hot path: bind it to the C method directly (no Python frame per
            # hit). Like the method below, it raises KeyError for a key that is not resident.
            # Subclasses that override ``touch`` keep their own.
            self.touch = self._od.move_to_end  # type: ignore[method-assign]

    def touch(self, key: Key) -> None:
        self._od.move_to_end(key)
