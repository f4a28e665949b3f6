"""The hierarchy model: fault path, demotion cascade, write policies, pinning, protection,
prefetch, concurrency, control, and the metric definitions of docs/architecture.md §5."""

from __future__ import annotations

import dataclasses
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.engine.access import Access, Op, PageReads
from simulator.engine.config import LatencyModel, SimConfig, TierConfig
from simulator.engine.errors import ConfigError
from simulator.engine.events import Event
from simulator.engine.observers import Observer, Recorder
from simulator.engine.simulation import (
    PINNED,
    Simulation,
    next_pages,
    split_bounds,
    split_count,
    split_pages,
)
from simulator.engine.traces import next_use_indices

REFERENCE = [1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5]


def reads(ids, session=""):
    return [Access(float(i), p, 1, Op.READ, session) for i, p in enumerate(ids)]


def classic_faults(policy, capacity, ids):
    future = next_use_indices(ids) if policy == "opt" else None
    return Simulation(SimConfig.classic(policy, capacity), reads(ids), future=future).run().faults


def const(ms):
    return LatencyModel("constant", ms)


def two_tiers(l0=2, l1=None, ms=10.0, **kwargs):
    return SimConfig(
        tiers=[TierConfig("L0", l0, "lru"), TierConfig("L1", l1, "lru", const(ms))], **kwargs
    ).validate()


@pytest.mark.parametrize(
    ("policy", "frames", "faults"),
    [("fifo", 3, 9), ("fifo", 4, 10), ("lru", 3, 10), ("lru", 4, 8), ("opt", 3, 7), ("opt", 4, 6)],
)
def test_textbook_reference_string(policy, frames, faults):
    # Belady's anomaly for FIFO: more frames, more faults
    assert classic_faults(policy, frames, REFERENCE) == faults


def test_loop_one_larger_than_capacity_drives_thrash_index_to_one():
    capacity = 50
    ids = [i % (capacity + 1) for i in range(5000)]
    result = Simulation(SimConfig.classic("lru", capacity), reads(ids)).run()
    assert result.faults == 5000
    assert result.thrash_index == 1.0
    # every fault after the cold ones is a refault
    assert result.refaults == 5000 - (capacity + 1)


def test_hot_set_that_fits_has_no_thrash():
    ids = [(i * 7) % 40 for i in range(5000)]
    result = Simulation(SimConfig.classic("lru", 64), reads(ids)).run()
    assert result.faults == 40
    assert result.refaults == 0
    assert result.thrash_index == 0.0


def test_refault_uses_eviction_distance_against_resident_pages():
    # capacity 2, LRU. a b c evicts a (distance counter 1); d evicts b; e evicts c; a faults:
    # evictions since a's own = 2 <= 2 resident pages -> refault. Then f, g, h evict 3 more
    # pages; b faults with distance 5, beyond the horizon of 2 evictions (L0's capacity):
    # forgotten, so it is no refault and reads back as new, not from the store.
    ids = ["a", "b", "c", "d", "e", "a", "f", "g", "h", "b"]
    recorder = Recorder(events=True)
    Simulation(SimConfig.classic("lru", 2), reads(ids), observers=[recorder]).run()
    faults = {e.index: e for e in recorder.events if e.kind == "fault"}
    assert faults[5].refault is True and faults[5].src == "store"
    assert faults[9].refault is False and faults[9].src == "new"
    assert recorder.result.refaults == 1
    assert recorder.result.mean_eviction_distance == 2.0


def test_eviction_distance_counts_within_the_horizon_beyond_the_resident_pages():
    # capacity 4 tokens, pages of 2: two resident pages, a horizon of 4 evictions. a is
    # evicted first; b, c, d evicted after it; a faults at distance 3: judged (mean 3), but
    # more than the 2 resident pages, so no refault.
    ids = ["a", "b", "c", "d", "e", "f", "a"]
    stream = [Access(float(i), p, 2) for i, p in enumerate(ids)]
    recorder = Recorder(events=True)
    config = SimConfig(tiers=[TierConfig("L0", 4, "lru")]).validate()
    Simulation(config, stream, observers=[recorder]).run()
    last = [e for e in recorder.events if e.kind == "fault"][-1]
    assert (last.page_id, last.src, last.refault) == ("a", "store", False)
    assert recorder.result.mean_eviction_distance == 3.0
    assert recorder.result.refaults == 0


