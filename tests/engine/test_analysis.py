"""Trace analysis (docs/analysis.md): every number against a small independent computation."""

from __future__ import annotations

import math
from collections import Counter
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.engine import analysis
from simulator.engine.access import Access, Op
from simulator.engine.analysis import analyse, log2_bucket_label, zipf_fit
from simulator.engine.errors import ConfigError
from simulator.engine.traces import open_trace
from simulator.engine.workloads import zipf


def bucket(value: int) -> int:
    return value.bit_length()


def histogram(values: list[int]) -> list[int]:
    counts = Counter(bucket(v) for v in values)
    return [counts.get(k, 0) for k in range(max(counts) + 1)] if counts else []


def brute(refs: list[tuple[float, object, int]]) -> dict:
    """Everything by definition, quadratic and obvious."""
    stack, reuse = [], []
    for i, (_, page, _) in enumerate(refs):
        previous = [j for j in range(i) if refs[j][1] == page]
        if previous:
            between = refs[previous[-1] + 1:i]
            stack.append(len({p for _, p, _ in between}))
            reuse.append(len(between))
    counts = Counter(page for _, page, _ in refs)
    latest = {page: tokens for _, page, tokens in refs}
    return {"stack": histogram(stack), "reuse": histogram(reuse), "counts": counts,
            "latest": latest, "cold": len(counts)}


refs_strategy = st.lists(
    st.tuples(st.floats(0, 50, allow_nan=False), st.integers(0, 25), st.integers(1, 40)),
    min_size=1, max_size=120)


@settings(max_examples=80, deadline=None)
@given(refs=refs_strategy, tau=st.integers(1, 30))
def test_every_number_against_its_definition(refs, tau):
    with patch.object(analysis, "_BATCH", 7):  # batch boundaries everywhere
        result = analyse((Access(t, p, n) for t, p, n in refs), taus=(tau, 1000), points=10,
                         heat_rows=4, rate_intervals=6)
    expected = brute(refs)
    counts = expected["counts"]
    assert result.references == len(refs) and result.control_ops == 0
    assert result.pages == len(counts)
    assert result.tokens == sum(expected["latest"].values())
    assert result.requested_tokens == sum(n for _, _, n in refs)
    assert result.one_hit_wonders == sum(1 for c in counts.values() if c == 1)
    assert result.stack_cold == expected["cold"]
    assert result.stack_histogram == expected["stack"]
    assert result.reuse_histogram == expected["reuse"]
    assert result.size_requests == histogram([n for _, _, n in refs])
    assert result.size_pages == histogram(list(expected["latest"].values()))
    # popularity: frequencies in descending order at the reported ranks
    frequencies = sorted(counts.values(), reverse=True)
    assert all(frequencies[r - 1] == f for r, f in result.rank_frequency)
    assert result.rank_frequency[0][0] == 1 and result.rank_frequency[-1][0] == len(counts)
    # working set and footprint at every reported point
    assert len(result.working_set) <= 10
    assert result.working_set[-1]["references"] == len(refs)  # the end is always shown
    for point in result.working_set:
        t = point["references"]
        assert point["footprint"] == len({p for _, p, _ in refs[:t]})
        assert point["w"][str(tau)] == len({p for _, p, _ in refs[max(0, t - tau):t]})
        assert point["w"]["1000"] == point["footprint"]
    # request rate: each interval holds the references whose time falls in it
    intervals = result.request_rate
    assert len(intervals) <= 6 and sum(i["requests"] for i in intervals) == len(refs)
    for interval in intervals:
        inside = sum(1 for t, _, _ in refs if interval["start"] <= t < interval["end"])
        assert interval["requests"] == inside
        assert interval["rate"] == pytest.approx(inside / (interval["end"] - interval["start"]))
    # heatmap: references per (row of time, rank bucket), ranks ties broken by first reference
    first_seen = {}
    for _, page, _ in refs:
        first_seen.setdefault(page, len(first_seen))
    ranked = sorted(counts, key=lambda p: (-counts[p], first_seen[p]))
    rank = {page: r + 1 for r, page in enumerate(ranked)}
    heat = result.heatmap
    span = heat["row_references"]
    assert len(heat["grid"]) <= 4
    for k, row in enumerate(heat["grid"]):
        cells = Counter(bucket(rank[p]) - 1 for _, p, _ in refs[k * span:(k + 1) * span])
        assert row == [cells.get(c, 0) for c in range(len(heat["columns"]))]
    assert sum(map(sum, heat["grid"])) == len(refs)


