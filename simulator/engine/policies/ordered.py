"""The shared shape of policies that keep one ordered dict of resident pages, oldest first."""

from __future__ import annotations

from collections import OrderedDict

from .base import Key, Policy, PolicyState


class OrderedPolicy(Policy):
    """Resident pages in an ``OrderedDict`` key -> size; the victim is the first key.

    FIFO, LRU and the working set differ only in what a hit does to the order.
    """

    __slots__ = ("_od",)
    resident_maps = ("_od",)
    #: what the order of ``_od`` means, for :meth:`snapshot`
    order_label = "oldest first"

    def __init__(self, capacity: int | None) -> None:
        super().__init__(capacity)
        self._od: OrderedDict[Key, int] = OrderedDict()

    def insert(self, key: Key, size: int) -> None:
        self._od[key] = size
        self.used += size

    def victim(self) -> Key:
        if not self._od:
            raise self._nothing_resident()
        key, size = self._od.popitem(last=False)
        self.used -= size
        return key

    def remove(self, key: Key) -> None:
        self.used -= self._od.pop(key)

    def snapshot(self) -> PolicyState:
        return PolicyState(tuple(self._od), self.order_label)