def assert_refaults_as_if_every_eviction_were_remembered(config, stream):
    """The meter forgets evictions beyond its horizon (L0's capacity) to stay bounded; no
    refault may be lost by it. The reference replays the run's events with a table of every
    eviction ever: each fault is judged against the pages resident before the evictions it
    caused, which come before it in the event log."""
    recorder = Recorder(events=True)
    result = Simulation(config, stream, observers=[recorder]).run()
    stamps, evictions, resident, refaults, pending = {}, 0, set(), 0, []
    for event in recorder.events:
        if event.kind == "evict":
            pending.append(event.page_id)
            continue
        assert event.kind == "fault"
        stamp = stamps.pop(event.page_id, None)
        expected = stamp is not None and evictions - stamp <= len(resident)
        assert event.refault is expected, event
        refaults += expected
        for victim in pending:
            evictions += 1
            stamps[victim] = evictions
            resident.discard(victim)
        pending.clear()
        resident.add(event.page_id)
    assert result.refaults == refaults


@settings(max_examples=150, deadline=None)
@given(
    ids=st.lists(st.integers(0, 40), min_size=1, max_size=500),
    sizes=st.lists(st.integers(1, 3), min_size=41, max_size=41),
    capacity=st.integers(3, 14),
    policy=st.sampled_from(["lru", "fifo", "clock", "arc", "s3fifo", "lfu"]),
    unit=st.booleans(),
)
def test_refaults_are_those_of_a_meter_remembering_every_eviction(
    ids, sizes, capacity, policy, unit,
):
    stream = [Access(float(i), p, sizes[p]) for i, p in enumerate(ids)]
    config = SimConfig(tiers=[TierConfig("L0", capacity, policy)], unit_pages=unit).validate()
    assert_refaults_as_if_every_eviction_were_remembered(config, stream)


@pytest.mark.parametrize("policy", ["lru", "fifo", "arc"])
def test_refaults_of_a_long_random_string_are_all_found(policy):
    # 2,000 accesses over 15 pages at 10 frames: hundreds of faults at every distance up to
    # the resident pages (a meter renewing its generations twice as often loses ~100)
    rng = random.Random(1)
    stream = reads([rng.randrange(15) for _ in range(2_000)])
    assert_refaults_as_if_every_eviction_were_remembered(SimConfig.classic(policy, 10), stream)


def test_thrash_index_is_anchored_on_the_last_w_accesses():
    # 200 loop accesses that all refault, then 1,000 hits on one page
    capacity = 3
    loop = [i % (capacity + 1) for i in range(200)]
    ids = loop + [0] * 1000
    config = SimConfig.classic("lru", capacity, thrash_window=100, window_accesses=100)
    recorder = Recorder()
    Simulation(config, reads(ids), observers=[recorder]).run()
    by_end = {w.end: w.thrash_index for w in recorder.windows}
    assert by_end[200] == 1.0  # accesses 100..199 all refaulted
    assert by_end[300] == 0.01  # only access 200 (page 0 again, evicted at 199) refaulted
    assert by_end[400] == 0.0  # the window has slid past them
    assert recorder.result.thrash_index == 0.0


def test_first_touch_is_served_by_the_backing_store_and_counted_as_new():
    config = two_tiers(l0=2, ms=10.0)
    result = Simulation(config, reads(["a", "b", "a"])).run()
    assert result.faults_by_tier == {"L1": 0, "new": 2}
    assert result.latency_ms.max == 10.0
    assert result.sim_time_ms == 20.0
    assert result.tiers[1].misses == 2  # a first touch misses every tier


