"""Denning's working set with a window of tau accesses, as a victim-selection rule."""

from __future__ import annotations

from collections.abc import Iterator

from .base import Key
from .ordered import OrderedPolicy


class WorkingSet(OrderedPolicy):
    """Working set (Denning 1968) over a window of ``tau`` accesses.

    ``now`` is the 0-based index of the current access (the engine sets it, ``needs_clock``). A
    resident page is in the working set W(now, tau) if it was referenced within the last ``tau``
    accesses, that is ``now - last_reference < tau``.

    ``victim`` evicts a page outside the working set, preferring the least recently used one; if
    every resident page is in the working set it falls back to LRU. Both rules pick the same
    page, the least recently used one, so inside a fixed-capacity tier the *victims* are LRU's;
    what the policy adds is the notion of pages that have left the working set:
    :meth:`expired` lists them (oldest first) and :meth:`in_working_set` tests one. The engine's
    tiers release expired pages at each miss (``Tier.releases_expired``), which makes the tier
    variable-size like Denning's working set: it holds at most what was referenced in the last
    ``tau`` accesses, and less than its capacity when the program's locality is small.
    """

    __slots__ = ("_last", "tau")
    name = "ws"
    needs_clock = True

    def __init__(self, capacity: int | None, *, tau: int = 1000) -> None:
        super().__init__(capacity)
        if isinstance(tau, bool) or not isinstance(tau, int) or tau < 1:
            raise ValueError(f"tau must be an integer >= 1 (accesses), got {tau!r}")
        self.tau = tau
        self._last: dict[Key, int] = {}  # key -> index of its last reference

    def touch(self, key: Key) -> None:
        self._od.move_to_end(key)
        self._last[key] = self.now

    def insert(self, key: Key, size: int) -> None:
        super().insert(key, size)
        self._last[key] = self.now

    def in_working_set(self, key: Key) -> bool:
        """Whether the resident ``key`` was referenced within the last ``tau`` accesses."""
        return self.now - self._last[key] < self.tau

    def expired(self) -> Iterator[Key]:
        """Resident keys outside the working set, least recently used first (lazy)."""
        last, now, tau = self._last, self.now, self.tau
        for key in self._od:
            if now - last[key] < tau:
                return
            yield key

    def victim(self) -> Key:
        # The LRU page is the oldest outside the window if any page is outside it, and LRU's
        # own choice otherwise.
        key = super().victim()
        del self._last[key]
        return key

    def remove(self, key: Key) -> None:
        super().remove(key)
        del self._last[key]
