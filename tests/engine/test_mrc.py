"""Miss-ratio curves (docs/mrc.md): exact curves equal the engine's simulation miss for miss,
cells are data, and sampled curves say what they are."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.engine.access import Access
from simulator.engine.config import SimConfig, TierConfig
from simulator.engine.errors import ConfigError
from simulator.engine.mrc import (
    HASH_SPACE,
    Cell,
    footprint,
    log_sizes,
    lru_curve,
    miss_ratio_curves,
    open_source,
    page_keys,
    point_rate,
    run_cell,
    source_spec,
)
from simulator.engine.simulation import Simulation
from simulator.engine.sources import SequenceSource, TraceSource, WorkloadSource
from simulator.engine.workloads import Workload

REPO = Path(__file__).resolve().parents[2]


def engine_misses(policy: str, capacity: int, refs: list[tuple[object, int]],
                  unit_pages: bool = True) -> int:
    """The engine, one tier, straight from its public classes (not through a cell)."""
    config = SimConfig(tiers=[TierConfig("L0", capacity, policy)], unit_pages=unit_pages)
    accesses = [Access(float(i), page, tokens) for i, (page, tokens) in enumerate(refs)]
    return Simulation(config, iter(accesses)).run().misses


class ListSource(SequenceSource):
    """Pages with their own sizes (SequenceSource has one size for all)."""

    def __init__(self, refs: list[tuple[object, int]]) -> None:
        super().__init__([page for page, _ in refs])
        self.refs = refs

    def open(self):
        return (Access(float(i), page, tokens) for i, (page, tokens) in enumerate(self.refs))


# --- exact LRU in one pass ---------------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(pages=st.lists(st.integers(0, 30), min_size=1, max_size=200),
       sizes=st.lists(st.integers(1, 40), min_size=1, max_size=6))
def test_stack_curve_equals_simulation_at_every_size(pages, sizes):
    refs = [(p, 1) for p in pages]
    curve = lru_curve(SequenceSource(pages), sizes)
    for point in curve.points:
        assert point.method == "stack" and point.exact
        assert point.misses == engine_misses("lru", point.size, refs)
        assert point.requests == len(pages)


@settings(max_examples=60, deadline=None)
@given(pages=st.lists(st.integers(0, 15), min_size=1, max_size=150),
       weights=st.dictionaries(st.integers(0, 15), st.integers(1, 12)),
       sizes=st.lists(st.integers(1, 80), min_size=1, max_size=6))
def test_token_curve_equals_simulation_at_every_size(pages, weights, sizes):
    """Pages keep one size; sizes below the largest page are simulated (and say so)."""
    refs = [(p, weights.get(p, 3)) for p in pages]
    curve = lru_curve(ListSource(refs), sizes, unit_pages=False)
    largest = max(tokens for _, tokens in refs)
    for point in curve.points:
        assert point.method == ("stack" if point.size >= largest else "simulation")
        assert point.misses == engine_misses("lru", point.size, refs, unit_pages=False)


def test_sizes_below_the_largest_page_are_simulated_without_a_time_limit():
    """A long trace (past the first check of the clock) with no time limit: the simulated
    points run to their end (they once inherited the pass's elapsed time as their limit)."""
    rng = random.Random(1)
    tokens = {page: rng.choice([1, 5, 40]) for page in range(500)}
    refs = [(page, tokens[page]) for page in (rng.randrange(500) for _ in range(20_000))]
    curve = lru_curve(ListSource(refs), [10, 1000], unit_pages=False)
    assert [p.method for p in curve.points] == ["simulation", "stack"]
    assert [p.misses for p in curve.points] == [
        engine_misses("lru", size, refs, unit_pages=False) for size in (10, 1000)]


def test_pages_that_change_size_are_simulated():
    refs = [("a", 2), ("b", 2), ("a", 5), ("c", 1), ("a", 5), ("b", 2)]
    curve = lru_curve(ListSource(refs), [5, 6, 9], unit_pages=False)
    assert {p.method for p in curve.points} == {"simulation"}
    assert [p.misses for p in curve.points] == [
        engine_misses("lru", size, refs, unit_pages=False) for size in (5, 6, 9)]


def test_real_trace_stack_curve_equals_simulation(cloudphysics_path):
    source = TraceSource(cloudphysics_path, unit_pages=True)
    refs = [(a.page_id, 1) for a in source.open()]
    sizes = log_sizes(footprint(source).pages, 6, 0.001)
    curve = lru_curve(source, sizes)
    assert [p.misses for p in curve.points] == [engine_misses("lru", s, refs) for s in sizes]
    assert curve.points[0].requests == 113_872


def test_real_trace_in_bytes(cloudphysics_path):
    """Sizes in bytes from 69,632 (the largest object) up: the stack rule holds."""
    source = TraceSource(cloudphysics_path)
    refs = [(a.page_id, a.tokens) for a in source.open()]
    sizes = [69_632, 1 << 24, 1 << 28]
    curve = lru_curve(source, sizes, unit_pages=False)
    assert {p.method for p in curve.points} == {"stack"}
    assert [p.misses for p in curve.points] == [
        engine_misses("lru", s, refs, unit_pages=False) for s in sizes]


def test_reference_string_counts_reads_and_writes_and_drops_pins(tmp_path):
    trace = tmp_path / "ops.csv"
    trace.write_text("page_id,op\n1,read\n2,write\n1,pin\n3,read\n1,unpin\n2,read\n1,read\n")
    result = miss_ratio_curves(TraceSource(trace), ["lru", "fifo"], [2])
    # references 1 2 3 2 1: LRU of 2 pages misses 1, 2, 3, 1 (2 is a hit)
    assert result.requests == 5
    assert result.curves["lru"].points[0].misses == 4
    assert result.curves["fifo"].points[0].misses == engine_misses(
        "fifo", 2, [(1, 1), (2, 1), (3, 1), (2, 1), (1, 1)])


# --- exact, any policy, and OPT ---------------------------------------------------------


def test_exact_curves_of_the_textbook_string():
    source = SequenceSource([1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5])
    result = miss_ratio_curves(source, ["lru", "FIFO", "opt"], [3, 4])
    misses = {name: [p.misses for p in curve.points] for name, curve in result.curves.items()}
    assert misses == {"lru": [10, 8], "fifo": [9, 10], "opt": [7, 6]}  # Belady's anomaly
    assert result.to_dict()["exact"] is True


def test_opt_is_the_lower_bound():
    source = WorkloadSource(Workload("zipf", {"n_pages": 300, "alpha": 0.8, "n": 4000,
                                              "seed": 5}))
    policies = ["lru", "fifo", "clock", "arc", "2q", "sieve", "s3fifo", "lfu", "opt"]
    result = miss_ratio_curves(source, policies, [20, 50, 120])
    for k in range(3):
        opt = result.curves["opt"].points[k].misses
        assert all(result.curves[p].points[k].misses >= opt for p in policies)


def test_json_shape():
    result = miss_ratio_curves(SequenceSource([1, 2, 1, 3]), ["lru"], [1, 2])
    data = json.loads(json.dumps(result.to_dict()))
    assert data["requests"] == 4
    assert data["curves"]["lru"][1] == {"size": 2, "misses": 3, "miss_ratio": 0.75,
                                        "exact": True, "method": "stack", "rate": 1.0,
                                        "error": 0.0}


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"policies": []}, "policies"),
    ({"policies": ["lru", "LRU"]}, "policies"),
    ({"policies": ["nope"]}, "policy"),
    ({"sizes": []}, "sizes"),
    ({"sizes": [0]}, "sizes"),
    ({"sizes": [2.5]}, "sizes"),
    ({"rate": 0}, "rate"),
    ({"rate": 1.5}, "rate"),
    ({"rate": 0.1, "min_pages": -1}, "min_pages"),
    ({"rate": 0.1, "max_error": 0}, "max_error"),
    ({"processes": 0}, "processes"),
    ({"processes": True}, "processes"),
    ({"processes": "2"}, "processes"),
])
def test_bad_arguments_name_the_field(kwargs, field):
    arguments = {"policies": ["lru"], "sizes": [1]} | kwargs
    with pytest.raises(ConfigError) as info:
        miss_ratio_curves(SequenceSource([1, 2]), arguments.pop("policies"),
                          arguments.pop("sizes"), **arguments)
    assert info.value.field == field


