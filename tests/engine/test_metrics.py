"""Metric arithmetic on hand-worked vectors."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.engine.metrics import ThrashMeter, nearest_rank, ratio, summarize_latency


def test_nearest_rank_on_a_textbook_vector():
    values = sorted([15, 20, 35, 40, 50])
    assert nearest_rank(values, 0, 0.05) == 15
    assert nearest_rank(values, 0, 0.30) == 20
    assert nearest_rank(values, 0, 0.40) == 20
    assert nearest_rank(values, 0, 0.50) == 35
    assert nearest_rank(values, 0, 1.00) == 50


def test_zero_latencies_count_without_being_stored():
    # 95 hits (0 ms) and 5 faults: p95 is still a hit, p96 the first fault
    faults = [10.0, 20.0, 30.0, 40.0, 50.0]
    assert nearest_rank(faults, 95, 0.95) == 0.0
    assert nearest_rank(faults, 95, 0.96) == 10.0
    summary = summarize_latency(faults, 100)
    assert summary.mean == pytest.approx(1.5)
    assert summary.p99 == 40.0 and summary.max == 50.0


@given(st.lists(st.floats(0.001, 1e6), min_size=1, max_size=200), st.integers(0, 300),
       st.sampled_from([0.5, 0.95, 0.99]))
def test_nearest_rank_matches_sorting_everything(nonzero, zeros, q):
    everything = sorted([0.0] * zeros + nonzero)
    expected = everything[max(1, math.ceil(q * len(everything))) - 1]
    assert nearest_rank(sorted(nonzero), zeros, q) == expected


def test_ratio_of_nothing_is_zero():
    assert ratio(0, 0) == 0.0
    assert ratio(1, 4) == 0.25


def test_thrash_meter_window_and_distance():
    meter = ThrashMeter(window=4)
    meter.evicted("a")
    meter.evicted("b")
    assert meter.is_refault("a", index=2, resident_pages=1)  # distance 1 <= 1
    meter.evicted("c")
    meter.evicted("d")
    meter.evicted("e")
    assert not meter.is_refault("b", index=3, resident_pages=2)  # distance 3 > 2
    assert not meter.is_refault("zzz", index=4, resident_pages=2)  # never evicted
    assert meter.refaults == 1
    assert meter.index_at(4) == 0.25  # one refault among accesses 0..3
    assert meter.index_at(7) == 0.0  # index 2 has left the window [3, 6]
    assert meter.mean_distance == 2.0