def test_demotion_cascade_is_exclusive_and_faults_come_from_the_highest_holder():
    config = SimConfig(tiers=[
        TierConfig("L0", 1, "lru"),
        TierConfig("L1", 1, "lru", const(1)),
        TierConfig("L2", None, "lru", const(100)),
    ]).validate()
    sim = Simulation(config, reads(["a", "b", "c", "b", "a"]))
    sim.step(3)  # L0 {c}, L1 {b}, L2 {a}
    assert sim.location == {"c": 0, "b": 1, "a": 2}
    sim.step(1)  # b from L1 (1 ms); c demotes to L1, pushing nothing (b left it)
    assert sim.location == {"b": 0, "c": 1, "a": 2}
    sim.step(1)  # a from L2 (100 ms)
    assert sim.location == {"a": 0, "b": 1, "c": 2}
    result = sim.run()
    assert result.faults_by_tier == {"L1": 1, "L2": 1, "new": 3}
    assert result.tiers[1].hits == 1 and result.tiers[2].hits == 1
    # 3 first touches from L2 (100 each) + b from L1 (1) + a from L2 (100)
    assert result.sim_time_ms == pytest.approx(401.0)
    moved = {(m["from"], m["to"]): m["tokens"] for m in result.tokens_moved}
    assert moved[("L1", "L0")] == 1 and moved[("L2", "L0")] == 1
    # every page lives in exactly one tier
    assert sum(t.pages for t in result.tiers) == 3


def test_pages_dropped_off_a_bounded_last_tier_are_forgotten():
    config = SimConfig(tiers=[TierConfig("L0", 1, "lru"), TierConfig("L1", 1, "lru")]).validate()
    result = Simulation(config, reads(["a", "b", "c", "a"])).run()
    assert result.dropped == 2  # a then b fall off L1
    assert result.faults_by_tier["new"] == 4  # a is new again


def test_write_back_writes_dirty_pages_on_demotion_and_waits_for_it():
    config = two_tiers(l0=1, ms=5.0)
    accesses = [
        Access(0, "a", 1, Op.WRITE), Access(1, "b", 1, Op.READ), Access(2, "a", 1, Op.READ),
    ]
    result = Simulation(config, accesses).run()
    assert result.writes == 1 and result.writebacks == 1
    # b: first touch 5 ms + write-back of a 5 ms; a: from L1 5 ms (b is clean: no write-back)
    assert result.sim_time_ms == pytest.approx(15.0)
    assert result.faults == 2


def test_write_through_pays_every_write_and_never_writes_back():
    config = two_tiers(l0=1, ms=5.0, write_policy="write-through")
    accesses = [Access(0, "a", 1, Op.WRITE), Access(1, "a", 1, Op.WRITE),
                Access(2, "b", 1, Op.READ)]
    result = Simulation(config, accesses).run()
    assert result.writebacks == 0
    assert result.sim_time_ms == pytest.approx(15.0)  # 2 writes + b's first touch


def test_pinned_pages_never_leave_l0():
    accesses = [Access(0, "sys", 1, Op.PIN), *reads(list(range(100)))]
    sim = Simulation(two_tiers(l0=3, ms=1.0), accesses)
    result = sim.run()
    assert sim.location["sys"] == PINNED
    assert result.tiers[0].used_tokens == 3
    # the two unpinned slots did all the work: L0 holds 2 ordinary pages besides "sys"
    assert len(sim.tiers[0].policy) == 2


def test_unpin_makes_a_page_evictable_again():
    accesses = [Access(0, "s", 1, Op.PIN), Access(1, "s", 1, Op.UNPIN), *reads(["x", "y"])]
    sim = Simulation(two_tiers(l0=2, ms=1.0), accesses)
    sim.run()
    assert sim.location["s"] == 1  # evicted to L1 after being unpinned


def test_anti_thrash_protection_changes_the_decision():
    ids = ["a", "b", "a", "c", "b"]
    plain = Simulation(SimConfig.classic("lru", 2), reads(ids)).run()
    protected = Simulation(SimConfig.classic("lru", 2, anti_thrash=3), reads(ids)).run()
    # LRU evicts b for c and b faults again; protection spares b (faulted in 2 accesses ago)
    assert plain.faults == 4
    assert protected.faults == 3
    assert protected.tiers[0].spared == 1


def test_anti_thrash_yields_when_everything_is_protected():
    result = Simulation(SimConfig.classic("lru", 2, anti_thrash=100), reads(["a", "b", "c"])).run()
    assert result.faults == 3 and result.tiers[0].used_tokens == 2


