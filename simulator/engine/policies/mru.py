"""MRU: evict the page used most recently."""

from __future__ import annotations

from .base import Key
from .ordered import OrderedPolicy


class MRU(OrderedPolicy):
    """Most recently used (docs/policies.md, "MRU"): LRU's order, the other end evicted.

    One ``OrderedDict`` key -> size, least recently used first; a hit moves the key to the
    recent end and ``victim`` pops that end. It wins on loops a little larger than the cache,
    where LRU misses every time.
    """

    __slots__ = ()
    name = "mru"
    order_label = "recency, least recently used first (the next victim last)"

    def __init__(self, capacity: int | None) -> None:
        super().__init__(capacity)
        if type(self).touch is MRU.touch:
            self.touch = self._od.move_to_end  # type: ignore[method-assign]  # see LRU

    def touch(self, key: Key) -> None:
        self._od.move_to_end(key)

    def victim(self) -> Key:
        if not self._od:
            raise self._nothing_resident()
        key, size = self._od.popitem(last=True)
        self.used -= size
        return key
