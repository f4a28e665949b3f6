"""The cost of a whole session (docs/cost.md §6): every figure worked out by hand.

Tokens are counted as words so that the numbers are easy to follow; page overhead is 0. The
system prompt is one page of 1,100 tokens, each user message 10 tokens, each answer 5.
"""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from simulator.llm.costing import SessionCost
from simulator.llm.providers import ScriptedProvider
from simulator.llm.session import ChatSession
from simulator.memory.memory_presets import get_preset
from simulator.memory.pricing import CacheRules, shipped_profile
from simulator.memory.session_memory import MemorySettings

ANSWER = "one two three four five"
_words = itertools.count()


def count(text: str) -> int:
    return len(text.split())


def unique_message(n: int = 10) -> str:
    # distinct words, so that no message is ever relevant to another (no demand faults)
    return " ".join(f"w{next(_words)}" for _ in range(n))


def session(profile: str, *, context_window: int = 8192, preset: str = "vmem",
            ttl: str | None = None, pricing_profile=None) -> ChatSession:
    provider = ScriptedProvider(default=lambda messages: ANSWER, count=count,
                                context_window=16384)
    settings = MemorySettings(context_window=context_window, page_size=1100, page_overhead=0,
                              reserve_tokens=64, prompt_reserve=100, preset=get_preset(preset))
    pricing = SessionCost(pricing_profile or shipped_profile(profile), ttl=ttl)
    return ChatSession(provider, settings, system_prompt=" ".join(["sys"] * 1100),
                       max_tokens=64, pricing=pricing)


def play(chat: ChatSession, times: list[float]):
    return [chat.send(unique_message(), at=at).cost for at in times]


def test_a_prefix_that_stays_is_read_from_the_cache_every_turn():
    # Sonnet 4.5: breakpoint on the last block, write 1.25x of $3, read $0.30, output $15
    costs = play(session("claude-sonnet-4.5"), [0, 30, 60])
    assert [c["prompt_tokens"] for c in costs] == [1110, 1125, 1140]
    # each call reads the whole previous prompt and writes what it added
    assert [c["cache_read_tokens"] for c in costs] == [0, 1110, 1125]
    assert [c["cache_write_tokens"] for c in costs] == [1110, 15, 15]
    assert [c["uncached_tokens"] for c in costs] == [0, 0, 0]
    assert [c["output_tokens"] for c in costs] == [5, 5, 5]
    assert [c["cache_breaks"] for c in costs] == [0, 0, 0]
    # 1110*3.75 + 5*15 = 4237.5; 1110*0.30 + 15*3.75 + 75 = 464.25; 1125*0.30 + 56.25 + 75
    assert [c["usd"] * 1e6 for c in costs] == pytest.approx([4237.5, 464.25, 468.75])


def test_turns_further_apart_than_the_ttl_read_nothing():
    costs = play(session("claude-sonnet-4.5"), [0, 300, 600])  # 5 minutes exactly: expired
    assert [c["cache_read_tokens"] for c in costs] == [0, 0, 0]
    assert [c["cache_write_tokens"] for c in costs] == [1110, 1125, 1140]
    assert [c["expired_tokens"] for c in costs] == [0, 1110, 1125]
    assert [c["cache_breaks"] for c in costs] == [0, 0, 0]


def test_the_one_hour_ttl_keeps_the_prefix_between_slow_turns():
    costs = play(session("claude-sonnet-4.5", ttl="1h"), [0, 600, 1200])
    assert [c["cache_read_tokens"] for c in costs] == [0, 1110, 1125]
    # a 1-hour write is 2x the input price: 15 * 6 = 90 for the new tokens
    assert costs[1]["usd"] * 1e6 == pytest.approx(1110 * 0.30 + 15 * 6 + 5 * 15)


def test_a_prefix_below_the_minimum_is_never_cached():
    # Haiku 4.5 caches from 4,096 tokens: this session's prompts never reach it
    costs = play(session("claude-haiku-4.5"), [0, 30, 60])
    assert all(c["cache_read_tokens"] == c["cache_write_tokens"] == 0 for c in costs)
    assert [c["uncached_tokens"] for c in costs] == [1110, 1125, 1140]
    assert costs[0]["usd"] * 1e6 == pytest.approx(1110 * 1.0 + 5 * 5.0)


