"""Importance-weighted LRU: the score, kinds, pins, and anti-thrash changing its decisions."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.engine.access import Access, Op
from simulator.engine.config import SimConfig, TierConfig
from simulator.engine.errors import ConfigError
from simulator.engine.policies import make_policy, policy_names
from simulator.engine.simulation import Simulation

from .scored_ops import operations, replay_against_scan


def drive(policy, keys, capacity):
    """Drive a policy through the tier protocol by hand; returns the victims."""
    victims = []
    for now, key in enumerate(keys):
        policy.now = now
        if key in policy:
            policy.touch(key)
            continue
        while policy.used + 1 > capacity:
            victims.append(policy.victim())
        policy.insert(key, 1)
    return victims


def test_registered_with_aliases_and_checked_parameters():
    assert "importance" in policy_names()
    assert make_policy("importance-lru", 10).name == "importance"
    with pytest.raises(ConfigError):
        make_policy("importance", 10, w_recency=-1)
    with pytest.raises(ConfigError):
        make_policy("importance", 10, alpha=1)


def test_recency_alone_is_exactly_lru():
    rng = random.Random(3)
    keys = [rng.randrange(30) for _ in range(3000)]
    pure = make_policy("importance", 10, w_recency=1, w_frequency=0, w_kind=0, w_importance=0)
    assert drive(pure, keys, 10) == drive(make_policy("lru", 10), keys, 10)


def test_kind_and_importance_keep_valuable_pages():
    policy = make_policy("importance", 3)
    keys = ["document:manual#0", "tool:t1-result", "message:t1-user"]
    for now, key in enumerate(keys):
        policy.now = now
        policy.insert(key, 1)
    policy.now = 3
    assert policy.victim() == "tool:t1-result"  # the cheapest kind, although not the oldest
    policy.set_meta("message:t1-user", importance=0.0)
    policy.set_meta("document:manual#0", importance=1.0)
    assert policy.victim() == "message:t1-user"


def test_frequency_counts():
    policy = make_policy("importance", 2, w_recency=0.5, w_frequency=0.5, w_kind=0,
                         w_importance=0)
    policy.now = 0
    policy.insert("a", 1)
    for now in range(1, 6):
        policy.now = now
        policy.touch("a")
    policy.now = 6
    policy.insert("b", 1)
    policy.now = 7
    assert policy.victim() == "b"  # a is older but used six times


def chat_config(anti_thrash: int) -> SimConfig:
    return SimConfig(tiers=[TierConfig("L0", 3, "importance"), TierConfig("L1", None, "lru")],
                     anti_thrash=anti_thrash).validate()


def test_pinned_pages_are_never_chosen_and_anti_thrash_changes_decisions():
    # A tool page (lowest kind weight) faulted back in is the policy's first choice of victim;
    # with anti-thrash it is spared and a message page goes instead.
    accesses = [
        Access(0, "system:prompt", 1, Op.WRITE), Access(1, "system:prompt", 1, Op.PIN),
        Access(2, "tool:t1", 1, Op.WRITE), Access(3, "message:a", 1, Op.WRITE),
        Access(4, "message:b", 1, Op.WRITE),  # evicts tool:t1 (lowest score)
        Access(5, "tool:t1", 1),  # fault: tool:t1 back in, evicting a message
        Access(6, "message:c", 1, Op.WRITE),  # who goes now?
    ]
    plain = Simulation(chat_config(0), iter(accesses))
    plain.run()
    protected = Simulation(chat_config(5), iter(accesses))
    protected.run()
    assert plain.tier_of("system:prompt") == 0 and protected.tier_of("system:prompt") == 0
    assert plain.tier_of("tool:t1") == 1  # evicted again right away: thrashing
    assert protected.tier_of("tool:t1") == 0  # spared
    assert protected.tiers[0].spared >= 1


@settings(max_examples=80, deadline=None)
@given(ops=operations(), frames=st.integers(1, 25), half_life=st.sampled_from([1.0, 5.0, 50.0]),
       freq_cap=st.sampled_from([1, 2, 8]))
def test_the_groups_choose_the_victim_a_full_scan_would(ops, frames, half_life, freq_cap):
    """Whatever the uses, kinds, importances, anti-thrash spares and removals, the victim
    found among the groups' first pages is the one a scan of every resident page finds."""
    policy = make_policy("importance", frames, half_life=half_life, freq_cap=freq_cap)
    replay_against_scan(policy, ops, frames)
