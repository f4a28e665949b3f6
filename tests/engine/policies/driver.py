"""A tiny stand-in for the engine's tier: drives a policy with the documented call protocol."""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence

from simulator.engine.policies.base import Policy

NEVER = math.inf


def next_uses(ids: Sequence[Hashable]) -> list[float]:
    """For each position, the index of the next access of the same key (``NEVER`` if none)."""
    nxt: list[float] = [NEVER] * len(ids)
    seen: dict[Hashable, int] = {}
    for i in range(len(ids) - 1, -1, -1):
        k = ids[i]
        j = seen.get(k)
        if j is not None:
            nxt[i] = j
        seen[k] = i
    return nxt


def simulate_misses(
    policy: Policy,
    ids: Sequence[Hashable],
    sizes: Mapping[Hashable, int] | None = None,
    *,
    check: bool = False,
    victims: list[Hashable] | None = None,
) -> int:
    """Run ``ids`` through ``policy`` as one tier of ``policy.capacity`` tokens; return misses.

    hit: ``touch``; miss: ``on_miss``, (``admits``), ``victim`` until the page fits, ``insert``.
    A page larger than the capacity, or one the policy does not admit, is a miss that caches
    nothing. ``check=True`` verifies the bookkeeping after every access (slow); ``victims``, if
    given, collects the evicted keys in order.
    """
    cap = policy.capacity
    clock = policy.needs_clock
    future = policy.needs_future
    nxt = next_uses(ids) if future else None
    admits = getattr(policy, "admits", None)
    misses = 0
    for i, key in enumerate(ids):
        size = 1 if sizes is None else sizes[key]
        if clock:
            policy.now = i
        if key in policy:
            if future:
                policy.set_next_use(nxt[i])  # type: ignore[attr-defined,index]
            policy.touch(key)
        else:
            misses += 1
            if cap is None or size <= cap:
                policy.on_miss(key, size)
                if admits is None or admits(key, size):
                    if cap is not None:
                        while policy.used + size > cap:
                            victim = policy.victim()
                            if victims is not None:
                                victims.append(victim)
                            if check:
                                assert victim not in policy
                                assert victim != key
                    if future:
                        policy.set_next_use(nxt[i])  # type: ignore[attr-defined,index]
                    policy.insert(key, size)
        if check:
            resident = list(policy.keys())
            assert len(resident) == len(set(resident)) == len(policy)
            assert policy.used == sum(policy.size_of(k) for k in resident)
            assert cap is None or policy.used <= cap
            assert all(k in policy for k in resident)
    return misses
