"""The one small interface every eviction policy implements.

A policy decides *which* resident key leaves a tier; the tier owns capacity accounting, pinning,
anti-thrash protection and what happens to a victim (demotion). Sizes are in tokens: with every
page one token a policy behaves exactly like its classic page-count form, with sized pages like
libCacheSim's byte mode (the tier evicts until the newcomer fits).

Call protocol, driven by :class:`simulator.engine.tiers.Tier`:

* hit on a resident key ........ ``touch(key)``
* miss ......................... ``on_miss(key, size)`` once; if ``admits(key, size)``,
                                 ``victim()`` until the newcomer fits, then ``insert(key, size)``
* key taken away (promotion to an upper tier, pinning, a write elsewhere) ... ``remove(key)``

``victim()`` both chooses and forgets the victim (keeping any ghost history the algorithm
needs); ``remove()`` forgets a key without treating it as an eviction (no ghost entry).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Iterator

Key = Hashable


class Policy(ABC):
    """Base class of eviction policies.

    Subclasses keep their own resident set and token total (``used``); ``capacity`` is the tier's
    capacity in tokens (``None`` means unlimited) and is given to policies whose structure depends
    on it (ARC's target, 2Q's queue sizes, S3-FIFO's small queue).
    """

    #: registry name, e.g. ``"lru"``
    name: str = ""
    #: True for policies that need the index of the current access (OPT, working set); the
    #: engine then sets ``self.now`` before every ``touch``/``insert`` of this policy.
    needs_clock: bool = False
    #: True for policies that need the future (OPT): the engine gives them ``next_use``.
    needs_future: bool = False

    def __init__(self, capacity: int | None) -> None:
        self.capacity = capacity
        self.used = 0
        self.now = 0

    @abstractmethod
    def __contains__(self, key: Key) -> bool: ...

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def keys(self) -> Iterator[Key]:
        """Resident keys, in no promised order."""

    @abstractmethod
    def touch(self, key: Key) -> None:
        """A hit on the resident ``key``."""

    def on_miss(self, key: Key, size: int) -> None:  # noqa: B027 - optional hook
        """Called once per miss, before any ``victim()`` call for it (ARC adapts here)."""

    def admits(self, key: Key, size: int) -> bool:
        """Whether a missed page is cached at all (asked after ``on_miss``). Strict 2Q and
        S3-FIFO refuse some pages, as libCacheSim does; a refused page is served, not kept."""
        return True

    @abstractmethod
    def insert(self, key: Key, size: int) -> None:
        """Admit ``key`` of ``size`` tokens; the caller has already made room."""

    @abstractmethod
    def victim(self) -> Key:
        """Choose a resident key to evict, forget it, and return it.

        Raises ``LookupError`` when nothing is resident.
        """

    @abstractmethod
    def remove(self, key: Key) -> None:
        """Forget the resident ``key`` without treating it as an eviction."""

    def size_of(self, key: Key) -> int:
        """Tokens held by a resident key (policies keep sizes; default 1)."""
        return 1
