"""A tier of the hierarchy: capacity in tokens, an eviction policy, pinned pages, protection."""

from __future__ import annotations

import random
from collections.abc import Hashable

from .config import TierConfig
from .latency import Sampler, make_sampler
from .policies import make_policy
from .policies.base import Policy


class Tier:
    """Holds pages up to ``capacity`` tokens.

    Pinned pages live beside the policy, not in it, so no policy ever sees (or could choose) a
    pinned page; they still count against the capacity. Anti-thrash protection is applied here
    too: a protected victim is given back to the policy as if newly inserted, and the next
    candidate is asked for — a decision the policy alone would have taken differently.
    """

    __slots__ = (
        "admits",
        "capacity",
        "concurrency",
        "config",
        "demotions_in",
        "evictions",
        "hits",
        "index",
        "latency",
        "misses",
        "name",
        "on_miss",
        "on_write",
        "pinned",
        "pinned_tokens",
        "policy",
        "protected_until",
        "releases_expired",
        "resource",
        "spared",
    )

    def __init__(self, index: int, config: TierConfig, seed: int) -> None:
        self.index = index
        self.config = config
        self.name = config.name
        self.capacity = config.capacity_tokens
        self.concurrency = config.concurrency
        self.policy: Policy = make_policy(
            config.policy, self.capacity, seed=seed + 7919 * index, **config.policy_params
        )
        # None when the policy keeps the base class's no-op hook: saves a call per miss
        overridden = type(self.policy).on_miss is not Policy.on_miss
        self.on_miss = self.policy.on_miss if overridden else None
        marks_dirty = type(self.policy).on_write is not Policy.on_write
        self.on_write = self.policy.on_write if marks_dirty else None
        refuses = type(self.policy).admits is not Policy.admits
        self.admits = self.policy.admits if refuses else None
        # Denning's working set is variable-size: pages that left the window leave the tier
        self.releases_expired = hasattr(self.policy, "expired")
        self.latency: Sampler = make_sampler(config.latency, random.Random(seed * 31 + index))
        self.pinned: dict[Hashable, int] = {}
        self.pinned_tokens = 0
        #: page id -> access index until which it may not be evicted (anti-thrash)
        self.protected_until: dict[Hashable, int] = {}
        self.resource = None  # a simpy.Resource when transfers from this tier queue
        self.hits = 0
        self.misses = 0
        self.evictions = 0
        self.demotions_in = 0
        self.spared = 0

    @property
    def used(self) -> int:
        return self.policy.used + self.pinned_tokens

    @property
    def pages(self) -> int:
        return len(self.policy) + len(self.pinned)

    def fits(self, size: int) -> bool:
        """Could a page of ``size`` tokens ever be held here (given what is pinned)?"""
        return self.capacity is None or size + self.pinned_tokens <= self.capacity

    def make_room(self, size: int, now: int, sizes: dict[Hashable, int]) -> list[Hashable]:
        """Evict until ``size`` more tokens fit; return the victims in eviction order.

        The caller has checked :meth:`fits`. A protected victim (anti-thrash) is handed back to
        the policy as newly inserted and another candidate is asked for; each call spares at
        most as many pages as are protected, so when everything resident is protected the
        protection yields instead of looping.
        """
        capacity = self.capacity
        if capacity is None:
            return []
        policy = self.policy
        limit = capacity - self.pinned_tokens - size
        protected = self.protected_until
        budget = len(protected)
        spared = 0
        victims: list[Hashable] = []
        while policy.used > limit:
            victim = policy.victim()
            if protected:
                until = protected.pop(victim, None)
                if until is not None and until > now and spared < budget:
                    spared += 1
                    protected[victim] = until
                    policy.insert(victim, sizes[victim])
                    continue
            victims.append(victim)
        self.spared += spared
        self.evictions += len(victims)
        return victims