def test_sequential_prefetch_brings_the_next_pages_up():
    config = SimConfig(
        tiers=[TierConfig("L0", 4, "lru"), TierConfig("L1", None, "lru", const(10))],
        prefetch=2,
    ).validate()
    # touch 0..7 (0..3 end up in L1), then read 0: 1 and 2 come along
    ids = [*list(range(8)), 0, 1, 2]
    result = Simulation(config, reads(ids)).run()
    assert result.prefetches >= 2
    assert result.prefetch_hits == 2
    assert result.faults == 9  # 8 first touches + 0; 1 and 2 hit


def test_next_pages_follow_ints_and_chunk_ids():
    assert next_pages(7, 2) == [8, 9]
    assert next_pages("doc#3", 2) == ["doc#4", "doc#5"]
    assert next_pages("plain", 2) == []


def test_large_accesses_are_cut_into_pages():
    pages = list(split_pages([Access(0, "m", 25), Access(1, "s", 4)], 10))
    assert [(p.page_id, p.tokens) for p in pages] == [
        ("m#0", 10), ("m#1", 10), ("m#2", 5), ("s", 4)]


@given(st.lists(st.integers(1, 5000), min_size=1, max_size=40), st.integers(1, 700))
def test_split_count_and_bounds_are_those_of_split_pages(tokens, page_size):
    """What runs size their windows and totals by (docs/parameters.md) is what split_pages
    does: each access's page count, and the bounds from the total tokens alone."""
    stream = [Access(float(i), i, t) for i, t in enumerate(tokens)]
    pages = list(split_pages(stream, page_size))
    assert [split_count(t, page_size) for t in tokens] == [
        sum(1 for p in pages if p.time == i) for i in range(len(tokens))]
    fewest, most = split_bounds(len(tokens), sum(tokens), page_size)
    assert fewest <= len(pages) <= most


def test_sized_pages_evict_until_the_newcomer_fits():
    config = SimConfig(tiers=[TierConfig("L0", 10, "lru")]).validate()
    accesses = [Access(0, "a", 4), Access(1, "b", 4), Access(2, "c", 6)]
    sim = Simulation(config, accesses)
    result = sim.run()
    assert sim.location == {"b": 0, "c": 0}  # only a had to go; one tier, so it is dropped
    assert result.tiers[0].used_tokens == 10


def test_a_page_larger_than_l0_is_served_but_not_admitted():
    config = SimConfig(tiers=[TierConfig("L0", 10, "lru")]).validate()
    result = Simulation(config, [Access(0, "big", 50), Access(1, "big", 50)]).run()
    assert result.faults == 2
    assert result.tiers[0].used_tokens == 0


def test_concurrent_sessions_queue_at_a_tier_with_limited_concurrency():
    def run(concurrency):
        config = SimConfig(tiers=[
            TierConfig("L0", 10, "lru"),
            TierConfig("L1", None, "lru", const(10), concurrency=concurrency),
        ]).validate()
        accesses = [Access(0, "a", 1, Op.READ, "s1"), Access(0, "b", 1, Op.READ, "s2")]
        return Simulation(config, accesses, concurrent=True).run()

    queued = run(1)
    assert queued.sim_time_ms == pytest.approx(20.0)
    assert queued.latency_ms.max == pytest.approx(20.0)  # the second fault waited 10 ms
    parallel = run(2)
    assert parallel.sim_time_ms == pytest.approx(10.0)
    assert parallel.latency_ms.max == pytest.approx(10.0)


def test_one_session_gives_the_same_numbers_in_concurrent_and_fast_mode():
    ids = [(i * 5) % 11 for i in range(300)]
    fast = Simulation(two_tiers(l0=5, ms=2.0), reads(ids)).run()
    slow = Simulation(two_tiers(l0=5, ms=2.0), reads(ids), concurrent=True).run()
    assert (slow.requests, slow.faults, slow.refaults) == (fast.requests, fast.faults,
                                                          fast.refaults)
    assert slow.sim_time_ms == pytest.approx(fast.sim_time_ms)
    assert slow.latency_ms == fast.latency_ms


