"""FIFO: evict the page that was admitted first; hits change nothing."""

from __future__ import annotations

from .base import Key
from .ordered import OrderedPolicy


def _noop(key: Key) -> None:
    """A FIFO hit: nothing to record."""


class FIFO(OrderedPolicy):
    """First in, first out (insertion order; a hit does not move the page)."""

    __slots__ = ()
    name = "fifo"
    order_label = "queue, first in (the next victim) first"

    def __init__(self, capacity: int | None) -> None:
        super().__init__(capacity)
        if type(self).touch is FIFO.touch:
            self.touch = _noop  # type: ignore[method-assign]  # hot path, see LRU

    def touch(self, key: Key) -> None:
        """A hit: FIFO records nothing."""
