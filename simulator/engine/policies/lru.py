"""LRU: evict the page whose last reference is oldest."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

from .base import Key, Policy


class LRU(Policy):
    """Least recently used.

    One ``OrderedDict`` key -> size, least recently used first. A hit moves the key to the
    most-recent end; ``victim`` pops the other end. Every operation is O(1); ``touch`` is a single
    C call (``OrderedDict.move_to_end``), bound straight onto the instance.
    """

    __slots__ = ("_od",)
    name = "lru"

    def __init__(self, capacity: int | None) -> None:
        super().__init__(capacity)
        self._od: OrderedDict[Key, int] = OrderedDict()
        if type(self).touch is LRU.touch:
            # A hit is the hot path: bind it to the C method directly (no Python frame per
            # hit). Like the method below, it raises KeyError for a key that is not resident.
            # Subclasses that override ``touch`` keep their own.
            self.touch = self._od.move_to_end  # type: ignore[method-assign]

    def __contains__(self, key: Key) -> bool:
        return key in self._od

    def __len__(self) -> int:
        return len(self._od)

    def keys(self) -> Iterator[Key]:
        return iter(self._od)

    def touch(self, key: Key) -> None:
        self._od.move_to_end(key)

    def insert(self, key: Key, size: int) -> None:
        self._od[key] = size
        self.used += size

    def victim(self) -> Key:
        if not self._od:
            raise LookupError("lru: nothing resident")
        key, size = self._od.popitem(last=False)
        self.used -= size
        return key

    def remove(self, key: Key) -> None:
        self.used -= self._od.pop(key)

    def size_of(self, key: Key) -> int:
        return self._od[key]
