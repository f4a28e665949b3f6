"""Denning's working set W(t, tau): a page stays resident while it was referenced in the last
tau accesses (docs/policies.md, "Working set")."""

from __future__ import annotations

from collections.abc import Iterator

from .base import Key, PolicyState
from .ordered import OrderedPolicy


class WorkingSet(OrderedPolicy):
    """Working set (Denning 1968) over a window of ``tau`` accesses.

    ``now`` is the 0-based index of the current access (the engine sets it, ``needs_clock``).
    After access ``now`` the working set W(now, tau) holds the pages referenced at accesses
    ``now - tau + 1 … now``: a resident page belongs to it while ``now - last_reference < tau``,
    so the reference at ``now + 1`` hits exactly when its page is in W(now, tau).

    The engine releases every page that has left the window after each access
    (:meth:`expired`, oldest first; ``Tier.releases_expired``), so the tier is variable-size as
    Denning's working set is, bounded by the tier's capacity. When the window holds more than
    the capacity, ``victim`` evicts the least recently used page, which is LRU's choice.
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

    def next_expiry(self) -> int | None:
        """The access after which the least recently used page leaves the working set (the
        first to leave), or None when nothing is resident. O(1)."""
        for key in self._od:  # the oldest
            return self._last[key] + self.tau
        return None

    def expired(self) -> Iterator[Key]:
        """Resident keys outside the working set, least recently used first (lazy)."""
        last, now, tau = self._last, self.now, self.tau
        for key in self._od:
            if now - last[key] < tau:
                return
            yield key

    def victim(self) -> Key:
        key = super().victim()
        del self._last[key]
        return key

    def remove(self, key: Key) -> None:
        super().remove(key)
        del self._last[key]

    def snapshot(self) -> PolicyState:
        """Marks are each page's last reference (access index); ``extra`` has the window."""
        od = self._od
        return PolicyState(tuple(od), "least recently used first", dict(self._last),
                           "last reference (access #)", {"tau": self.tau, "now": self.now})