def test_an_automatic_cache_reads_in_steps_of_its_granularity():
    # GPT-4.1: cached lengths are 1,024 + whole steps of 128, read at $0.50, input $2
    costs = play(session("gpt-4.1"), [0, 30, 60])
    assert [c["cache_read_tokens"] for c in costs] == [0, 1024, 1024]
    # the first call writes the 1,024 it can cache (no premium), the others add no step
    assert [c["cache_write_tokens"] for c in costs] == [1024, 0, 0]
    assert [c["uncached_tokens"] for c in costs] == [86, 101, 116]
    assert costs[1]["usd"] * 1e6 == pytest.approx(1024 * 0.5 + 101 * 2 + 5 * 8)


def test_an_eviction_breaks_the_cache_at_its_position_and_says_so():
    # budget 1300 - 64 - 100 = 1136: the third message does not fit, LRU evicts the first
    chat = session("gpt-4.1", context_window=1300)
    costs = play(chat, [0, 30, 60])
    assert costs[0]["cache_breaks"] == costs[1]["cache_breaks"] == 0
    assert costs[2]["cache_breaks"] == 1
    (brk,) = costs[2]["breaks"]
    assert brk["block_id"].endswith("t001-user") and brk["cause"] == "evicted"
    # the evicted page was the previous prompt's block 1, after the 1,100-token system page;
    # the previous call had 1,024 tokens cached, which ends before it: nothing lost
    assert (brk["position"], brk["token_offset"], brk["tokens_lost"]) == (1, 1100, 0)
    assert "evicted" in brk["detail"]
    # the system page is still a cached prefix (1,024 of its 1,100 tokens)
    assert costs[2]["cache_read_tokens"] == 1024


def test_a_compaction_names_itself_as_the_cause():
    chat = session("gpt-4.1", context_window=1300, preset="letta")
    costs = play(chat, [0, 30, 60, 90])
    causes = [b["cause"] for c in costs for b in c["breaks"]]
    assert "summarised" in causes


def test_totals_and_state_survive_a_restart():
    chat = session("claude-sonnet-4.5")
    play(chat, [0, 30])
    restored = ChatSession.from_dict(chat.to_dict(), chat.provider)
    a, b = chat.send(unique_message(), at=60), restored.send(unique_message(), at=60)
    assert a.cost["cache_read_tokens"] == b.cost["cache_read_tokens"] == 1125
    totals = restored.totals()["cost"]
    assert totals["pricing"] == "claude-sonnet-4.5" and totals["calls"] == 3
    for key in ("usd", "cache_read_tokens", "cache_write_tokens", "uncached_tokens",
                "output_tokens", "cache_breaks"):
        assert key in totals


def test_no_cache_is_never_cheaper_than_a_cache_without_a_write_premium():
    profile = shipped_profile("gpt-4.1")
    none = dataclasses.replace(profile, name="gpt-4.1-nocache", cache=CacheRules())
    for times in ([0, 30, 60, 90], [0, 400, 800, 1200], [0, 30, 400, 430]):
        for window in (8192, 1300):
            cached = session("gpt-4.1", context_window=window)
            plain = session("gpt-4.1", context_window=window, pricing_profile=none)
            play(cached, times)
            play(plain, times)
            assert (cached.pricing.totals()["usd"]
                    <= plain.pricing.totals()["usd"] + 1e-12)


def _long(preset: str, profile: str = "claude-sonnet-4.5"):
    from simulator.llm.scripts import run_script
    from simulator.llm.synthetic import long_script

    script = long_script(60, context_window=4096, page_size=128)
    return run_script(script, preset=preset,
                      pricing=SessionCost(shipped_profile(profile))).totals()


def test_batch_compaction_and_the_cache_aware_policy_cost_less_than_page_at_a_time():
    page_at_a_time = _long("vmem")
    batch, aware = _long("batch"), _long("cacheaware")
    for totals in (batch, aware):
        assert totals["cost"]["usd"] < 0.7 * page_at_a_time["cost"]["usd"]
        assert totals["cost"]["hit_rate"] > page_at_a_time["cost"]["hit_rate"]
    assert aware["recall_success"] >= batch["recall_success"]
