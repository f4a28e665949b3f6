"""Exact curves against libCacheSim (PyPI ``libcachesim``), miss for miss: the one-pass LRU
curve against its LRU at every size, OPT's curve against its Belady."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("libcachesim")

from simulator.engine.mrc import footprint, log_sizes, lru_curve, miss_ratio_curves
from simulator.engine.sources import SequenceSource, TraceSource

from .policies.oracle import oracle_misses

pytestmark = pytest.mark.oracle


@settings(max_examples=40, deadline=None)
@given(pages=st.lists(st.integers(0, 40), min_size=1, max_size=300),
       sizes=st.lists(st.integers(1, 50), min_size=1, max_size=5))
def test_lru_curve_equals_libcachesim(pages, sizes):
    curve = lru_curve(SequenceSource(pages), sizes)
    assert [p.misses for p in curve.points] == [
        oracle_misses("lru", p.size, pages) for p in curve.points]


def test_real_trace_lru_curve_equals_libcachesim(cloudphysics_path):
    accesses = list(TraceSource(cloudphysics_path).open())
    ids = [a.page_id for a in accesses]
    sizes_of = {a.page_id: a.tokens for a in accesses}  # one size per object in this trace
    source = TraceSource(cloudphysics_path, unit_pages=True)
    sizes = log_sizes(footprint(source).pages, 8, 0.001)
    curve = lru_curve(source, sizes)
    assert [p.misses for p in curve.points] == [oracle_misses("lru", s, ids) for s in sizes]
    in_bytes = lru_curve(TraceSource(cloudphysics_path), [69_632, 1 << 26], unit_pages=False)
    assert [p.misses for p in in_bytes.points] == [
        oracle_misses("lru", s, ids, sizes_of) for s in (69_632, 1 << 26)]


def test_opt_curve_equals_libcachesim_belady():
    pages = [(k * 7919) % 97 % (13 + k % 11) for k in range(3000)]
    result = miss_ratio_curves(SequenceSource(pages), ["opt"], [2, 5, 10, 20])
    assert [p.misses for p in result.curves["opt"].points] == [
        oracle_misses("opt", size, pages) for size in (2, 5, 10, 20)]