# --- sizes -------------------------------------------------------------------------------


def test_log_sizes():
    assert log_sizes(100_000, 4, 0.001) == [100, 1000, 10_000, 100_000]
    assert log_sizes(10, 20, 0.1) == list(range(1, 11))  # rounding merges, never below 1
    assert log_sizes(7, 1) == [7]
    sizes = log_sizes(48_974, 20)
    assert len(sizes) == 20 and sizes[0] == 49 and sizes[-1] == 48_974


@pytest.mark.parametrize(("args", "field"), [
    ((0, 5), "footprint"), ((10, 0), "count"), ((10, 5, 0), "low"), ((10, 5, 2), "low")])
def test_log_sizes_rejects(args, field):
    with pytest.raises(ConfigError) as info:
        log_sizes(*args)
    assert info.value.field == field


def test_footprint_in_pages_and_tokens():
    refs = [("a", 2), ("b", 3), ("a", 4)]
    fp = footprint(ListSource(refs), unit_pages=False)
    assert (fp.references, fp.pages, fp.tokens) == (3, 2, 7)  # a at its latest size
    assert footprint(ListSource(refs)).tokens == 2


# --- cells -------------------------------------------------------------------------------


def zipf_source(n: int = 5000, pages: int = 400) -> WorkloadSource:
    return WorkloadSource(Workload("zipf", {"n_pages": pages, "alpha": 0.9, "n": n,
                                            "seed": 3}))


