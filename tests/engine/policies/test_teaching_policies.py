"""The policies a course meets (MRU, the worst policy, NRU, aging, enhanced CLOCK) against small
references written here from their textbook rules (libCacheSim has none of them), driven
through the whole engine in classic mode, writes included; and the snapshots every policy gives
a teacher (docs/policies.md, "Seeing a policy's state")."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.engine.access import Access, Op
from simulator.engine.config import SimConfig
from simulator.engine.observers import Recorder
from simulator.engine.policies import make_policy
from simulator.engine.simulation import Simulation
from simulator.engine.traces import next_use_indices

from .driver import simulate_misses

Ref = tuple[int, bool]  # (page, is a write)


def engine_victims(policy: str, frames: int, refs: list[Ref], **params) -> tuple[int, list]:
    """Misses (reads and writes of absent pages) and victims of the engine's classic mode."""
    ids = [p for p, _ in refs]
    accesses = [Access(float(i), p, 1, Op.WRITE if w else Op.READ) for i, (p, w) in
                enumerate(refs)]
    recorder = Recorder(events=True)
    sim = Simulation(SimConfig.classic(policy, frames, params=params), accesses,
                     observers=[recorder], future=next_use_indices(ids))
    result = sim.run()
    victims = [e.page_id for e in recorder.events if e.kind == "evict"]
    return result.requests - result.hits, victims


# --- references: plain lists, the rule as a textbook states it ------------------------------

def ref_mru(frames: int, refs: list[Ref]) -> tuple[int, list]:
    memory: list[int] = []  # least recently used first
    misses, victims = 0, []
    for page, _ in refs:
        if page in memory:
            memory.remove(page)
        else:
            misses += 1
            if len(memory) == frames:
                victims.append(memory.pop())
        memory.append(page)
    return misses, victims


def ref_worst(frames: int, refs: list[Ref]) -> tuple[int, list]:
    ids = [p for p, _ in refs]
    memory: list[int] = []
    last_use: dict[int, int] = {}
    misses, victims = 0, []
    for i, page in enumerate(ids):
        if page not in memory:
            misses += 1
            if len(memory) == frames:
                upcoming = {q: next((j for j in range(i + 1, len(ids)) if ids[j] == q), None)
                            for q in memory}
                # never used again: after every page that is, least recently used first
                victim = min(memory, key=lambda q: (len(ids), last_use[q])
                             if upcoming[q] is None else (upcoming[q], 0))
                memory.remove(victim)
                victims.append(victim)
            memory.append(page)
        last_use[page] = i
    return misses, victims


def ref_nru(frames: int, refs: list[Ref], period: int) -> tuple[int, list]:
    memory: list[int] = []  # load order
    r_bit: dict[int, int] = {}
    m_bit: dict[int, int] = {}
    misses, victims = 0, []
    for i, (page, write) in enumerate(refs):
        if i % period == 0:
            r_bit = dict.fromkeys(r_bit, 0)  # the clock interrupt
        if page not in memory:
            misses += 1
            if len(memory) == frames:
                victim = min(memory, key=lambda q: 2 * r_bit[q] + m_bit[q])
                memory.remove(victim)
                del r_bit[victim], m_bit[victim]
                victims.append(victim)
            memory.append(page)
            m_bit[page] = 0
        r_bit[page] = 1
        if write:
            m_bit[page] = 1
    return misses, victims


def ref_aging(frames: int, refs: list[Ref], bits: int, period: int) -> tuple[int, list]:
    memory: list[int] = []
    counter: dict[int, int] = {}
    r_bit: dict[int, int] = {}
    misses, victims = 0, []
    for i, (page, _) in enumerate(refs):
        if i and i % period == 0:
            for q in memory:
                counter[q] = (counter[q] >> 1) | (r_bit[q] << (bits - 1))
                r_bit[q] = 0
        if page not in memory:
            misses += 1
            if len(memory) == frames:
                victim = min(memory, key=lambda q: (counter[q], r_bit[q]))
                memory.remove(victim)
                victims.append(victim)
            memory.append(page)
            counter[page] = 0
        r_bit[page] = 1
    return misses, victims


def ref_eclock(frames: int, refs: list[Ref]) -> tuple[int, list]:
    """Stallings' enhanced clock on an array of frames and a hand index."""
    slots: list[int | None] = [None] * frames
    use: dict[int, int] = {}
    mod: dict[int, int] = {}
    hand = 0
    misses, victims = 0, []
    for page, write in refs:
        if page not in slots:
            misses += 1
            if None in slots:
                slot = slots.index(None)
                hand = (slot + 1) % frames
            else:
                slot = None
                while slot is None:
                    for _ in range(frames):  # step 1: U=0, M=0, change nothing
                        q = slots[hand]
                        if not use[q] and not mod[q]:
                            slot = hand
                            break
                        hand = (hand + 1) % frames
                    if slot is not None:
                        break
                    for _ in range(frames):  # step 2: U=0, M=1, clear U on the way
                        q = slots[hand]
                        if not use[q] and mod[q]:
                            slot = hand
                            break
                        use[q] = 0
                        hand = (hand + 1) % frames
                victim = slots[slot]
                victims.append(victim)
                del use[victim], mod[victim]
                hand = (slot + 1) % frames
            slots[slot] = page
            mod[page] = 0
        use[page] = 1
        if write:
            mod[page] = 1
    return misses, victims


