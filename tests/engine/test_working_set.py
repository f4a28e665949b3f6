"""The working-set policy `ws` is Denning's W(t, tau), checked against a reference written here.

The reference follows the definition and nothing else (docs/policies.md, "Working set"): after
access t the working set is the set of pages referenced at accesses t - tau + 1 … t, and the
reference at t faults exactly when its page is not in W(t - 1, tau).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.engine.access import Access, Op
from simulator.engine.config import LatencyModel, SimConfig, TierConfig
from simulator.engine.observers import Recorder
from simulator.engine.simulation import Simulation


def working_set(refs: list, t: int, tau: int) -> set:
    """W(t, tau): the pages referenced in the tau accesses that end with access t."""
    return set(refs[max(0, t - tau + 1): t + 1])


def denning_faults(refs: list, tau: int) -> int:
    return sum(1 for t, page in enumerate(refs) if page not in working_set(refs, t - 1, tau))


def reads(ids: list) -> list[Access]:
    return [Access(float(i), p, 1, Op.READ) for i, p in enumerate(ids)]


def one_tier(tau: int, capacity: int = 10_000, window: int = 1000) -> SimConfig:
    return SimConfig(tiers=[TierConfig("L0", capacity, "ws", policy_params={"tau": tau})],
                     unit_pages=True, window_accesses=window).validate()


def test_a_page_that_left_the_window_faults_again():
    # issue 7.3: 1 left W after access 2 (tau = 2), so its reference at 4 is a fault
    refs = [1, 2, 2, 2, 1]
    assert denning_faults(refs, 2) == 3
    assert Simulation(one_tier(tau=2, capacity=10), reads(refs)).run().faults == 3


def test_the_window_convention_at_its_edge():
    # tau = 3: a page referenced at t is still in W(t + 2, 3), so t + 3 hits; gone after that
    assert Simulation(one_tier(tau=3), reads(["a", "x", "y", "a"])).run().faults == 3
    assert Simulation(one_tier(tau=3), reads(["a", "x", "y", "z", "a"])).run().faults == 5


def test_released_pages_leave_at_the_access_their_window_closes():
    recorder = Recorder(events=True)
    sim = Simulation(one_tier(tau=2), reads([1, 2, 2, 2, 1]), observers=[recorder],
                     max_events=100)
    sim.run()
    evictions = [(e.index, e.page_id) for e in recorder.events if e.kind == "evict"]
    # 1 referenced at 0 is in W(1, 2) and leaves with access 2; 2 (last at 3) is still in W(4, 2)
    assert evictions == [(2, 1)]
    assert set(sim.location) == {1, 2}


@settings(max_examples=150, deadline=None)
@given(refs=st.lists(st.integers(0, 12), min_size=1, max_size=200),
       tau=st.integers(1, 30), window=st.integers(1, 40))
def test_faults_and_resident_set_are_denning_s(refs, tau, window):
    recorder = Recorder()
    sim = Simulation(one_tier(tau, window=window), reads(refs), observers=[recorder])
    result = sim.run()
    assert result.faults == denning_faults(refs, tau)
    # at every window's end, L0 holds exactly W(end - 1, tau)
    for snap in recorder.windows:
        assert snap.tiers[0].pages == len(working_set(refs, snap.end - 1, tau)), snap.end
    assert set(sim.location) == working_set(refs, len(refs) - 1, tau)


@settings(max_examples=60, deadline=None)
@given(refs=st.lists(st.integers(0, 12), min_size=1, max_size=150),
       tau=st.integers(1, 20), capacity=st.integers(1, 13))
def test_a_full_tier_evicts_lru_inside_the_window(refs, tau, capacity):
    # Capacity bounds the working set: the tier holds the `capacity` most recently used
    # pages of W(t, tau), so its faults are those of LRU over the window's pages.
    def reference_faults() -> int:
        resident: list = []  # least recently used first
        faults = 0
        for t, page in enumerate(refs):
            if page in resident:
                resident.remove(page)
            else:
                faults += 1
            resident.append(page)
            window = working_set(refs, t, tau)
            resident = [p for p in resident if p in window][-capacity:]
        return faults

    result = Simulation(one_tier(tau, capacity=capacity), reads(refs)).run()
    assert result.faults == reference_faults()


def test_a_lower_working_set_tier_releases_on_time_too():
    # L1 is a working set over demotion time: a page demoted at t leaves L1 with access t + tau
    config = SimConfig(tiers=[
        TierConfig("L0", 1, "lru"),
        TierConfig("L1", 100, "ws", LatencyModel("constant", 1.0), policy_params={"tau": 2}),
        TierConfig("L2", None, "lru", LatencyModel("constant", 5.0)),
    ], unit_pages=True).validate()
    sim = Simulation(config, reads(["a", "b", "c", "d", "d"]))
    sim.run()
    # a is demoted to L1 at access 1 and leaves it with access 3, b at 2 and leaves with 4
    assert sim.location == {"a": 2, "b": 2, "c": 1, "d": 0}


def test_concurrent_sessions_follow_the_same_window():
    refs = [1, 2, 2, 2, 1]
    accesses = [Access(float(i), p, 1, Op.READ, "s") for i, p in enumerate(refs)]
    sim = Simulation(one_tier(tau=2, capacity=10), accesses, concurrent=True)
    assert sim.run().faults == 3
