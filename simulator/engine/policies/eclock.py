"""Enhanced CLOCK (enhanced second chance): the clock hand prefers pages that are clean."""

from __future__ import annotations

from collections import OrderedDict

from .base import Key, Policy, PolicyState


class EnhancedClock(Policy):
    """Enhanced second chance as Stallings describes it (docs/policies.md, "Enhanced CLOCK").

    Frames form a circle swept by a hand; each page has a use bit U (set when it is loaded and
    on every access) and a dirty bit M (set by a write). To choose a victim, starting at the
    hand: (1) sweep once for a page with U = 0, M = 0, changing nothing; (2) failing that,
    sweep once for U = 0, M = 1, clearing the use bit of every page passed; (3) failing that,
    all use bits are now clear: repeat (1) and (2). The new page takes the victim's frame and
    the hand stops at the frame after it.

    The circle is an ``OrderedDict`` in order from the hand, so the hand passing pages is
    moving them to the end and the new page goes in last, just behind the hand. A sweep is
    O(resident).
    """

    __slots__ = ("_dirty", "_ring", "_used_bit")
    name = "eclock"
    resident_maps = ("_ring",)

    def __init__(self, capacity: int | None) -> None:
        super().__init__(capacity)
        self._ring: OrderedDict[Key, int] = OrderedDict()  # key -> size, from the hand
        self._used_bit: set[Key] = set()
        self._dirty: set[Key] = set()

    def touch(self, key: Key) -> None:
        if key not in self._ring:
            raise KeyError(key)
        self._used_bit.add(key)

    def on_write(self, key: Key) -> None:
        self._dirty.add(key)

    def insert(self, key: Key, size: int) -> None:
        self._ring[key] = size
        self._used_bit.add(key)
        self.used += size

    def _take(self, key: Key) -> Key:
        """Move the hand to ``key`` (the pages before it go behind), evict it."""
        ring = self._ring
        while True:
            first = next(iter(ring))
            if first == key:
                break
            ring.move_to_end(first)
        self.remove(key)
        return key

    def victim(self) -> Key:
        if not self._ring:
            raise self._nothing_resident()
        used, dirty = self._used_bit, self._dirty
        while True:
            for key in self._ring:
                if key not in used and key not in dirty:
                    return self._take(key)
            for key in list(self._ring):
                if key not in used:  # dirty, else the first sweep had found it
                    return self._take(key)
                used.discard(key)

    def remove(self, key: Key) -> None:
        self.used -= self._ring.pop(key)
        self._used_bit.discard(key)
        self._dirty.discard(key)

    def snapshot(self) -> PolicyState:
        order = tuple(self._ring)
        marks = {k: f"U{int(k in self._used_bit)} M{int(k in self._dirty)}" for k in order}
        return PolicyState(order, "from the hand", marks, "use and dirty bits",
                           {"hand": order[0] if order else None})