refs_strategy = st.lists(st.tuples(st.integers(0, 9), st.booleans()), min_size=1, max_size=120)
reads_strategy = st.lists(st.tuples(st.integers(0, 9), st.just(False)), min_size=1,
                          max_size=120)
EXACT = settings(max_examples=80, deadline=None)


@EXACT
@given(refs=reads_strategy, frames=st.integers(1, 6))
def test_mru(refs, frames):
    assert engine_victims("mru", frames, refs) == ref_mru(frames, refs)


@EXACT
@given(refs=reads_strategy, frames=st.integers(1, 6))
def test_worst(refs, frames):
    assert engine_victims("worst", frames, refs) == ref_worst(frames, refs)


@EXACT
@given(refs=refs_strategy, frames=st.integers(1, 6), period=st.integers(1, 8))
def test_nru(refs, frames, period):
    assert engine_victims("nru", frames, refs, period=period) == ref_nru(frames, refs, period)


@EXACT
@given(refs=reads_strategy, frames=st.integers(1, 6), bits=st.integers(1, 8),
       period=st.integers(1, 8))
def test_aging(refs, frames, bits, period):
    ours = engine_victims("aging", frames, refs, bits=bits, period=period)
    assert ours == ref_aging(frames, refs, bits, period)


def skewed(picks: list[int], universe: int) -> list[int]:
    """Pages 0 .. universe - 1, a few hot and most rarely seen (page ⌊u·x³⌋ for x uniform)."""
    return [int(universe * (x / 10**6) ** 3) for x in picks]


MANY_FRAMES = settings(max_examples=60, deadline=None)
picks_strategy = st.lists(st.integers(0, 10**6 - 1), min_size=100, max_size=600)


@MANY_FRAMES
@given(picks=picks_strategy, frames=st.integers(8, 40), extra=st.integers(1, 160),
       bits=st.integers(1, 8), period=st.integers(1, 6))
def test_aging_with_many_frames(picks, frames, extra, bits, period):
    """More frames than a course uses, on skewed references over more pages than frames:
    pages long unreferenced and pages referenced lately are both resident, so the victim is
    found both ways (the first forgotten page in load order, or the least counter among
    recent ones)."""
    refs = [(page, False) for page in skewed(picks, frames + extra)]
    ours = engine_victims("aging", frames, refs, bits=bits, period=period)
    assert ours == ref_aging(frames, refs, bits, period)


@MANY_FRAMES
@given(picks=picks_strategy, frames=st.integers(8, 40), extra=st.integers(1, 160),
       period=st.integers(1, 12), writes=st.lists(st.booleans(), min_size=1, max_size=10))
def test_nru_with_many_frames(picks, frames, extra, period, writes):
    """As for aging, with writes from none to all, so that victims come from every class,
    clean and dirty pages referenced lately are passed over, and dirty pages leave in load
    order."""
    refs = [(page, writes[k % len(writes)])
            for k, page in enumerate(skewed(picks, frames + extra))]
    assert engine_victims("nru", frames, refs, period=period) == ref_nru(frames, refs, period)


@EXACT
@given(refs=refs_strategy, frames=st.integers(1, 6))
def test_enhanced_clock(refs, frames):
    assert engine_victims("eclock", frames, refs) == ref_eclock(frames, refs)


# --- hand-worked cases -----------------------------------------------------------------------

def test_mru_beats_lru_on_a_loop():
    loop = [(p, False) for p in [1, 2, 3, 4] * 5]
    assert engine_victims("lru", 3, loop)[0] == 20  # every access misses
    # worked by hand: misses at 1 2 3 4 (cold; 4 evicts 3), then 3, 2, 1, 4, 3 (evicting
    # 2, 1, 4, 3, 2): one miss every third access once the loop runs
    assert engine_victims("mru", 3, loop) == (9, [3, 2, 1, 4, 3, 2])


def test_worst_on_belady_string():
    belady = [(p, False) for p in [1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5]]
    # OPT 7 faults with 3 frames; the worst policy evicts what comes next and faults each time
    assert engine_victims("worst", 3, belady)[0] == 12
    assert engine_victims("opt", 3, belady)[0] == 7


