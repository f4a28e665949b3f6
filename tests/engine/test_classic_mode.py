"""Classic mode through the whole engine (Simulation, tiers, sources) gives libCacheSim's miss
counts exactly: on the real trace (recorded counts, and live when the oracle is installed) and
on random traces from Hypothesis."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.engine.access import Access
from simulator.engine.compare import simulate
from simulator.engine.config import SimConfig
from simulator.engine.simulation import Simulation
from simulator.engine.sources import TraceSource
from simulator.engine.traces import next_use_indices

from .policies.test_real_trace import CAPACITIES, CLASSIC

POLICIES = sorted(CLASSIC)


@pytest.mark.parametrize("policy", POLICIES)
def test_real_trace_through_the_engine(policy, cloudphysics_path):
    source = TraceSource(cloudphysics_path, unit_pages=True)
    for capacity, expected in zip(CAPACITIES, CLASSIC[policy], strict=True):
        result = simulate(SimConfig.classic(policy, capacity), source)
        assert result.requests == 113_872
        assert result.faults == expected, f"{policy} @ {capacity}"


@pytest.mark.oracle
@pytest.mark.parametrize("policy", POLICIES)
def test_real_trace_against_live_libcachesim(policy, cloudphysics_path):
    pytest.importorskip("libcachesim")
    from .policies.oracle import oracle_misses

    source = TraceSource(cloudphysics_path, unit_pages=True)
    ids = [acc.page_id for acc in source.open()]
    capacity = 2000
    ours = simulate(SimConfig.classic(policy, capacity), source).faults
    assert ours == oracle_misses(policy, capacity, ids)


@pytest.mark.oracle
@settings(max_examples=40, deadline=None)
@given(
    ids=st.lists(st.integers(0, 30), min_size=1, max_size=400),
    capacity=st.integers(1, 25),
    policy=st.sampled_from(POLICIES),
)
def test_random_traces_against_libcachesim(ids, capacity, policy):
    pytest.importorskip("libcachesim")
    from .policies.oracle import oracle_misses, oracle_supports

    if not oracle_supports(policy, capacity):
        return
    accesses = [Access(float(i), p) for i, p in enumerate(ids)]
    future = next_use_indices(ids) if policy == "opt" else None
    ours = Simulation(SimConfig.classic(policy, capacity), accesses, future=future).run()
    assert ours.faults == oracle_misses(policy, capacity, ids)
