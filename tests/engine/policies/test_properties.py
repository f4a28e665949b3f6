"""Properties every policy must keep, checked on random traces (Hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.engine.policies import make_policy, policy_names

from .driver import next_uses, simulate_misses

ALL = policy_names()
FAST = settings(max_examples=60, deadline=None)

traces = st.lists(st.integers(0, 15), min_size=0, max_size=120)


@pytest.mark.parametrize("name", ALL)
@FAST
@given(ids=traces, capacity=st.integers(1, 12))
def test_bookkeeping_unit_pages(name: str, ids: list[int], capacity: int) -> None:
    p = (
        make_policy(name, capacity, strict=False)
        if name in ("2q", "s3fifo")
        else make_policy(name, capacity)
    )
    misses = simulate_misses(p, ids, check=True)
    assert len(set(ids)) <= misses <= len(ids)


CONFIGS = [(name, {}) for name in ALL] + [
    ("2q", {"strict": False}),
    ("s3fifo", {"strict": False}),
    ("clock", {"bits": 2}),
]


@pytest.mark.parametrize(("name", "params"), CONFIGS)
@FAST
@given(
    ids=traces,
    capacity=st.integers(1, 60),
    sizes=st.lists(st.integers(1, 20), min_size=16, max_size=16),
)
def test_bookkeeping_sized_pages(
    name: str, params: dict[str, object], ids: list[int], capacity: int, sizes: list[int]
) -> None:
    size_of = dict(enumerate(sizes))
    p = make_policy(name, capacity, **params)
    simulate_misses(p, ids, size_of, check=True)
    resident = list(p.keys())
    assert all(p.size_of(key) == size_of[key] for key in resident)


@pytest.mark.parametrize("name", ALL)
@FAST
@given(
    ops=st.lists(
        st.tuples(st.sampled_from(["get", "get", "get", "remove"]), st.integers(0, 9)), max_size=150
    ),
    capacity=st.integers(1, 8),
    sizes=st.lists(st.integers(1, 4), min_size=10, max_size=10),
)
def test_remove_keeps_bookkeeping(
    name: str, ops: list[tuple[str, int]], capacity: int, sizes: list[int]
) -> None:
    p = (
        make_policy(name, capacity, strict=False)
        if name in ("2q", "s3fifo")
        else make_policy(name, capacity)
    )
    ids = [k for _, k in ops]
    nxt = next_uses(ids)
    for i, (op, key) in enumerate(ops):
        size = sizes[key]
        p.now = i
        if op == "remove":
            if key in p:
                p.remove(key)
                assert key not in p
        elif key in p:
            if p.needs_future:
                p.set_next_use(nxt[i])
            p.touch(key)
        elif size <= capacity:
            p.on_miss(key, size)
            while p.used + size > capacity:
                v = p.victim()
                assert v not in p
            if p.needs_future:
                p.set_next_use(nxt[i])
            p.insert(key, size)
        resident = list(p.keys())
        assert len(resident) == len(p) == len(set(resident))
        assert p.used == sum(p.size_of(k) for k in resident) <= capacity


@FAST
@given(ids=traces, capacity=st.integers(1, 12))
def test_opt_is_a_lower_bound(ids: list[int], capacity: int) -> None:
    best = simulate_misses(make_policy("opt", capacity), ids)
    for name in ALL:
        assert best <= simulate_misses(make_policy(name, capacity), ids), name


@pytest.mark.parametrize("name", ["lru", "opt"])
@FAST
@given(ids=traces, capacity=st.integers(1, 12))
def test_stack_policies_never_get_worse_with_more_room(
    name: str, ids: list[int], capacity: int
) -> None:
    small = simulate_misses(make_policy(name, capacity), ids)
    assert simulate_misses(make_policy(name, capacity + 1), ids) <= small


@pytest.mark.parametrize("name", ALL)
@FAST
@given(ids=traces)
def test_only_cold_misses_when_everything_fits(name: str, ids: list[int]) -> None:
    assert simulate_misses(make_policy(name, 20), ids) == len(set(ids))


@FAST
@given(ids=traces, capacity=st.integers(1, 12), tau=st.integers(1, 50))
def test_working_set_victims_are_lru_victims(ids: list[int], capacity: int, tau: int) -> None:
    v_ws: list[int] = []
    v_lru: list[int] = []
    simulate_misses(make_policy("ws", capacity, tau=tau), ids, victims=v_ws)
    simulate_misses(make_policy("lru", capacity), ids, victims=v_lru)
    assert v_ws == v_lru


def test_opt_heap_stays_bounded() -> None:
    p = make_policy("opt", 4)
    ids = [i % 4 for i in range(10_000)]
    simulate_misses(p, ids)
    assert len(p._heap) <= 2 * len(p) + 64  # lazy deletion is compacted


def test_lfu_heap_stays_bounded() -> None:
    p = make_policy("lfu", 3)
    ids = [0, 1] * 500 + list(range(2, 2000))
    simulate_misses(p, ids, check=False)
    assert len(p._heap) <= 2 * len(p._buckets) + 32