def test_concurrent_sessions_overlap_their_faults():
    # three sessions, each reading its own 50 new pages: with unlimited concurrency they
    # overlap, so the run takes a third of the serial time
    accesses = [Access(i, f"s{i % 3}-{i}", 1, Op.READ, f"s{i % 3}") for i in range(150)]
    serial = Simulation(two_tiers(l0=500, ms=2.0), accesses).run()
    overlapped = Simulation(two_tiers(l0=500, ms=2.0), accesses, concurrent=True).run()
    assert serial.sim_time_ms == pytest.approx(300.0)
    assert overlapped.sim_time_ms == pytest.approx(100.0)
    assert overlapped.faults == serial.faults == 150


def test_step_and_run_until_control_the_run():
    sim = Simulation(SimConfig.classic("lru", 3), reads(list(range(100))))
    assert sim.step(5) == 5 and sim.index == 5
    sim.run_until(accesses=42)
    assert sim.index == 42 and not sim.finished
    sim.run()
    assert sim.finished and sim.index == 100


def test_run_until_simulated_time():
    sim = Simulation(two_tiers(l0=1000, ms=10.0), reads(list(range(100))))
    sim.run_until(time_ms=55.0)
    assert sim.clock_ms == pytest.approx(60.0)  # stops at the first fault past 55 ms
    assert sim.index == 6


def test_pause_from_an_observer_stops_at_the_window_end_and_resume_goes_on():
    class PauseAtSecondWindow(Observer):
        def __init__(self):
            self.sim = None

        def on_window(self, snapshot):
            if snapshot.seq == 1:
                self.sim.pause()

    observer = PauseAtSecondWindow()
    config = SimConfig.classic("lru", 3, window_accesses=10)
    sim = Simulation(config, reads(list(range(100))), observers=[observer])
    observer.sim = sim
    sim.run_until()
    assert sim.paused and sim.index == 20
    sim.run_until()  # still paused: nothing happens
    assert sim.index == 20
    sim.resume()
    sim.run_until()
    assert sim.finished and sim.index == 100


def test_windows_partition_the_run_and_carry_events():
    config = SimConfig.classic("lru", 5, window_accesses=100)
    recorder = Recorder()
    ids = [(i * 13) % 17 for i in range(1050)]
    result = Simulation(config, reads(ids), observers=[recorder]).run()
    windows = recorder.windows
    assert [w.seq for w in windows] == list(range(11))
    assert sum(w.accesses for w in windows) == 1050
    assert sum(w.faults for w in windows) == result.faults
    assert windows[-1].cumulative["faults"] == result.faults
    assert all(len(w.events) <= 20 for w in windows)
    assert {e.kind for e in windows[0].events} == {"fault", "evict"}


def test_time_windows_close_on_simulated_time():
    recorder = Recorder()
    config = two_tiers(l0=1000, ms=10.0, window_accesses=10_000, window_ms=50.0)
    Simulation(config, reads(list(range(20))), observers=[recorder]).run()
    assert [w.end for w in recorder.windows] == [5, 10, 15, 20]


def test_opt_needs_the_future():
    with pytest.raises(ConfigError, match="future"):
        Simulation(SimConfig.classic("opt", 3), reads([1, 2]))


@settings(max_examples=60, deadline=None)
@given(
    ids=st.lists(st.integers(0, 12), min_size=1, max_size=200),
    sizes=st.lists(st.integers(1, 4), min_size=13, max_size=13),
    l0=st.integers(4, 12),
    l1=st.integers(4, 12),
    policy=st.sampled_from(["lru", "fifo", "clock", "arc", "2q", "sieve", "s3fifo", "lfu"]),
)
def test_hierarchy_invariants(ids, sizes, l0, l1, policy):
    config = SimConfig(tiers=[
        TierConfig("L0", l0, policy), TierConfig("L1", l1, policy, const(1)),
        TierConfig("L2", None, "fifo", const(10)),
    ], window_accesses=17).validate()
    accesses = [Access(float(i), p, sizes[p]) for i, p in enumerate(ids)]
    sim = Simulation(config, accesses)
    while sim.step(7):
        for tier in sim.tiers:
            assert tier.capacity is None or tier.used <= tier.capacity
        held = [set(t.policy.keys()) for t in sim.tiers]
        assert sum(len(h) for h in held) == len(set().union(*held))  # exclusive
        for k, keys in enumerate(held):
            assert all(sim.location[p] == k for p in keys)
    result = sim.result()
    assert result.hits + result.misses == result.requests == len(ids)
    assert result.faults == result.misses
    assert sum(result.faults_by_tier.values()) == result.faults
    for k in range(1, 3):
        tier = result.tiers[k]
        reached = result.faults - sum(result.tiers[j].hits for j in range(1, k))
        assert tier.hits + tier.misses == reached


