"""Paging explained step by step (simulator.engine.explain): the frame table is the engine's
classic mode, reference for reference, and the textbook numbers come out."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.engine.access import Access
from simulator.engine.config import SimConfig
from simulator.engine.errors import ConfigError
from simulator.engine.explain import (
    MAX_REFS,
    Ref,
    explain,
    faults_by_frames,
    format_refs,
    parse_refs,
    random_refs,
)
from simulator.engine.observers import Recorder
from simulator.engine.policies import make_policy
from simulator.engine.simulation import Simulation
from simulator.engine.traces import next_use_indices

from .policies.driver import simulate_misses

BELADY = parse_refs("1,2,3,4,1,2,5,1,2,3,4,5")
TEACHING = ["fifo", "lru", "opt", "mru", "lfu", "clock", "random", "worst", "eclock", "nru",
            "aging", "sieve", "arc"]


@settings(max_examples=60, deadline=None)
@given(ids=st.lists(st.integers(0, 7), min_size=1, max_size=60), frames=st.integers(1, 5),
       policy=st.sampled_from(TEACHING))
def test_hits_and_victims_are_the_engines(ids, frames, policy):
    """One source of truth: every step's hit or fault is the fault event of a whole run of the
    engine on the same string, and the victims are the policy's own, in order."""
    refs = [Ref(str(i)) for i in ids]
    shown = explain(refs, policy, frames)
    recorder = Recorder(events=True)
    accesses = [Access(float(i), str(p)) for i, p in enumerate(ids)]
    result = Simulation(SimConfig.classic(policy, frames), accesses, observers=[recorder],
                        future=next_use_indices([str(i) for i in ids])).run()
    faulted = {e.index for e in recorder.events if e.kind == "fault"}
    assert [not s.hit for s in shown.steps] == [i in faulted for i in range(len(ids))]
    assert shown.misses == result.faults
    victims: list = []
    simulate_misses(make_policy(policy, frames), [str(i) for i in ids], victims=victims)
    assert [v for s in shown.steps for v in s.evicted] == victims
    for step in shown.steps:  # the frames hold what the policy holds
        assert sorted(p for p in step.frames if p) == sorted(map(str, step.state.order))
    for before, after in itertools.pairwise(shown.steps):  # a page keeps its frame
        moved = [k for k, page in enumerate(before.frames)
                 if page is not None and page in after.frames and after.frames[k] != page]
        assert moved == []


def test_pages_keep_their_frame():
    steps = explain(BELADY, "fifo", 3).steps
    assert [s.frames for s in steps[:5]] == [
        ("1", None, None), ("1", "2", None), ("1", "2", "3"), ("4", "2", "3"),
        ("4", "1", "3")]


@pytest.mark.parametrize(("policy", "curve"), [
    ("fifo", [12, 12, 9, 10, 5, 5]),  # Belady's anomaly: 4 frames fault more than 3
    ("lru", [12, 12, 10, 8, 5, 5]),
    ("opt", [12, 9, 7, 6, 5, 5]),  # worked by hand: 2 frames: 1 2 3 4 2 5 2 3 4 miss
])
def test_belady_curves(policy, curve):
    assert faults_by_frames(BELADY, policy, 6) == curve


def test_the_sentence_says_why():
    steps = explain(parse_refs("1 2 3 1 4"), "lru", 3).steps
    assert steps[4].why == ("4 is not in memory: a fault. LRU evicts 2: its last use, at "
                            "reference 2, is the oldest.")
    opt = explain(BELADY, "opt", 3).steps
    assert opt[6].why.endswith("OPT evicts 4: its next use, at reference 11, is the farthest.")
    assert explain(BELADY, "fifo", 3).steps[0].why == (
        "1 is not in memory: a fault, and a free frame takes it.")


def test_json_shape():
    data = explain(parse_refs("1,2,3,4,1,2,5"), "fifo", 3).to_dict()
    assert (data["hits"], data["misses"]) == (0, 7)
    first = data["steps"][0]
    assert (first["ref"], first["hit"], first["victim"], first["frames"]) == (
        "1", False, None, ["1"])
    assert data["steps"][3]["victim"] == "1"


def test_writes_reach_the_dirty_bit():
    steps = explain(parse_refs("1* 2 3 4"), "eclock", 3).steps
    assert steps[3].victim == "2"
    assert dict(steps[2].state.marks)["1"] == "U1 M1"


def test_parse_and_format_round_trip():
    refs = parse_refs(" 1, 2;3*  a7 ")
    assert refs == [Ref("1"), Ref("2"), Ref("3", True), Ref("a7")]
    assert parse_refs(format_refs(refs)) == refs


@pytest.mark.parametrize(("text", "words"), [
    ("", "at least one"),
    (",".join(["1"] * (MAX_REFS + 1)), f"at most {MAX_REFS}"),
    ("1,2,toolongpage", "reference 3"),
    ("1,<b>", "reference 2"),
])
def test_bad_strings_name_the_field(text, words):
    with pytest.raises(ConfigError) as caught:
        parse_refs(text)
    assert caught.value.field == "refs" and words in caught.value.message


def test_bad_arguments():
    with pytest.raises(ConfigError) as caught:
        explain(BELADY, "lru", 0)
    assert caught.value.field == "frames"
    with pytest.raises(ConfigError) as caught:
        explain(BELADY, "nope", 3)
    assert caught.value.field == "policy"
    with pytest.raises(ConfigError) as caught:
        random_refs(MAX_REFS + 1, 5, 0)
    assert caught.value.field == "random"


def test_random_strings_are_seeded():
    assert random_refs(10, 5, 3) == random_refs(10, 5, 3)
    assert random_refs(10, 5, 3) != random_refs(10, 5, 4)
    assert {r.page for r in random_refs(200, 5, 0)} <= {"0", "1", "2", "3", "4"}


def test_thrashing_rises_then_collapses():
    """Worked by hand: a session alone waits for its 5 cold faults one after the other (50 ms
    for 200 reads: 4,000 reads/s); up to 4 sessions (20 pages in 24 frames) fault in parallel
    on the 4 channels; the 5th makes 25 pages: LRU on interleaved loops then faults on every
    read and the channels serve 4 faults per 10 ms: 400 reads/s, whatever the sessions."""
    from simulator.engine.explain import thrashing_curve

    points = thrashing_curve(7)
    assert [p["throughput"] for p in points] == [4000, 8000, 12000, 16000, 400, 400, 400]
    assert [p["faults"] for p in points[:5]] == [5, 10, 15, 20, 1000]


def test_a_page_an_admission_rule_refuses_is_served_not_kept():
    """Strict S3-FIFO with 3 frames keeps no new page: every reference faults, no frame takes
    the page, and the sentence says so (it said a free frame took it)."""
    shown = explain(parse_refs("1,2,1"), "s3fifo", 3)
    assert [s.hit for s in shown.steps] == [False, False, False]
    assert all(not s.kept and s.frames == (None, None, None) for s in shown.steps)
    assert shown.steps[0].why == ("1 is not in memory: a fault, and S3-FIFO does not keep it: "
                                  "its admission rule refuses the page at this size.")
    assert shown.steps[0].to_dict()["kept"] is False
    lru = explain(parse_refs("1,2,1"), "lru", 3)
    assert [s.kept for s in lru.steps] == [True, True, True]
    assert lru.steps[0].why == "1 is not in memory: a fault, and a free frame takes it."
