"""Textbook reference strings and small hand-worked cases, one or more per policy."""

from __future__ import annotations

import pytest

from simulator.engine.policies import make_policy
from simulator.engine.policies.arc import ARC
from simulator.engine.policies.s3fifo import S3FIFO
from simulator.engine.policies.twoq import TwoQ

from .driver import simulate_misses

BELADY = [1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("policy", "frames", "faults"),
    [
        ("fifo", 3, 9),
        ("fifo", 4, 10),  # Belady's anomaly: more frames, more faults
        ("lru", 3, 10),
        ("lru", 4, 8),
        ("opt", 3, 7),
        ("opt", 4, 6),
    ],
)
def test_textbook_reference_string(policy: str, frames: int, faults: int) -> None:
    assert simulate_misses(make_policy(policy, frames), BELADY, check=True) == faults


def run(policy: str, capacity: int, ids: list[int], **params: object) -> tuple[int, list[int]]:
    victims: list[int] = []
    p = make_policy(policy, capacity, **params)
    misses = simulate_misses(p, ids, check=True, victims=victims)
    return misses, victims


def test_lru_evicts_least_recently_used() -> None:
    misses, victims = run("lru", 3, [1, 2, 3, 1, 4, 2, 5])
    # 4 evicts 2 (1 was used after it); 2 comes back evicting 3; 5 evicts 1
    assert victims == [2, 3, 1]
    assert misses == 6


def test_fifo_ignores_hits() -> None:
    _, victims = run("fifo", 3, [1, 2, 3, 1, 1, 4, 5])
    assert victims == [1, 2]


def test_clock_second_chance() -> None:
    # 1 is referenced, so 4 clears its bit and sends it back to the head, then evicts 2;
    # 5 evicts 3; 6 finds 1 (bit now clear) at the tail.
    _, victims = run("clock", 3, [1, 2, 3, 1, 4, 5, 6])
    assert victims == [2, 3, 1]


def test_clock_bit_starts_clear() -> None:
    # no hits at all: CLOCK is FIFO
    _, victims = run("clock", 2, [1, 2, 3, 4])
    assert victims == [1, 2]


def test_clock_two_bit_counter() -> None:
    # with 2 bits, 1's three hits buy it two rounds (counter saturates at 3: 3 -> 2 -> 1 -> 0)
    p = make_policy("clock", 2, bits=2)
    victims: list[int] = []
    simulate_misses(p, [1, 2, 1, 1, 1, 3, 4, 5, 6], check=True, victims=victims)
    assert victims == [2, 3, 4, 1]


def test_sieve_hand_does_not_move_pages() -> None:
    # Same string as the CLOCK case: 4 clears 1's bit but 1 stays at the tail and the hand moves
    # on; 5 evicts 3 and the hand stays at 4, so 6 evicts 4 (CLOCK evicted 1 here).
    _, victims = run("sieve", 3, [1, 2, 3, 1, 4, 5, 6])
    assert victims == [2, 3, 4]


def test_sieve_hand_wraps_to_tail() -> None:
    # all three visited: the hand clears 1, 2, 3, wraps to the tail and evicts 1
    _, victims = run("sieve", 3, [1, 2, 3, 1, 2, 3, 4, 5])
    assert victims == [1, 2]


def test_lfu_counts_hits_and_breaks_ties_by_recency() -> None:
    ids = [1, 2, 3, 2, 4, 3, 4, 5]
    # 4 arrives: counts 1:1 2:2 3:1 -> min count 1, LRU among {1, 3} is 1
    # then 3 and 4 reach 2; 5 arrives: all at 2, the first to reach 2 was 2
    _, victims = run("lfu", 3, ids)
    assert victims == [1, 2]


def test_lfu_forgets_counts_on_eviction() -> None:
    # 1 gets 3 hits, is removed by the tier, comes back with count 1 and is the next victim
    p = make_policy("lfu", 2)
    for key in (1, 1, 1, 1):
        if key in p:
            p.touch(key)
        else:
            p.on_miss(key, 1)
            p.insert(key, 1)
    p.remove(1)
    for key in (1, 2):
        p.on_miss(key, 1)
        p.insert(key, 1)
    p.touch(2)
    assert p.victim() == 1


def test_arc_adapts_p() -> None:
    p = ARC(2)
    victims: list[int] = []
    # 1, 2 -> T1; 1 hit -> T2; 3: REPLACE takes T1's LRU (2) to B1
    simulate_misses(p, [1, 2, 1, 3], victims=victims)
    assert victims == [2] and p.p == 0
    # 2 is a ghost hit in B1: p += max(|B2|/|B1|, 1) = 1; |T1| = 1 == p, not a B2 hit, so T2's
    # LRU (1) goes to B2; 2 enters T2
    p.on_miss(2, 1)
    assert p.p == 1
    victims.append(p.victim())
    p.insert(2, 1)
    # 1 is a ghost hit in B2: p -= 1 -> 0; |T1| = 1 > p, so T1's LRU (3) goes to B1
    p.on_miss(1, 1)
    assert p.p == 0
    victims.append(p.victim())
    p.insert(1, 1)
    assert victims == [2, 1, 3]
    assert sorted(p.keys()) == [1, 2]
    assert list(p.ghost_keys()) == [3]