def test_working_set_releases_pages_outside_the_window():
    config = SimConfig(tiers=[
        TierConfig("L0", 100, "ws", policy_params={"tau": 3}),
        TierConfig("L1", None, "lru", const(1)),
    ]).validate()
    sim = Simulation(config, reads(["a", "b", "c", "d", "e", "c"]))
    result = sim.run()
    # L0 has room for 100 pages, yet only the last tau=3 accesses' pages stay in it
    assert sim.location == {"a": 1, "b": 1, "c": 0, "d": 0, "e": 0}
    assert result.tiers[0].evictions == 2
    assert result.faults == 5


@settings(max_examples=50, deadline=None)
@given(
    ids=st.lists(st.integers(0, 15), min_size=1, max_size=300),
    sizes=st.lists(st.integers(1, 5), min_size=16, max_size=16),
    capacity=st.integers(3, 20),
    policy=st.sampled_from(["lru", "fifo", "clock", "sieve", "lfu", "random"]),
    unit=st.booleans(),
)
def test_single_tier_fast_path_matches_the_general_path(ids, sizes, capacity, policy, unit):
    accesses = [Access(float(i), p, sizes[p]) for i, p in enumerate(ids)]

    def run(fast):
        config = SimConfig(tiers=[TierConfig("L0", capacity, policy)], unit_pages=unit,
                           window_accesses=50)
        recorder = Recorder(events=True)
        sim = Simulation(config, accesses, observers=[recorder])
        assert sim._single_tier_fast
        sim._single_tier_fast = fast
        result = sim.run()
        return result, recorder.events, [w.to_dict() for w in recorder.windows]

    assert run(True) == run(False)


@settings(max_examples=60, deadline=None)
@given(
    accesses=st.lists(st.tuples(st.integers(0, 15), st.sampled_from(list(Op))), min_size=1,
                      max_size=300),
    sizes=st.lists(st.integers(1, 5), min_size=16, max_size=16),
    capacity=st.integers(3, 20),
    policy=st.sampled_from(["lru", "fifo", "clock", "sieve", "lfu", "random", "mru",
                            "eclock"]),
    unit=st.booleans(),
    window=st.integers(1, 60),
    max_events=st.sampled_from([0, 3, 20]),
    watch_events=st.booleans(),
)
def test_classic_loop_matches_the_general_path_with_writes_and_pins(
    accesses, sizes, capacity, policy, unit, window, max_events, watch_events,
):
    """The classic loop keeps its counters local between writes and pins, which run the
    general code: every count, window, event and the final placement stay the same."""
    stream = [Access(float(i), p, sizes[p], op) for i, (p, op) in enumerate(accesses)]

    def run(fast):
        config = SimConfig(tiers=[TierConfig("L0", capacity, policy)], unit_pages=unit,
                           window_accesses=window)
        recorder = Recorder(events=watch_events)
        sim = Simulation(config, stream, observers=[recorder], max_events=max_events)
        assert sim._single_tier_fast
        sim._single_tier_fast = fast
        result = sim.run()
        windows = [w.to_dict() for w in recorder.windows]
        return result, recorder.events, windows, sim.location, sim.dirty

    assert run(True) == run(False)


