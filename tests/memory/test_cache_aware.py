"""Cache-aware memory (docs/sessions.md, "Cache-aware memory"): the policy's score worked out
by hand, stable packing's order, and what the presets save on a long session."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.engine.policies import make_policy
from simulator.memory.memory_presets import get_preset
from simulator.memory.session_memory import MemorySettings, SessionMemory

from .scored_ops import operations, replay_against_scan


def _three_pages(**weights):
    policy = make_policy("cacheaware", 100, **weights)
    for now, key in enumerate("abc"):
        policy.now = now
        policy.insert(key, 10)
    policy.now = 3
    policy.touch("a")
    return policy


def test_only_the_cache_term_evicts_the_tail():
    policy = _three_pages(w_cache=1, w_recency=0, w_frequency=0, w_kind=0, w_importance=0)
    # tokens after a, b, c in arrival order: 20, 10, 0 of 30
    assert [policy.cache_share(k) for k in "abc"] == [0.0, 0.0, 0.0]  # before an eviction
    assert policy.victim() == "c"


def test_recency_alone_is_lru():
    policy = _three_pages(w_cache=0, w_recency=1, w_frequency=0, w_kind=0, w_importance=0,
                          half_life=1)
    assert policy.victim() == "b"


def test_recall_value_against_the_cache_by_hand():
    # half_life 1 at now 3: recency a 1 (just used), b 1/(1+2) = 1/3, c 1/(1+1) = 1/2;
    # cache share a 20/30, b 10/30, c 0: keep a 1.667, b 0.667, c 0.5 -> c goes
    policy = _three_pages(w_cache=1, w_recency=1, w_frequency=0, w_kind=0, w_importance=0,
                          half_life=1)
    policy._prepare()
    assert [policy.keep_score(k) for k in "abc"] == pytest.approx([5 / 3, 2 / 3, 0.5])
    assert policy.victim() == "c"


@settings(max_examples=80, deadline=None)
@given(ops=operations(lowest_level=1), room=st.integers(4, 60),
       half_life=st.sampled_from([1.0, 5.0, 50.0]), freq_cap=st.sampled_from([1, 2, 8]),
       w_cache=st.sampled_from([0.0, 0.5, 3.0]))
def test_the_arrays_choose_the_victim_a_scan_of_every_page_would(ops, room, half_life,
                                                                 freq_cap, w_cache):
    """Whatever the sizes, uses, kinds, importances, spares and removals, the victim ranked
    in NumPy is the one a scan of every resident page in Python finds (same floats: ties
    included), and the arrays stay within four times the most pages resident at once."""
    policy = make_policy("cacheaware", room, half_life=half_life, freq_cap=freq_cap,
                         w_cache=w_cache)
    most = [0]

    def bounded(policy) -> None:
        most[0] = max(most[0], len(policy))
        assert len(policy._arrivals.arrays["size"]) <= max(64, 4 * most[0])

    replay_against_scan(policy, ops, room, sized=True, after_each=bounded)


def test_ties_go_to_the_least_recently_used():
    # equal sizes, no recency or cache term: every keep score is the same
    policy = make_policy("cacheaware", 100, w_cache=0, w_recency=0, w_frequency=0)
    for now, key in enumerate(["message:b", "message:a", "message:c"]):
        policy.now = now
        policy.insert(key, 10)
    policy.now = 3
    policy.touch("message:b")
    assert policy.victim() == "message:a"


def test_a_negative_weight_is_refused():
    from simulator.engine import ConfigError

    with pytest.raises(ConfigError):
        make_policy("cacheaware", 100, w_cache=-1)


def _memory(preset: str) -> SessionMemory:
    settings = MemorySettings(context_window=400, page_size=40, page_overhead=0,
                              reserve_tokens=40, prompt_reserve=40, preset=get_preset(preset))
    memory = SessionMemory(settings, count=lambda text: len(text.split()))
    memory.add_system("sys " * 20)
    return memory


@pytest.mark.parametrize(("preset", "kept"), [("vmem", False), ("stable", True)])
def test_a_page_faulted_back_keeps_the_prompt_a_prefix_only_with_stable_packing(preset, kept):
    memory = _memory(preset)
    for k in range(12):
        # words of its own in every message: none is relevant to another (no demand paging)
        memory.begin_turn(" ".join(f"w{k}x{j}" for j in range(30)))
        memory.context()
        memory.add_answer(" ".join(f"a{k}x{j}" for j in range(5)))
    first = "message:t001-user"
    assert not memory.in_l0(first)
    before = [p.id for p in memory.context()]
    ok, _ = memory.fault(first)
    assert ok
    order = [p.id for p in memory.context()]
    assert order[0].startswith("system:") and first in order
    # the fault evicted a page to make room; stable: the pages still there keep their order
    # as the prompt's prefix and the page comes after them; kinds: it goes back to its turn
    survivors = [pid for pid in before if pid in order]
    assert (order[:len(survivors)] == survivors) is kept


def test_presets_are_listed_and_valid():
    for name in ("stable", "batch", "cacheaware"):
        preset = get_preset(name)
        assert preset.packing == "stable"
    assert get_preset("batch").compact_at == 0.9 and get_preset("batch").compact_to == 0.6
    assert get_preset("cacheaware").policy == "cacheaware"
    assert get_preset("vmem").packing == "kinds"
