"""Seeded streaming workload generators (simulator.engine.workloads)."""

from __future__ import annotations

import json
import tracemalloc
from collections import Counter, deque
from collections.abc import Iterator
from itertools import islice

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.engine.access import Access, Op
from simulator.engine.errors import ConfigError
from simulator.engine.workloads import (
    BATCH,
    MAX_PAGES,
    WORKLOADS,
    Workload,
    loop,
    phased,
    scan_hotset,
    uniform,
    zipf,
)

MAKERS = {
    "zipf": lambda seed, n=3000: zipf(500, 0.9, n, seed=seed),
    "zipf-shuffled": lambda seed, n=3000: zipf(500, 0.9, n, seed=seed, shuffle=True),
    "uniform": lambda seed, n=3000: uniform(500, n, seed=seed),
    "scan_hotset": lambda seed, n=3000: scan_hotset(20, 300, n, 0.6, seed=seed),
    "phased": lambda seed, n=3000: phased([(100, n // 2, 1.0), (200, n - n // 2, 0.5)],
                                          seed=seed),
}


def ids(stream: Iterator[Access]) -> list:
    return [a.page_id for a in stream]


# --------------------------------------------------------------------------------------------
# common properties


@pytest.mark.parametrize("name", MAKERS)
def test_deterministic_per_seed_and_seeds_differ(name: str) -> None:
    make = MAKERS[name]
    assert list(make(7)) == list(make(7))
    assert ids(make(7)) != ids(make(8))


@pytest.mark.parametrize("name", [*MAKERS, "loop"])
def test_access_shape(name: str) -> None:
    stream = loop(50, 3000) if name == "loop" else MAKERS[name](1)
    accesses = list(stream)
    assert len(accesses) == 3000
    assert [a.time for a in accesses] == [float(i) for i in range(3000)]
    for a in accesses:
        assert type(a) is Access and type(a.page_id) is int and type(a.time) is float
        assert (a.tokens, a.op, a.session, a.turn) == (1, Op.READ, "", 0)


@pytest.mark.parametrize("n", [0, 1, BATCH - 1, BATCH, BATCH + 1, 3 * BATCH + 5])
def test_exact_lengths_across_batches(n: int) -> None:
    assert len(list(zipf(10, 1.0, n))) == n
    assert len(list(uniform(10, n))) == n
    assert len(list(loop(7, n))) == n
    assert len(list(scan_hotset(3, 5, n))) == n


def test_endless_when_n_is_none() -> None:
    for stream in (zipf(10, 1.0), uniform(10), loop(10), scan_hotset(2, 3)):
        assert len(list(islice(stream, 3 * BATCH + 1))) == 3 * BATCH + 1


def test_a_prefix_does_not_depend_on_n() -> None:
    assert list(zipf(100, 1.0, 10, seed=3)) == list(islice(zipf(100, 1.0, None, seed=3), 10))


def test_generators_are_lazy_and_stream_in_constant_memory() -> None:
    stream = zipf(1000, 1.0, 1_000_000, seed=3)
    assert iter(stream) is stream and not isinstance(stream, list | tuple)
    tracemalloc.start()
    try:
        deque(stream, maxlen=0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # a list of 1M accesses would take > 100 MB; the batches take well under 2 MB
    assert peak < 2_000_000, peak


# --------------------------------------------------------------------------------------------
# zipf


def test_zipf_alpha_1_follows_the_law() -> None:
    n_pages, draws = 100, 200_000
    counts = Counter(ids(zipf(n_pages, 1.0, draws, seed=11)))
    harmonic = sum(1 / k for k in range(1, n_pages + 1))
    expected = [draws / (k * harmonic) for k in range(1, n_pages + 1)]
    assert set(counts) <= set(range(n_pages))
    for rank in range(10):  # the head within 5 %
        assert counts[rank] == pytest.approx(expected[rank], rel=0.05)
    total_variation = sum(abs(counts[r] - expected[r]) for r in range(n_pages)) / (2 * draws)
    assert total_variation < 0.01
    # rank 0 is the most popular page, about twice rank 1
    assert counts.most_common(1)[0][0] == 0
    assert counts[0] / counts[1] == pytest.approx(2.0, rel=0.05)


def test_zipf_alpha_0_is_uniform() -> None:
    counts = Counter(ids(zipf(10, 0, 100_000, seed=2)))
    assert set(counts) == set(range(10))
    assert all(c == pytest.approx(10_000, rel=0.05) for c in counts.values())


def test_zipf_large_alpha_concentrates_on_rank_0() -> None:
    counts = Counter(ids(zipf(1000, 8.0, 10_000, seed=2)))
    assert counts[0] > 9_900


def test_zipf_single_page() -> None:
    assert set(ids(zipf(1, 1.0, 100))) == {0}


def test_zipf_shuffle_permutes_ranks() -> None:
    plain = Counter(ids(zipf(50, 1.2, 50_000, seed=4)))
    shuffled = Counter(ids(zipf(50, 1.2, 50_000, seed=4, shuffle=True)))
    # same random draws, ids relabelled by a permutation: the same frequency profile
    assert sorted(plain.values()) == sorted(shuffled.values())
    assert set(shuffled) <= set(range(50))
    assert [p for p, _ in shuffled.most_common(5)] != [0, 1, 2, 3, 4]


# --------------------------------------------------------------------------------------------
# uniform, loop, scan, phased


def test_uniform_covers_the_range_evenly() -> None:
    counts = Counter(ids(uniform(20, 100_000, seed=9)))
    assert set(counts) == set(range(20))
    assert all(c == pytest.approx(5_000, rel=0.07) for c in counts.values())


def test_loop_is_exact() -> None:
    assert ids(loop(3, 7)) == [0, 1, 2, 0, 1, 2, 0]
    assert ids(loop(1, 3)) == [0, 0, 0]
    long = ids(loop(1000, 3 * BATCH + 17))
    assert long == [i % 1000 for i in range(3 * BATCH + 17)]
    assert ids(loop(BATCH + 3, 2 * BATCH)) == [i % (BATCH + 3) for i in range(2 * BATCH)]


def test_scan_hotset_structure() -> None:
    pages = ids(scan_hotset(10, 100, 20_000, hot_fraction=0.75, seed=1))
    hot = [p for p in pages if p < 10]
    scan = [p for p in pages if p >= 10]
    assert len(hot) / len(pages) == pytest.approx(0.75, abs=0.02)
    assert set(hot) == set(range(10))
    assert scan == [10 + i % 100 for i in range(len(scan))]  # a cyclic scan, in order
    assert ids(scan_hotset(5, 4, 9, hot_fraction=0.0)) == [5, 6, 7, 8, 5, 6, 7, 8, 5]
    assert set(ids(scan_hotset(5, 4, 100, hot_fraction=1.0))) <= set(range(5))


def test_phased_disjoint_ranges() -> None:
    pages = ids(phased([(10, 1000, 1.0), (20, 500, 0.0), (5, 300, 2.0)], seed=3))
    assert len(pages) == 1800
    assert set(pages[:1000]) <= set(range(0, 10))
    assert set(pages[1000:1500]) == set(range(10, 30))
    assert set(pages[1500:]) <= set(range(30, 35))
    assert Counter(pages[1500:]).most_common(1)[0][0] == 30  # lowest id hottest


def test_phased_shift_overlaps_and_mapping_phases() -> None:
    phases = [{"n_pages": 10, "n_accesses": 2000, "alpha": 0}, [10, 2000, 0], (10, 0, 1.0),
              {"n_pages": 10, "n_accesses": 2000}]
    pages = ids(phased(phases, seed=1, shift=5))
    assert len(pages) == 6000
    assert set(pages[:2000]) == set(range(0, 10))
    assert set(pages[2000:4000]) == set(range(5, 15))
    assert set(pages[4000:]) == set(range(15, 25))  # phase 2 had no access; phase 3 at 3*5
    assert set(ids(phased([(4, 100, 0), (4, 100, 0)], shift=0))) == set(range(4))


def test_phased_times_keep_counting() -> None:
    times = [a.time for a in phased([(3, 5, 1.0), (3, 5, 1.0)])]
    assert times == [float(i) for i in range(10)]


# --------------------------------------------------------------------------------------------
# tokens


@pytest.mark.parametrize("make", [
    lambda tokens: zipf(300, 1.0, 20_000, seed=5, tokens=tokens),
    lambda tokens: uniform(300, 20_000, seed=5, tokens=tokens),
    lambda tokens: loop(300, 20_000, tokens=tokens, seed=5),
    lambda tokens: scan_hotset(30, 270, 20_000, seed=5, tokens=tokens),
    lambda tokens: phased([(100, 10_000, 1.0), (200, 10_000, 1.0)], seed=5, tokens=tokens),
])
def test_tokens_constant_and_per_page_range(make) -> None:
    assert {a.tokens for a in make(64)} == {64}
    size_of: dict[int, int] = {}
    for a in make((10, 20)):
        assert size_of.setdefault(a.page_id, a.tokens) == a.tokens  # a page keeps its size
    assert set(size_of.values()) == set(range(10, 21))  # every size used over 300 pages
    assert list(make([10, 20])) == list(make((10, 20)))  # a JSON list is the same range


def test_sizes_do_not_change_the_access_stream() -> None:
    assert ids(zipf(100, 1.0, 1000, seed=2, tokens=(1, 9))) == ids(zipf(100, 1.0, 1000, seed=2))


def test_page_sizes_depend_only_on_seed_and_page() -> None:
    sized = {a.page_id: a.tokens for a in uniform(50, 5000, seed=8, tokens=(1, 1000))}
    looped = {a.page_id: a.tokens for a in loop(50, 50, tokens=(1, 1000), seed=8)}
    assert sized == looped
    other = {a.page_id: a.tokens for a in loop(50, 50, tokens=(1, 1000), seed=9)}
    assert other != looped


# --------------------------------------------------------------------------------------------
# validation


@pytest.mark.parametrize("call,field,fragment", [
    (lambda: zipf(0, 1.0, 10), "n_pages", "must be >= 1, got 0"),
    (lambda: zipf(MAX_PAGES + 1, 1.0, 10), "n_pages", "must be <= 10,000,000"),
    (lambda: zipf(10.0, 1.0, 10), "n_pages", "must be an integer, got 10.0"),
    (lambda: zipf(True, 1.0, 10), "n_pages", "must be an integer, got True"),
    (lambda: zipf(10, -0.1, 10), "alpha", "must be a finite number >= 0, got -0.1"),
    (lambda: zipf(10, float("nan"), 10), "alpha", "finite"),
    (lambda: zipf(10, "1", 10), "alpha", "must be a number"),
    (lambda: zipf(10, 1.0, -1), "n", "must be >= 0, got -1"),
    (lambda: zipf(10, 1.0, 1.5), "n", "must be an integer"),
    (lambda: zipf(10, 1.0, 10, seed="x"), "seed", "must be an integer"),
    (lambda: zipf(10, 1.0, 10, tokens=0), "tokens", "must be >= 1, got 0"),
    (lambda: zipf(10, 1.0, 10, tokens=(5, 2)), "tokens", "min must be <= max, got (5, 2)"),
    (lambda: zipf(10, 1.0, 10, tokens=(1, 2, 3)), "tokens", "(min, max) pair"),
    (lambda: zipf(10, 1.0, 10, tokens="8"), "tokens", "positive integer or a (min, max)"),
    (lambda: zipf(10, 1.0, 10, shuffle=1), "shuffle", "must be true or false"),
    (lambda: uniform(-3, 10), "n_pages", "must be >= 1"),
    (lambda: loop(0), "n_pages", "must be >= 1"),
    (lambda: scan_hotset(10, 10, hot_fraction=1.5), "hot_fraction", "between 0 and 1"),
    (lambda: scan_hotset(10, 0), "scan_pages", "must be >= 1"),
    (lambda: phased([]), "phases", "non-empty list"),
    (lambda: phased("abc"), "phases", "non-empty list"),
    (lambda: phased([(10, 10)]), "phases[0]", "must be (n_pages, n_accesses, alpha)"),
    (lambda: phased([(10, 10, 1.0), (0, 10, 1.0)]), "phases[1].n_pages", "must be >= 1"),
    (lambda: phased([(10, -1, 1.0)]), "phases[0].n_accesses", "must be >= 0"),
    (lambda: phased([(10, 1, 1.0), (1, 1, -2)]), "phases[1].alpha", ">= 0"),
    (lambda: phased([{"n_pages": 3}]), "phases[0].n_accesses", "is required"),
    (lambda: phased([{"n_pages": 3, "n_accesses": 1, "beta": 1}]), "phases[0]", "unknown"),
    (lambda: phased([(10, 1, 1.0)], shift=-1), "shift", "must be >= 0"),
    (lambda: phased([(MAX_PAGES, 1, 1.0), (2, 1, 1.0)]), "phases", "span"),
])
def test_bad_arguments_raise_config_error_at_once(call, field: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        call()  # no next(): arguments are checked when the generator is created
    assert info.value.field == field
    assert fragment in str(info.value)
    assert str(info.value).startswith(f"{field}: ")


# --------------------------------------------------------------------------------------------
# Workload config


def test_registry() -> None:
    assert {"zipf", "uniform", "loop", "phased"} <= set(WORKLOADS)
    assert WORKLOADS["zipf"] is zipf


@pytest.mark.parametrize("workload", [
    Workload("zipf", {"n_pages": 100, "alpha": 1.0, "n": 500, "seed": 3, "tokens": (1, 8),
                      "shuffle": True}),
    Workload("uniform", {"n_pages": 100, "n": 500, "seed": 3}),
    Workload("loop", {"n_pages": 7, "n": 50}),
    Workload("phased", {"phases": [(10, 100, 1.0), (20, 200, 0.5)], "seed": 1, "shift": 5}),
    Workload("scan_hotset", {"hot_pages": 5, "scan_pages": 50, "n": 300}),
])
def test_workload_json_round_trip_and_build(workload: Workload) -> None:
    workload.validate()
    data = json.loads(json.dumps(workload.to_dict()))
    again = Workload.from_dict(data)
    assert again.name == workload.name
    assert list(again.build()) == list(WORKLOADS[workload.name](**workload.params))
    assert list(again.build()) == list(workload.build())
    assert again.length == len(list(workload.build()))


def test_workload_length() -> None:
    assert Workload("zipf", {"n_pages": 5, "alpha": 1}).length is None
    assert Workload("loop", {"n_pages": 5, "n": 9}).length == 9
    assert Workload("phased", {"phases": [[1, 2, 0], {"n_pages": 1, "n_accesses": 3}]}
                    ).length == 5


@pytest.mark.parametrize("workload,field,fragment", [
    (Workload("zipfian", {}), "name", "unknown workload 'zipfian' (expected one of zipf"),
    (Workload(3, {}), "name", "unknown workload"),
    (Workload("zipf", {"n_pages": 10}), "alpha", "is required by workload 'zipf'"),
    (Workload("zipf", {"n_pages": 10, "alpha": 1, "beta": 2}), "beta", "unknown parameter"),
    (Workload("loop", {"n_pages": 10, "alpha": 1}), "alpha", "unknown parameter"),
    (Workload("zipf", {"n_pages": 10, "alpha": -1}), "alpha", ">= 0"),
    (Workload("uniform", {"n_pages": 0}), "n_pages", ">= 1"),
    (Workload("phased", {"phases": [[1, 1, -1]]}), "phases[0].alpha", ">= 0"),
    (Workload("loop", [1]), "params", "must be a mapping"),
])
def test_workload_validation(workload: Workload, field: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        workload.validate()
    assert info.value.field == field
    assert fragment in str(info.value)
    with pytest.raises(ConfigError):
        workload.build()


@pytest.mark.parametrize("data,field", [
    ([], None),
    ({"params": {}}, "name"),
    ({"name": "loop", "params": {"n_pages": 3}, "extra": 1}, "extra"),
    ({"name": "loop", "params": 5}, "params"),
    ({"name": "loop", "params": {"n_pages": "3"}}, "n_pages"),
])
def test_workload_from_dict_errors(data, field: str | None) -> None:
    with pytest.raises(ConfigError) as info:
        Workload.from_dict(data)
    assert info.value.field == field


def test_validate_does_no_work() -> None:
    # a 10M-page Zipf CDF would take seconds to build; validation must not build it
    Workload("zipf", {"n_pages": MAX_PAGES, "alpha": 1.0}).validate()


@settings(max_examples=60, deadline=None)
@given(n_pages=st.integers(1, 50), alpha=st.floats(0, 3), n=st.integers(0, 300),
       seed=st.integers(-(2**40), 2**40))
def test_zipf_property(n_pages: int, alpha: float, n: int, seed: int) -> None:
    accesses = list(zipf(n_pages, alpha, n, seed=seed))
    assert len(accesses) == n
    assert all(0 <= a.page_id < n_pages for a in accesses)
    assert accesses == list(zipf(n_pages, alpha, n, seed=seed))