def test_cell_round_trips_and_is_named_by_its_content():
    cell = Cell(source_spec(zipf_source()), "s3-fifo", 50, params={"small_ratio": 0.2})
    again = Cell.from_dict(json.loads(json.dumps(cell.to_dict())))
    assert again.policy == "s3fifo"  # validation gives the registry name
    assert again == cell.validate() and again.key == cell.validate().key
    assert Cell(cell.source, "s3fifo", 51).key != again.key


@pytest.mark.parametrize(("data", "field"), [
    ({"policy": "lru", "size": 5}, "source"),
    ({"source": {"kind": "sequence", "pages": [1]}, "size": 5}, "policy"),
    ({"source": {"kind": "sequence", "pages": [1]}, "policy": "lru", "size": 0}, "size"),
    ({"source": {"kind": "sequence", "pages": [1]}, "policy": "lru", "size": 1,
      "rate": 2}, "rate"),
    ({"source": {"kind": "nope"}, "policy": "lru", "size": 1}, "source.kind"),
    ({"source": {"kind": "trace"}, "policy": "lru", "size": 1}, "source.path"),
    ({"source": {"kind": "sequence", "pages": [1]}, "policy": "lru", "size": 1,
      "colour": 1}, "cell"),
])
def test_bad_cells_name_the_field(data, field):
    with pytest.raises(ConfigError) as info:
        Cell.from_dict(data)
    assert info.value.field == field


def test_cells_run_the_same_in_another_process(tmp_path):
    trace = tmp_path / "t.txt"
    trace.write_text("\n".join(str(k % 37 * (k % 5)) for k in range(3000)) + "\n")
    source = TraceSource(trace, unit_pages=True)
    cells = [Cell(source_spec(source), policy, 12, rate=rate)
             for policy in ("lru", "arc", "opt") for rate in (None, 0.5)]
    here = [run_cell(cell).to_dict() for cell in cells]
    with ProcessPoolExecutor(1) as pool:
        there = [r.to_dict() for r in pool.map(run_cell, cells)]
    assert here == there
    assert [r["exact"] for r in here] == [True, False] * 3


def test_exact_curves_on_processes_are_the_curves_in_process(tmp_path):
    """Two spawned processes compute the same points (the LRU pass one task, every other
    point a cell), and each reaches ``on_point`` here as it arrives."""
    trace = tmp_path / "t.txt"
    trace.write_text("\n".join(str(k % 41 * (k % 7)) for k in range(4000)) + "\n")
    source = TraceSource(trace, unit_pages=True)
    policies, sizes = ["lru", "fifo", "arc", "opt"], [3, 12, 50]
    here = miss_ratio_curves(source, policies, sizes)
    arrived = []
    there = miss_ratio_curves(source, policies, sizes, processes=2, on_point=arrived.append)
    for name in policies:
        assert [p.to_dict() for p in there.curves[name].points] == [
            p.to_dict() for p in here.curves[name].points]
    assert sorted((p.policy, p.size) for p in arrived) == sorted(
        (name, size) for name in policies for size in sizes)
    assert there.curves["lru"].points[0].method == "stack"


def test_an_error_in_another_process_is_the_same_error(tmp_path):
    source = TraceSource(tmp_path / "gone.txt", unit_pages=True)
    for processes in (1, 2):
        with pytest.raises(ConfigError) as info:
            miss_ratio_curves(source, ["fifo", "lru"], [2, 3], processes=processes)
        assert info.value.field == "trace" and "no such trace file" in info.value.message


def test_source_specs_round_trip(tmp_path):
    workload = zipf_source()
    for source in (workload, SequenceSource([1, "x"], 3), TraceSource(tmp_path / "t.csv")):
        assert source_spec(open_source(source_spec(source))) == source_spec(source)


