"""A simulation's memory does not grow with the length of a window (issue 8.1): the latencies
of a window and of the run are histograms (docs/metrics.md), the thrash meter forgets refaults
that left its window at every refault, not when a window closes. Nor with the number of
distinct pages of a trace: a page that left every tier is forgotten, and eviction stamps are
kept within the refault horizon only."""

from __future__ import annotations

import math
import random
import tracemalloc

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.engine.access import Access, PageReads
from simulator.engine.config import LatencyModel, SimConfig, TierConfig
from simulator.engine.metrics import LatencyHistogram, ThrashMeter, summarize_latency
from simulator.engine.policies import policy_names
from simulator.engine.simulation import Simulation
from simulator.engine.workloads import zipf


def _traced_growth(sim: Simulation, warm: int, total: int) -> int:
    """Bytes still allocated after ``total`` accesses beyond those after ``warm``."""
    tracemalloc.start()
    try:
        sim.run_until(accesses=warm)
        before, _ = tracemalloc.get_traced_memory()
        sim.run_until(accesses=total)
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return after - before


def test_one_long_window_holds_no_memory_per_access():
    config = SimConfig(tiers=[
        TierConfig("L0", 50, "lru"),
        TierConfig("L1", None, "lru", LatencyModel("lognormal", ms=5, sigma=0.5)),
    ], unit_pages=True, thrash_window=1_000_000, window_accesses=1_000_000).validate()
    sim = Simulation(config, zipf(200, 0.8, n=None, seed=1))
    growth = _traced_growth(sim, 20_000, 220_000)
    assert sim.faults > 100_000 and sim.thrash.refaults > 20_000
    # before: ~50 bytes per access (two latencies per fault, a position per refault): ~8 MB
    assert growth < 1_500_000, growth  # the histograms fill up to their bound


@pytest.mark.parametrize("policy", [p for p in policy_names() if p not in ("opt", "worst")])
def test_a_trace_of_distinct_pages_holds_no_memory_per_page(policy):
    """A scan: every page is evicted once and never comes back, whichever path the policy
    takes (the classic loop or the general one). Before, the eviction stamps (every policy)
    and the page sizes (policies on the general path) kept every page: ~100 bytes each."""
    # cache-aware scores every resident page at each eviction (docs/policies.md): a smaller
    # L0 and a shorter scan
    capacity, total = (20, 12_000) if policy == "cacheaware" else (100, 60_000)
    sim = Simulation(SimConfig.classic(policy, capacity), PageReads(range(total)))
    growth = _traced_growth(sim, total // 6, total)
    assert growth < 200_000, growth  # before: ~100 bytes a page (~5 MB at 60,000)
    assert len(sim.sizes) <= capacity
    assert len(sim.thrash.recent) + len(sim.thrash.older) <= 2 * (capacity + 1)


def test_pages_dropped_off_a_bounded_hierarchy_are_forgotten():
    config = SimConfig(tiers=[
        TierConfig("L0", 50, "lru"),
        TierConfig("L1", 200, "arc", LatencyModel("constant", 1.0)),
    ]).validate()
    stream = (Access(float(i), i, 1 + i % 3) for i in range(40_000))
    sim = Simulation(config, stream)
    growth = _traced_growth(sim, 5_000, 40_000)
    assert growth < 200_000, growth
    assert len(sim.sizes) == len(sim.location) <= 250
    assert len(sim.thrash.recent) + len(sim.thrash.older) <= 2 * 51


def test_the_thrash_meter_keeps_only_its_window():
    meter = ThrashMeter(window=10)
    for i in range(1000):
        meter.evicted(i)
        assert meter.is_refault(i, index=i, resident_pages=1)
    assert len(meter.positions) <= 10
    assert meter.index_at(1000) == 1.0


@given(st.lists(st.floats(0.001, 1e6), min_size=1, max_size=300), st.integers(0, 300))
def test_an_exact_histogram_summarizes_like_sorting(values, zeros):
    histogram = LatencyHistogram()
    for value in values:
        histogram.add(value)
    got = histogram.summary(len(values) + zeros)
    want = summarize_latency(values, len(values) + zeros)
    assert (got.p50, got.p95, got.p99, got.max) == (want.p50, want.p95, want.p99, want.max)
    assert math.isclose(got.mean, want.mean, rel_tol=1e-12)


def test_a_full_histogram_rounds_within_its_stated_error():
    rng = random.Random(7)
    values = [rng.lognormvariate(1.0, 1.0) for _ in range(50_000)]
    histogram = LatencyHistogram(max_distinct=1024)
    for value in values:
        histogram.add(value)
    assert len(histogram.counts) <= 1024 and histogram.bits is not None
    got = histogram.summary(len(values))
    want = summarize_latency(values, len(values))
    bound = 2.0 ** -(histogram.bits + 1) * 2  # the error of rounding, at most twice over
    for q in ("p50", "p95", "p99", "max"):
        assert math.isclose(getattr(got, q), getattr(want, q), rel_tol=bound), q
    assert math.isclose(got.mean, want.mean, rel_tol=bound)
