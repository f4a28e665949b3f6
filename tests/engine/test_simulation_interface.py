"""The engine's public interface for code built on it (docs/architecture.md §8): asking where a
page is and how full a tier is, compacting a tier to a target, forgetting a page, telling the
policies what a page is. The memory package uses only these."""

from __future__ import annotations

import pytest

from simulator.engine import Access, Op, Placement, SimConfig, Simulation, TierConfig, TierUsage
from simulator.engine.config import LatencyModel
from simulator.engine.policies import LRU, POLICIES, register_policy


def driven(accesses: list[tuple[str, Op]], l0: int = 30, policy: str = "lru") -> Simulation:
    """A three-tier simulation that has processed ``accesses`` (pages of 10 tokens) and waits
    for more, as a memory manager's simulation does between its accesses."""
    config = SimConfig(tiers=[TierConfig("L0", l0, policy),
                              TierConfig("L1", 1000, "lru", LatencyModel("constant", 5.0)),
                              TierConfig("L2", None, "fifo", LatencyModel("constant", 50.0))],
                       pinning=True).validate()
    stream = [Access(float(i), page, 10, op) for i, (page, op) in enumerate(accesses)]
    sim = Simulation(config, iter(stream), max_events=0)
    assert sim.step(len(stream)) == len(stream)
    return sim


def writes(pages: str) -> list[tuple[str, Op]]:
    return [(page, Op.WRITE) for page in pages]


def test_locate_and_usage_say_where_pages_are_and_how_full_a_tier_is():
    sim = driven([*writes("abcd"), ("b", Op.PIN)])
    assert sim.locate("b") == Placement(0, "L0", 10, True)
    assert sim.locate("a") == Placement(1, "L1", 10, False)  # evicted by d: LRU
    assert sim.locate("zzz") is None and sim.tier_of("zzz") is None
    assert sim.tier_of("b") == 0 and sim.tier_of("a") == 1
    assert set(sim.residents(0)) == {p for p in "abcd" if sim.tier_of(p) == 0}
    assert sim.residents(0)[0] == "b"  # pinned first
    assert "a" in sim.residents(1)
    assert sim.usage(0) == TierUsage("L0", 30, 30, 10, 3)
    assert sim.usage(1) == TierUsage("L1", 1000, 10, 0, 1)


def test_compact_evicts_with_the_policy_down_to_the_target_and_keeps_pins():
    sim = driven([*writes("abc"), ("a", Op.PIN)])
    assert sim.compact(30) == []  # already at or below the target
    assert sim.compact(0) == ["b", "c"]  # pins stay; the policy's order (LRU) decides
    assert sim.usage(0).used == 10 and sim.tier_of("b") == sim.tier_of("c") == 1
    assert sim.result().tiers[0].evictions == 2
    # any tier: L1 down to one page pushes its LRU page to L2
    assert sim.compact(10, tier=1) == ["b"] and sim.tier_of("b") == 2


def test_forget_drops_a_page_wherever_it_is_without_an_eviction():
    sim = driven([*writes("abcd"), ("d", Op.PIN)])
    evictions = sim.result().tiers[0].evictions
    assert sim.forget("a") and sim.forget("d")  # one in L1, one pinned in L0
    assert not sim.forget("a") and not sim.forget("never")
    assert sim.locate("a") is None and sim.locate("d") is None
    assert sim.usage(0) == TierUsage("L0", 30, 20, 0, 2)
    assert sim.result().tiers[0].evictions == evictions


class _Remembers(LRU):
    """A user-written policy that weighs what it is told about pages."""

    name = "remembers-meta"

    def __init__(self, capacity: int | None, **kwargs) -> None:
        super().__init__(capacity, **kwargs)
        self.meta: dict = {}

    def set_meta(self, key, **meta) -> None:
        self.meta[key] = meta


@pytest.fixture
def remembering_policy():
    register_policy(_Remembers)
    yield _Remembers.name
    POLICIES.pop(_Remembers.name)  # other tests list the registered policies


def test_annotate_reaches_every_policy_that_wants_page_facts(remembering_policy):
    sim = driven([], policy=remembering_policy)
    sim.annotate("a", kind="summary", importance=0.9)  # before the page arrives
    assert sim.tiers[0].policy.meta == {"a": {"kind": "summary", "importance": 0.9}}
    # the plain LRU tiers below have no set_meta and are left alone