def test_a_short_trace_gets_its_series_and_heatmap_rows():
    """Fewer references than a batch: the working set over time has its points (the last at
    the end) and the heatmap several rows."""
    result = analyse(zipf(500, 1.0, 3_000, seed=3))
    points = result.working_set
    assert len(points) > 100 and points[-1]["references"] == 3_000
    assert points[-1]["footprint"] == result.pages
    assert 16 <= len(result.heatmap["grid"]) <= 32


def test_control_operations_are_counted_and_left_out():
    accesses = [Access(0, 1), Access(1, 2, op=Op.WRITE), Access(2, 1, op=Op.PIN),
                Access(3, 1), Access(4, 1, op=Op.UNPIN)]
    result = analyse(accesses)
    assert (result.references, result.control_ops, result.pages) == (3, 2, 2)
    assert result.stack_histogram == [0, 1]  # 1 2 1: one distinct page between


def test_unit_pages_count_one_token_each():
    result = analyse([Access(0, 1, 50), Access(1, 2, 7)], unit_pages=True)
    assert result.tokens == 2 and result.size_requests == [0, 2]
    # a size is at least 1 token: the exported buckets start at "1"
    assert result.to_dict()["sizes"]["requests"] == [{"bucket": "1", "count": 2}]


def test_zipf_fit_against_polyfit():
    """alpha is minus the least-squares slope in log-log at log-spaced ranks up to the last
    rank seen twice; here recomputed with the ranks chosen independently."""
    frequencies = np.array([1000, 400, 300, 120, 100, 60, 50, 20, 9, 4, 2, 2, 1, 1, 1])
    fit = zipf_fit(frequencies)
    last = 12  # frequencies >= 2
    ranks = sorted({round(x) for x in np.geomspace(1, last, math.ceil(math.log10(last) * 20)
                                                   + 1)})
    slope = np.polyfit(np.log10(ranks), np.log10(frequencies[np.array(ranks) - 1]), 1)[0]
    assert fit["alpha"] == pytest.approx(-slope)
    correlation = np.corrcoef(np.log10(ranks), np.log10(frequencies[np.array(ranks) - 1]))
    assert fit["r2"] == pytest.approx(correlation[0, 1] ** 2)
    assert fit["fit_ranks"] == [1, 12]
    assert zipf_fit(np.array([5, 1, 1]))["alpha"] is None


def test_zipf_fit_finds_the_generators_alpha():
    for alpha in (0.7, 1.0):
        result = analyse(zipf(20_000, alpha, 300_000, seed=4, shuffle=True))
        assert result.zipf["alpha"] == pytest.approx(alpha, abs=0.1)


def test_real_trace_headline_numbers(cloudphysics_path):
    """The numbers shared/traces/README.md states for the cloudPhysics sample."""
    result = analyse(open_trace(cloudphysics_path), taus=(1000,))
    assert result.references == 113_872 and result.pages == 48_974
    assert result.one_hit_wonders == 21_049
    assert result.stack_cold == 48_974
    assert sum(result.stack_histogram) == 113_872 - 48_974
    assert sum(result.reuse_histogram) == sum(result.stack_histogram)
    span = result.request_rate[-1]["end"] - result.request_rate[0]["start"]
    assert 7200 <= span <= 7200 * 1.1


def test_bucket_labels():
    assert [log2_bucket_label(k) for k in range(5)] == ["0", "1", "2-3", "4-7", "8-15"]


@pytest.mark.parametrize("kwargs", [{"taus": ()}, {"taus": (0,)}, {"points": 0},
                                    {"heat_rows": -1}])
def test_bad_parameters(kwargs):
    with pytest.raises(ConfigError):
        analyse([Access(0, 1)], **kwargs)


def test_json_ready():
    import json

    data = json.loads(json.dumps(analyse([Access(0, 1), Access(1, 1)]).to_dict()))
    assert data["references"] == 2 and data["one_hit_wonder_ratio"] == 0.0
    assert data["stack_distance"]["histogram"] == [{"bucket": "0", "count": 1}]