def test_arc_ghost_hit_is_a_miss_and_p_is_real_valued() -> None:
    p = ARC(4)
    # fill, promote 1 and 2 to T2, push 3 and 4 into B1, then fault 3 back from B1 while
    # |B2| = 0: delta = max(0 / 2, 1) = 1; REPLACE then sends T1's LRU (5) to B1
    ids = [1, 2, 3, 4, 1, 2, 5, 6, 3]
    misses = simulate_misses(p, ids, check=True)
    assert misses == 7  # 1..6 cold, 3 again is a ghost hit = miss
    assert p.p == 1.0
    assert list(p.ghost_keys()) == [4, 5]
    assert sorted(p.keys()) == [1, 2, 3, 6]
    # p moves by real-valued steps: at the last request below, 8 is in B1 while |B1| = 2 and
    # |B2| = 3, so p grows by 3/2, from 2 to 3.5
    p2 = ARC(5)
    simulate_misses(p2, [9, 1, 9, 7, 3, 5, 2, 8, 7, 1, 1, 2, 3, 0, 6, 4], check=True)
    assert (list(p2._b1), list(p2._b2), p2.p) == ([5, 8], [9, 7, 1], 2.0)
    p2.on_miss(8, 1)
    assert p2.p == 3.5


def test_2q_a1in_hit_does_not_move_and_ghost_hit_goes_to_am() -> None:
    q = TwoQ(4)  # Kin = 1, Kout = 2
    assert (q.kin, q.kout) == (1, 2)
    victims: list[int] = []
    # 1..4 fill A1in; 5 evicts 1 (A1in > Kin) into A1out; 1 is a ghost hit: 2 leaves A1in
    # and 1 goes to Am; 3 is hit in A1in (no move); 6 still evicts 3 from A1in
    simulate_misses(q, [1, 2, 3, 4, 5, 1, 3, 6], check=True, victims=victims)
    assert victims == [1, 2, 3]
    assert list(q.ghost_keys()) == [2, 3]
    # Am is LRU: 4 and 5 leave A1in first, then Am's LRU goes
    simulate_misses(q, [7, 8], victims=victims)
    assert victims[3:] == [4, 5]


def test_2q_small_capacity_strict_caches_nothing() -> None:
    # Kin = floor(3/4) = 0 and libCacheSim refuses pages larger than Kin
    assert simulate_misses(make_policy("2q", 3), [1, 1, 1]) == 3
    assert simulate_misses(make_policy("2q", 3, strict=False), [1, 1, 1]) == 1


def test_s3fifo_promotion_ghost_and_main_clock() -> None:
    s = S3FIFO(20)  # small 2, main 18, ghost 18
    victims: list[int] = []
    ids = list(range(1, 21))  # 1, 2 fill small, 3..20 go straight to main (no eviction yet)
    ids += [1, 1]  # 1 reaches frequency 2 while in small
    ids += [21]  # small: 1 is promoted to main, 2 is evicted to the ghost
    ids += [22]  # main holds 19 > 18: main's oldest, 3, is evicted
    ids += [2]  # ghost hit: small evicts 21 (to the ghost), 2 is admitted to main
    simulate_misses(s, ids, check=True, victims=victims)
    assert victims == [2, 3, 21]
    assert list(s.ghost_keys()) == [21]
    assert 2 in s and 1 in s


def test_s3fifo_main_is_a_two_bit_clock() -> None:
    s = S3FIFO(20)
    ids = [*range(1, 21), 3, 3, 3, 3]  # 3 sits in main with 4 hits
    ids += [21, 22, 23, 24, 25]  # small turns over: 1, 2, 21, 22, 23 go to the ghost
    ids += [1]  # ghost hit: small evicts 24, 1 enters main (main now 19 > 18)
    ids += [2]  # ghost hit: main is over its share; 3 (4 hits, capped at 3) goes back to the
    # head with counter 2 and 4, never hit, is evicted
    victims: list[int] = []
    simulate_misses(s, ids, check=True, victims=victims)
    assert victims == [1, 2, 21, 22, 23, 24, 4]
    assert 3 in s
    assert s._freq[3] == 2  # min(4, 3) - 1


def test_s3fifo_small_capacities_follow_libcachesim() -> None:
    # small queue = floor(0.1 c); a new page must be smaller than it, so c < 20 caches nothing
    assert simulate_misses(make_policy("s3fifo", 15), [1, 1, 1]) == 3
    assert simulate_misses(make_policy("s3fifo", 20), [1, 1, 1]) == 1
    assert simulate_misses(make_policy("s3fifo", 5, strict=False), [1, 1, 2, 1]) == 2


def test_opt_evicts_farthest_next_use() -> None:
    _, victims = run("opt", 2, [1, 2, 3, 1, 2, 3])
    # 3 arrives: 1 is next used at 3, 2 at 4 -> evict 2; 2 arrives: 3 at 5, 1 never -> evict 1
    assert victims == [2, 1]


def test_random_is_reproducible_per_seed() -> None:
    ids = [i % 17 for i in range(0, 400, 3)] + list(range(30))
    a = run("random", 5, ids, seed=7)
    b = run("random", 5, ids, seed=7)
    c = run("random", 5, ids, seed=8)
    assert a == b
    assert a[1] != c[1]


def test_working_set_window() -> None:
    ws = make_policy("ws", 4, tau=3)
    simulate_misses(ws, [1, 2, 3, 1])  # now = 3; last refs 1:3 2:1 3:2
    assert ws.now == 3
    assert [ws.in_working_set(k) for k in (1, 2, 3)] == [True, True, True]
    ws.now = 4
    assert not ws.in_working_set(2)  # referenced at 1: 4 - 1 = 3 >= tau
    assert list(ws.expired()) == [2]
    assert ws.victim() == 2  # outside the window, least recently used


def test_working_set_falls_back_to_lru() -> None:
    ws = make_policy("ws", 3, tau=1000)
    _, victims_ws = run("ws", 3, [1, 2, 3, 1, 4, 2, 5], tau=1000)
    _, victims_lru = run("lru", 3, [1, 2, 3, 1, 4, 2, 5])
    assert victims_ws == victims_lru
    assert ws.tau == 1000