# --- sampling ----------------------------------------------------------------------------


def test_page_keys_are_fixed():
    """The same keys in every process and on every machine; another salt, other keys."""
    pages = [0, 1, 42, "a", "doc#3", 0, 42, 0]
    values = page_keys(SequenceSource(pages))
    assert all(0 <= v < HASH_SPACE for v in values.values())
    assert page_keys(SequenceSource(pages), salt=1) != values
    code = ("from simulator.engine.mrc import page_keys; "
            "from simulator.engine.sources import SequenceSource; "
            f"print(list(page_keys(SequenceSource({pages!r})).values()))")
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, cwd=REPO, check=True).stdout
    assert json.loads(out) == list(values.values())


@settings(max_examples=30, deadline=None)
@given(rate=st.floats(0.002, 0.5), salt=st.integers(-(2**63), 2**63 - 1),
       ties=st.booleans())
def test_sampled_pages_follow_the_popularity_ranks(rate, salt, ties):
    """Ranked by popularity, the sampled pages come about once every 1/R ranks: between two
    of them at most 3/R ranks (a Weyl sequence of the golden ratio leaves gaps of at most
    three lengths, the longest below 2.62/R), and R · n of n pages in all, within 2 + 2.62."""
    n = 20_000
    # with ties every page is referenced once, and the ranks are the order of first
    # reference; without, page p is referenced 1 + p // 1000 times
    pages = list(range(n)) if ties else [p for p in range(n) for _ in range(1 + p // 1000)]
    keys = page_keys(SequenceSource(pages), salt)
    threshold = round(rate * HASH_SPACE)
    ranks = sorted(range(n), key=lambda p: -(1 + p // 1000)) if not ties else list(range(n))
    chosen = [r for r, page in enumerate(ranks) if keys[page] < threshold]
    gaps = [b - a for a, b in pairwise(chosen)]
    assert max(gaps) <= 3 / rate + 1
    assert abs(len(chosen) - rate * n) <= 5


def test_rate_floor_and_corners():
    assert point_rate(100_000, 0.01, 200) == 0.01
    assert point_rate(1000, 0.01, 200) == 0.2
    assert point_rate(50, 0.01, 200) == 1.0
    # tokens: the floor counts pages of the mean size
    assert point_rate(40_000, 0.01, 200, page_tokens=100) == 0.5


def test_sampled_points_say_so():
    source = zipf_source(20_000, 3000)
    result = miss_ratio_curves(source, ["lru", "fifo"], [300, 2000], rate=0.05,
                               min_pages=10, max_error=None)
    for curve in result.curves.values():
        for point in curve.points:
            assert point.exact is False and point.rate == pytest.approx(0.05, abs=1e-6)
            assert point.method == ("shards" if curve.policy == "lru" else "miniature")
            assert point.error is not None and point.error > 0
    data = result.to_dict()
    assert data["exact"] is False and data["rate"] == 0.05


def test_a_point_whose_rate_reaches_one_half_is_exact():
    source = zipf_source()
    result = miss_ratio_curves(source, ["fifo"], [100], rate=0.01, min_pages=60)
    point = result.curves["fifo"].points[0]
    assert point.exact and point.method == "simulation"
    assert point.misses == run_cell(Cell(source_spec(source), "fifo", 100)).misses


def test_a_page_is_always_in_or_always_out():
    """Sampled LRU at rate R sees whole pages: its per-page miss counts come only from the
    pages whose key is below R, each with all its references."""
    pages = [k % 50 for k in range(2000)]
    result = miss_ratio_curves(SequenceSource(pages), ["lru"], [10], rate=0.3, min_pages=0,
                               max_error=None)
    keys = page_keys(SequenceSource(pages))
    sampled = [p for p in range(50) if keys[p] < round(0.3 * HASH_SPACE)]
    assert len(sampled) == 15  # 0.3 of 50 pages, by the keys' spread
    # a loop over 50 pages: every reference misses an LRU of 10 (and of 10 * 0.3 pages)
    point = result.curves["lru"].points[0]
    assert point.misses == round(len(sampled) * 40 / (round(0.3 * HASH_SPACE) / HASH_SPACE))


def test_a_cache_that_holds_every_page_is_estimated_exactly():
    """At a size that holds every page each page misses once, its first reference: the
    estimate, pages x the mean misses of a sampled page, is the number of pages whatever
    the sample holds (dividing by the rate instead would leave the luck of its size)."""
    source = zipf_source(30_000, 2000)
    pages = footprint(source).pages
    result = miss_ratio_curves(source, ["lru", "fifo", "sieve"], [pages], rate=0.013,
                               min_pages=0, max_error=None)
    for curve in result.curves.values():
        point = curve.points[0]
        assert not point.exact and point.misses == pages and point.error == 0.0


def test_s3fifo_miniature_needs_the_floor():
    """A strict S3-FIFO of fewer than 20 pages caches nothing (docs/policies.md): a
    miniature cache of 1000 x 0.01 = 10 pages would report a miss ratio of 1. The floor of
    min_pages raises the rate so that the miniature cache holds 200 pages."""
    source = zipf_source(30_000, 2000)
    exact = run_cell(Cell(source_spec(source), "s3fifo", 1000)).miss_ratio
    bare = miss_ratio_curves(source, ["s3fifo"], [1000], rate=0.01, min_pages=0,
                             max_error=None).curves["s3fifo"].points[0]
    floored = miss_ratio_curves(source, ["s3fifo"], [1000], rate=0.01, min_pages=200,
                                max_error=None).curves["s3fifo"].points[0]
    assert floored.rate == pytest.approx(0.2, abs=1e-6)
    assert abs(floored.miss_ratio - exact) < abs(bare.miss_ratio - exact)
    assert abs(floored.miss_ratio - exact) < 0.05


@pytest.mark.slow
@pytest.mark.parametrize("trace", ["zipf", "cloudphysics"])
def test_sampled_curves_keep_to_their_error_bound(trace, cloudphysics_path):
    """At rate 0.01 with the defaults (floor 200 pages, adaptive to a standard error of
    0.0025), every point is within 0.01 of the exact miss ratio and within four of its own
    estimated standard errors. (bench/mrc.py measures the same on a large trace.)"""
    if trace == "zipf":
        source = WorkloadSource(Workload("zipf", {"n_pages": 20_000, "alpha": 1.0,
                                                  "n": 200_000, "seed": 8, "shuffle": True}))
        sizes = [2_000, 8_000]
    else:
        source = TraceSource(cloudphysics_path, unit_pages=True)
        sizes = [20_000, 48_974]
    spec = source_spec(source)
    policies = ["lru", "fifo", "arc", "s3fifo", "sieve"]
    sampled = miss_ratio_curves(source, policies, sizes, rate=0.01)
    for policy in policies:
        for point in sampled.curves[policy].points:
            exact = run_cell(Cell(spec, policy, point.size)).miss_ratio
            assert abs(point.miss_ratio - exact) <= 0.01, (policy, point)
            if not point.exact:
                assert abs(point.miss_ratio - exact) <= 4 * point.error + 1e-9, (policy, point)


def test_the_lru_pass_stops_when_asked():
    from simulator.engine.errors import Stopped

    source = zipf_source(200_000, 3000)
    with pytest.raises(Stopped):
        lru_curve(source, [10, 100], stop=lambda: True)
    watched = lru_curve(source, [10, 100], seconds=60, stop=lambda: False)
    assert [p.misses for p in watched.points] == [
        p.misses for p in lru_curve(source, [10, 100]).points]


#: aging's parameters at which an eviction costs time per resident page (docs/policies.md)
SLOW_AGING = {"period": 1_000_000}


def test_a_cell_stops_at_its_time_limit_or_when_asked():
    """Aging with a clock period longer than the trace compares every resident page at each
    eviction (every page was referenced lately): its cell stops soon after its time limit,
    naming it; ``stop`` stops any cell; within its limit a cell counts what it counts
    without one."""
    import time

    from simulator.engine.errors import Stopped, TimeLimitExceeded

    pages = [(k * 7919) % 20_000 for k in range(60_000)]
    spec = source_spec(SequenceSource(pages))
    started = time.perf_counter()
    with pytest.raises(TimeLimitExceeded, match=r"aging at 1,000 ran past the time limit"):
        run_cell(Cell(spec, "aging", 1_000, params=SLOW_AGING), seconds=0.5)
    assert time.perf_counter() - started < 5
    with pytest.raises(Stopped, match="asked it to stop"):
        run_cell(Cell(spec, "fifo", 100), stop=lambda: True)
    for policy in ("fifo", "arc"):
        for rate in (None, 0.3):
            cell = Cell(spec, policy, 1_000, rate=rate)
            watched = run_cell(cell, seconds=60, stop=lambda: False)
            assert watched.misses == run_cell(cell).misses
