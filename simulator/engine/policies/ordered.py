"""The shared shape of policies that keep one ordered dict of resident pages, oldest first."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

from .base import Key, Policy


class OrderedPolicy(Policy):
    """Resident pages in an ``OrderedDict`` key -> size; the victim is the first key.

    FIFO, LRU and the working set differ only in what a hit does to the order.
    """

    __slots__ = ("_od",)

    def __init__(self, capacity: int | None) -> None:
        super().__init__(capacity)
        self._od: OrderedDict[Key, int] = OrderedDict()

    def __contains__(self, key: Key) -> bool:
        return key in self._od

    def __len__(self) -> int:
        return len(self._od)

    def keys(self) -> Iterator[Key]:
        return iter(self._od)

    def insert(self, key: Key, size: int) -> None:
        self._od[key] = size
        self.used += size

    def victim(self) -> Key:
        if not self._od:
            raise LookupError(f"{self.name}: nothing resident")
        key, size = self._od.popitem(last=False)
        self.used -= size
        return key

    def remove(self, key: Key) -> None:
        self.used -= self._od.pop(key)

    def size_of(self, key: Key) -> int:
        return self._od[key]