@settings(max_examples=60, deadline=None)
@given(
    ids=st.lists(st.integers(0, 15), min_size=1, max_size=300),
    tokens=st.integers(1, 5),
    capacity=st.integers(3, 20),
    policy=st.sampled_from(["lru", "fifo", "clock", "sieve", "lfu", "random", "arc",
                            "s3fifo", "2q"]),
    unit=st.booleans(),
    window=st.integers(1, 60),
    max_events=st.sampled_from([0, 3, 20]),
    refaults=st.booleans(),
)
def test_bare_page_ids_run_like_their_accesses(
    ids, tokens, capacity, policy, unit, window, max_events, refaults,
):
    """A :class:`PageReads` stream's ids go through the classic loop bare: every count,
    window, event and the final placement are those of the same reads as accesses."""

    def run(stream):
        config = SimConfig(tiers=[TierConfig("L0", capacity, policy)], unit_pages=unit,
                           window_accesses=window)
        recorder = Recorder(events=True)
        sim = Simulation(config, stream, observers=[recorder], max_events=max_events,
                         track_refaults=refaults)
        result = sim.run()
        windows = [w.to_dict() for w in recorder.windows]
        return (result, recorder.events, windows, sim.location, sim.sizes,
                (sim._read_ids, sim._single_tier_fast))

    *bare, (took_ids, classic) = run(PageReads(ids, tokens))
    *made, (took_accesses, _) = run(list(PageReads(ids, tokens)))
    assert took_ids == classic and not took_accesses
    assert bare == made


def test_bare_page_ids_step_and_feed_the_general_path_too():
    """Stepped one access at a time the ids count what one run counts; a configuration the
    classic loop does not serve reads the same stream as accesses."""
    ids = [p % 11 for p in range(0, 600, 7)]
    config = SimConfig.classic("lru", 4)
    whole = Simulation(config, PageReads(ids)).run()
    stepped = Simulation(config, PageReads(ids))
    while stepped.step(1):
        pass
    assert stepped.result() == whole == Simulation(config, list(PageReads(ids))).run()
    hierarchy = SimConfig(tiers=[TierConfig("L0", 4, "lru"), TierConfig("L1", 8, "lru")],
                          unit_pages=True)
    sim = Simulation(hierarchy, PageReads(ids))
    assert not sim._read_ids
    assert sim.run() == Simulation(hierarchy, list(PageReads(ids))).run()


def test_classic_loop_steps_one_access_at_a_time_like_a_whole_run():
    """Slices of one access (the dashboard's step) count exactly what one run counts."""
    stream = [Access(float(i), p % 7, 1, Op.WRITE if p % 5 == 0 else Op.READ)
              for i, p in enumerate(range(0, 300, 3))]
    config = SimConfig.classic("lru", 4)
    whole = Simulation(config, stream).run()
    stepped = Simulation(config, stream)
    while stepped.step(1):
        pass
    assert stepped.result() == whole


@settings(max_examples=60, deadline=None)
@given(
    accesses=st.lists(st.tuples(st.integers(0, 15), st.sampled_from(list(Op))), min_size=1,
                      max_size=300),
    sizes=st.lists(st.integers(1, 6), min_size=16, max_size=16),
    capacities=st.tuples(st.integers(3, 20), st.integers(1, 12), st.integers(1, 30)),
    policies=st.tuples(*[st.sampled_from(["lru", "fifo", "clock", "sieve", "lfu", "random",
                                          "mru", "eclock"])] * 3),
    unit=st.booleans(),
    write_through=st.booleans(),
    window=st.integers(1, 60),
    max_events=st.sampled_from([0, 3, 20]),
    watch_events=st.booleans(),
)
def test_lean_fault_path_matches_the_general_path(
    accesses, sizes, capacities, policies, unit, write_through, window, max_events,
    watch_events,
):
    """The lean fault path writes the placement and the demotion cascade in: with reads,
    writes, pins, tiers too small for a page, random latencies and any event log, every
    count, window, event, latency draw and placement stays the same as the general path."""
    stream = [Access(float(i), p, sizes[p], op) for i, (p, op) in enumerate(accesses)]
    latencies = [LatencyModel("uniform", low_ms=1, high_ms=9),
                 LatencyModel("lognormal", ms=40, sigma=0.4),
                 LatencyModel("lognormal", ms=300, sigma=0.5)]
    tiers = [TierConfig(f"L{k}", capacities[k], policies[k], latencies[k - 1] if k else const(0))
             for k in range(3)]
    tiers.append(TierConfig("L3", None, "fifo", LatencyModel("lognormal", ms=3000, sigma=0.6)))

    def run(lean):
        config = SimConfig(tiers=tiers, unit_pages=unit, window_accesses=window, seed=3,
                           write_policy="write-through" if write_through else "write-back")
        recorder = Recorder(events=watch_events)
        sim = Simulation(config, stream, observers=[recorder], max_events=max_events)
        assert sim._lean_faults
        sim._lean_faults = lean
        result = sim.run()
        windows = [w.to_dict() for w in recorder.windows]
        return (result, recorder.events, windows, sim.location, sim.dirty, sim.tokens_moved,
                sim.clock_ms, [list(t.policy.keys()) for t in sim.tiers])

    assert run(True) == run(False)