def test_enhanced_clock_prefers_clean_pages():
    # 1 written (dirty), 2 and 3 read; all use bits set. 4: step 1 finds nothing, step 2
    # clears every use bit and finds no U=0,M=1; step 1 again takes 2 (clean, first from hand)
    refs = [(1, True), (2, False), (3, False), (4, False)]
    assert engine_victims("eclock", 3, refs)[1] == [2]
    assert engine_victims("clock", 3, refs)[1] == [1]


def test_nru_class_order():
    # period 2: before access 2 the R bits clear; 1 is written (class 1), 2 is clean (0)
    refs = [(1, True), (2, False), (3, False), (4, False)]
    assert engine_victims("nru", 3, refs, period=2)[1] == [2]


def test_aliases():
    assert make_policy("UNOPT", 3).name == "worst"
    assert make_policy("enhanced-second-chance", 3).name == "eclock"


# --- snapshots -------------------------------------------------------------------------------

VICTIM_FIRST = ["fifo", "lru", "lfu", "opt", "worst", "nru", "aging"]


@settings(max_examples=40, deadline=None)
@given(ids=st.lists(st.integers(0, 8), min_size=1, max_size=60), frames=st.integers(1, 5),
       policy=st.sampled_from([*VICTIM_FIRST, "mru"]))
def test_snapshot_names_the_next_victim(ids, frames, policy):
    """The order a snapshot shows is the rule's: its first page (MRU: its last) is the one a
    fault would evict now."""
    p = make_policy(policy, frames)
    simulate_misses(p, ids, check=True)
    if policy in ("opt", "worst"):
        p.set_next_use(float("inf"))
    state = p.snapshot()
    assert sorted(state.order) == sorted(p.keys())
    if not state.order:
        return
    expected = state.order[-1] if policy == "mru" else state.order[0]
    assert copy.deepcopy(p).victim() == expected


def test_clock_snapshot_shows_bits_and_hand():
    p = make_policy("clock", 3)
    simulate_misses(p, [1, 2, 3, 1])
    state = p.snapshot()
    assert state.order == (1, 2, 3) and state.extra["hand"] == 1
    assert dict(state.marks) == {1: 1, 2: 0, 3: 0}
    assert state.to_dict()["marks"] == [[1, 1], [2, 0], [3, 0]]


def test_opt_snapshot_next_uses():
    p = make_policy("opt", 3)
    simulate_misses(p, [1, 2, 3, 1, 2])  # after access 2: 1 next at 3, 2 next at 4, 3 never
    # simulate_misses ran to the end: every next use is "never"
    assert set(p.snapshot().marks.values()) == {None}
    q = make_policy("opt", 3)
    simulate_misses(q, [1, 2, 3])  # ran alone, the driver sees no future beyond the list
    assert q.snapshot().marks == {1: None, 2: None, 3: None}


@pytest.mark.parametrize("policy", ["arc", "2q", "s3fifo", "random", "sieve", "ws"])
def test_every_policy_snapshots(policy):
    p = make_policy(policy, 4)
    simulate_misses(p, [1, 2, 3, 1, 4, 5, 1])
    assert sorted(p.snapshot().order) == sorted(p.keys())


@settings(max_examples=40, deadline=None)
@given(ids=st.lists(st.integers(0, 8), min_size=1, max_size=60), frames=st.integers(2, 6),
       policy=st.sampled_from(["arc", "2q", "s3fifo"]))
def test_queue_policies_show_their_queues_and_ghosts(ids, frames, policy):
    """ARC, 2Q and S3-FIFO show which queue holds each resident page and the ghosts they
    keep (never a resident page), as their own lists hold them."""
    p = make_policy(policy, frames, **({"strict": False} if policy != "arc" else {}))
    simulate_misses(p, ids)
    state = p.snapshot()
    assert sorted(state.order) == sorted(p.keys())
    ghosts = {"arc": ("B1", "B2"), "2q": ("A1out",), "s3fifo": ("ghost",)}[policy]
    for name in ghosts:
        assert not set(state.extra[name]) & set(state.order)
    queues = {"arc": ("_t1", "_t2"), "2q": ("_a1in", "_am"), "s3fifo": ("_small", "_main")}
    first, second = (list(getattr(p, q)) for q in queues[policy])
    assert list(state.order) == first + second


def test_arc_snapshot_hand_worked():
    """c = 2: 1 and 2 enter T1; 1 again moves to T2; 3 misses and REPLACE (|T1| = 1 > p = 0)
    sends T1's least recent page, 2, to the ghost list B1."""
    p = make_policy("arc", 2)
    simulate_misses(p, [1, 2, 1, 3])
    state = p.snapshot()
    assert state.order == (3, 1) and dict(state.marks) == {3: "T1", 1: "T2"}
    assert state.extra["B1"] == [2] and state.extra["B2"] == [] and state.extra["p"] == 0
