"""FIFO: evict the page that was admitted first; hits change nothing."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

from .base import Key, Policy


def _noop(key: Key) -> None:
    """A FIFO hit: nothing to record."""


class FIFO(Policy):
    """First in, first out (insertion order; a hit does not move the page)."""

    __slots__ = ("_od",)
    name = "fifo"

    def __init__(self, capacity: int | None) -> None:
        super().__init__(capacity)
        self._od: OrderedDict[Key, int] = OrderedDict()
        if type(self).touch is FIFO.touch:
            self.touch = _noop  # type: ignore[method-assign]  # hot path, see LRU

    def __contains__(self, key: Key) -> bool:
        return key in self._od

    def __len__(self) -> int:
        return len(self._od)

    def keys(self) -> Iterator[Key]:
        return iter(self._od)

    def touch(self, key: Key) -> None:
        """A hit: FIFO records nothing."""

    def insert(self, key: Key, size: int) -> None:
        self._od[key] = size
        self.used += size

    def victim(self) -> Key:
        if not self._od:
            raise LookupError("fifo: nothing resident")
        key, size = self._od.popitem(last=False)
        self.used -= size
        return key

    def remove(self, key: Key) -> None:
        self.used -= self._od.pop(key)

    def size_of(self, key: Key) -> int:
        return self._od[key]