@settings(max_examples=60, deadline=None)
@given(
    accesses=st.lists(st.tuples(st.integers(0, 15), st.sampled_from(list(Op))), min_size=1,
                      max_size=300),
    sizes=st.lists(st.integers(1, 5), min_size=16, max_size=16),
    capacities=st.tuples(st.integers(3, 20), st.integers(1, 12)),
    policy=st.sampled_from(["lru", "fifo", "clock", "sieve", "lfu", "arc", "2q", "s3fifo"]),
    hierarchy=st.booleans(),
    unit=st.booleans(),
    window=st.integers(1, 60),
)
def test_without_refault_tracking_only_the_refault_figures_change(
    accesses, sizes, capacities, policy, hierarchy, unit, window,
):
    """``track_refaults=False`` (what miss-ratio cells run with) keeps no eviction stamps: on
    the classic loop and on the general path alike, every hit, miss, eviction and placement
    is the same, and refaults, the thrash index and eviction distances read 0 and None."""
    stream = [Access(float(i), p, sizes[p], op) for i, (p, op) in enumerate(accesses)]
    tiers = [TierConfig("L0", capacities[0], policy)]
    if hierarchy:
        tiers.append(TierConfig("L1", capacities[1], "fifo", const(1)))

    def run(track):
        config = SimConfig(tiers=tiers, unit_pages=unit, window_accesses=window)
        sim = Simulation(config, stream, max_events=0, track_refaults=track)
        result = sim.run()
        return result, sim.location, [list(t.policy.keys()) for t in sim.tiers]

    tracked, untracked = run(True), run(False)
    assert untracked[0].refaults == 0 and untracked[0].thrash_index == 0
    assert untracked[0].mean_eviction_distance is None
    same = {"refaults": 0, "thrash_index": 0.0, "mean_eviction_distance": None}
    assert dataclasses.replace(tracked[0], **same) == dataclasses.replace(untracked[0], **same)
    assert tracked[1:] == untracked[1:]


def test_without_refault_tracking_a_thrashing_loop_shows_none():
    """A loop over C+1 pages under LRU refaults on every access once warm (docs/metrics.md);
    untracked, the same run counts the same misses and no refault."""
    loop = [Access(float(i), i % 5) for i in range(100)]
    tracked = Simulation(SimConfig.classic("lru", 4), loop).run()
    untracked = Simulation(SimConfig.classic("lru", 4), loop, track_refaults=False).run()
    assert tracked.refaults == 95 and untracked.refaults == 0
    assert tracked.misses == untracked.misses == 100


class _RawRecorder(Observer):
    wants_events = True
    raw_events = True

    def __init__(self) -> None:
        self.raw: list[tuple] = []

    def on_raw_event(self, raw: tuple) -> None:
        self.raw.append(raw)


@pytest.mark.parametrize("with_plain_observer", [False, True])
def test_raw_event_observers_get_the_events_fields(with_plain_observer):
    """An observer with ``raw_events`` gets each event as the tuple of its fields, alone or
    beside an observer that takes ``Event`` records: the same events, in the same order."""
    stream = [Access(float(i), i % 7, 1, Op.WRITE if i % 5 == 0 else Op.READ)
              for i in range(200)]
    config = SimConfig(tiers=[TierConfig("L0", 4, "lru"), TierConfig("L1", 8, "fifo")],
                       unit_pages=True)
    raw = _RawRecorder()
    plain = Recorder(events=True)
    Simulation(config, stream, observers=[raw, plain] if with_plain_observer else [raw]).run()
    reference = Recorder(events=True)
    Simulation(config, stream, observers=[reference]).run()
    assert reference.events and [Event(*r) for r in raw.raw] == reference.events
    assert plain.events == (reference.events if with_plain_observer else [])
