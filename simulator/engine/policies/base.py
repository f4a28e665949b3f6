"""The one small interface every eviction policy implements, and the bookkeeping they share.

A policy decides *which* resident key leaves a tier; the tier owns capacity accounting, pinning,
anti-thrash protection and what happens to a victim (demotion). Sizes are in tokens: with every
page one token a policy behaves exactly like its classic page-count form, with sized pages like
libCacheSim's byte mode (the tier evicts until the newcomer fits).

Call protocol, driven by :class:`simulator.engine.tiers.Tier`:

* hit on a resident key ........ ``touch(key)``
* miss ......................... ``on_miss(key, size)`` once; if ``admits(key, size)``,
                                 ``victim()`` until the newcomer fits, then ``insert(key, size)``
* write to a resident key ..... ``on_write(key)`` after the above, for policies with a dirty bit
* key taken away (promotion to an upper tier, pinning, a write elsewhere) ... ``remove(key)``

``victim()`` both chooses and forgets the victim (keeping any ghost history the algorithm
needs); ``remove()`` forgets a key without treating it as an eviction (no ghost entry).

What every policy shares lives here, as libCacheSim keeps its cache's lookup and occupancy in
shared code and each algorithm only its queues: membership, ``len``, ``keys`` and ``size_of``
are read from the policy's own queues, named in :attr:`Policy.resident_maps`. A policy module
holds its rule: what its queues are, how a hit, a miss and an eviction move pages between them,
and ``used`` (one line where a page comes or goes). The bookkeeping reads the queues rather than
keeping a table of its own, because a second table would cost every miss a dictionary operation
and a call (bench/README.md, "Policies").
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

Key = Hashable


@dataclass(frozen=True)
class PolicyState:
    """What a policy's next decision depends on, as a teacher shows it (docs/policies.md,
    "Seeing a policy's state"). Taken only when asked for: the access path never builds one.

    ``order`` lists the resident pages in the policy's own order, the next candidate for
    eviction first where the policy has one (FIFO's queue, LRU's recency, LFU's counts, the
    CLOCK hand's sweep); ``order_label`` says what that order is. ``marks`` gives each
    resident page the number the rule reads (a reference bit, a count, a next use), named by
    ``marks_label``. ``extra`` holds anything else the rule uses (a window, a period).
    """

    order: tuple[Key, ...]
    order_label: str = ""
    marks: Mapping[Key, Any] = field(default_factory=dict)
    marks_label: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (keys as given, marks as ``[[key, value], ...]`` in ``order``)."""
        return {
            "order": list(self.order), "order_label": self.order_label,
            "marks": [[k, self.marks[k]] for k in self.order if k in self.marks],
            "marks_label": self.marks_label, "extra": dict(self.extra),
        }


class Policy(ABC):
    """Base class of eviction policies.

    ``capacity`` is the tier's capacity in tokens (``None`` means unlimited), given to policies
    whose structure depends on it (ARC's target, 2Q's queue sizes, S3-FIFO's small queue).
    ``used`` is the token total of the resident pages, which the policy keeps as pages come
    and go.
    """

    #: registry name, e.g. ``"lru"``
    name: str = ""
    #: True for policies that need the index of the current access (OPT, working set); the
    #: engine then sets ``self.now`` before every ``touch``/``insert`` of this policy.
    needs_clock: bool = False
    #: True for policies that need the future (OPT): the engine gives them ``next_use``.
    needs_future: bool = False
    #: Names of the attributes holding the resident pages as mappings key -> size in tokens;
    #: together they hold every resident page exactly once (ghost lists are not among them).
    resident_maps: tuple[str, ...] = ()

    def __init__(self, capacity: int | None) -> None:
        self.capacity = capacity
        self.used = 0
        self.now = 0

    # --- bookkeeping shared by every policy ----------------------------------------------

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "resident_maps" in cls.__dict__:
            _define_lookups(cls)

    def __contains__(self, key: Key) -> bool:  # replaced per class by _define_lookups
        return any(key in getattr(self, name) for name in self.resident_maps)

    def __len__(self) -> int:  # replaced per class by _define_lookups
        return sum(len(getattr(self, name)) for name in self.resident_maps)

    def keys(self) -> Iterator[Key]:
        """Resident keys, in no promised order."""
        return chain.from_iterable(getattr(self, name) for name in self.resident_maps)

    def size_of(self, key: Key) -> int:
        """Tokens held by the resident ``key`` (the size it was admitted with)."""
        for name in self.resident_maps:
            resident: Mapping[Key, int] = getattr(self, name)
            if key in resident:
                return resident[key]
        raise KeyError(key)

    def snapshot(self) -> PolicyState:
        """The state the next decision depends on (:class:`PolicyState`). This default knows
        only who is resident; each policy with an order or marks of its own says so."""
        return PolicyState(tuple(self.keys()))

    def _nothing_resident(self) -> LookupError:
        """What ``victim()`` raises when no page is resident."""
        return LookupError(f"{self.name}: nothing resident")

    # --- the rule, one per policy --------------------------------------------------------

    @abstractmethod
    def touch(self, key: Key) -> None:
        """A hit on the resident ``key``."""

    def on_miss(self, key: Key, size: int) -> None:  # noqa: B027 - optional hook
        """Called once per miss, before any ``victim()`` call for it (ARC adapts here)."""

    def admits(self, key: Key, size: int) -> bool:
        """Whether a missed page is cached at all (asked after ``on_miss``). Strict 2Q and
        S3-FIFO refuse some pages, as libCacheSim does; a refused page is served, not kept."""
        return True

    def on_write(self, key: Key) -> None:  # noqa: B027 - optional hook
        """A write to the resident ``key``, after its ``touch`` or ``insert`` (the tier calls it
        only for policies that override it: those with a dirty bit, NRU and enhanced CLOCK)."""

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


def _define_lookups(cls: type[Policy]) -> None:
    """Give ``cls`` a ``__contains__`` and a ``__len__`` written out for its own
    ``resident_maps``, e.g. ``len(self._t1) + len(self._t2)``, generated as dataclasses
    generate ``__init__``: the engine asks ``len()`` on every refault, and this is exactly as
    fast as the methods each policy used to write by hand. A policy that defines either
    itself keeps its own."""
    names = cls.resident_maps
    if not all(isinstance(name, str) and name.isidentifier() for name in names):
        raise TypeError(f"{cls.__name__}.resident_maps must name attributes, got {names!r}")
    contains = " or ".join(f"key in self.{name}" for name in names) or "False"
    length = " + ".join(f"len(self.{name})" for name in names) or "0"
    source = (f"def __contains__(self, key):\n    return {contains}\n"
              f"def __len__(self):\n    return {length}\n")
    generated: dict[str, object] = {}
    exec(compile(source, f"<{cls.__name__} lookups>", "exec"), generated)
    for method in ("__contains__", "__len__"):
        if method not in cls.__dict__:
            function = generated[method]
            function.__qualname__ = f"{cls.__qualname__}.{method}"  # type: ignore[attr-defined]
            setattr(cls, method, function)
