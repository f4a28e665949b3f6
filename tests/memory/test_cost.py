"""The prompt-cache cost model: hand-worked calls for each provider shape (docs/cost.md), an
independent brute-force oracle for automatic prefix caching, and the properties of issue 12."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.engine.errors import ConfigError
from simulator.memory.cost import Block, CostModel
from simulator.memory.pricing import CacheRules

from .cost_profiles import ANTHROPIC, GEMINI, OPENAI, without_cache

M = 1_000_000
SYSTEM = Block("system:prompt", 2000)


def conversation(turns: int, *, first=SYSTEM, user=100, assistant=60):
    """The prompt of each turn of an append-only chat: system, then user/assistant pairs."""
    blocks = [first]
    prompts = []
    for t in range(turns):
        blocks = [*blocks, Block(f"message:t{t:03d}-user", user)]
        prompts.append(list(blocks))
        blocks = [*blocks, Block(f"message:t{t:03d}-assistant", assistant)]
    return prompts


# --- Anthropic: explicit breakpoints ---------------------------------------------------------

def test_anthropic_a_prefix_that_stays_is_written_once_then_read():
    model = CostModel(ANTHROPIC)
    first, second = conversation(2)
    one = model.call(first, output_tokens=60)
    # 2,100 tokens written at 1.25 x $3 (the breakpoint is on the last block); 60 out at $15
    assert (one.cache_read_tokens, one.cache_write_tokens, one.uncached_tokens) == (0, 2100, 0)
    assert one.usd == pytest.approx(2100 * 3.75 / M + 60 * 15 / M)
    two = model.call(second, output_tokens=60, at=60)
    # the whole first prompt is read at $0.30; the new 160 tokens are written at $3.75
    assert (two.cache_read_tokens, two.cache_write_tokens, two.uncached_tokens) == (2100, 160, 0)
    assert two.usd == pytest.approx(2100 * 0.3 / M + 160 * 3.75 / M + 60 * 15 / M)
    assert two.cache_break is None
    assert two.usd_no_cache == pytest.approx(2260 * 3 / M + 60 * 15 / M)


def test_anthropic_a_break_at_position_p_loses_everything_after_the_last_entry_before_p():
    prompts = conversation(3)
    evicted = [p for p in prompts[2] if p.id != "message:t000-user"]

    trailing = CostModel(ANTHROPIC)  # one breakpoint, on the last block
    trailing.call(prompts[0])
    trailing.call(prompts[1], at=10)
    third = trailing.call(evicted, at=20, removed={"message:t000-user": "evicted"})
    # entries exist only at earlier breakpoints (2,100 and 2,260 tokens): both contain the
    # evicted message, so nothing can be read
    assert third.cache_read_tokens == 0 and third.cache_write_tokens == 2000 + 60 + 100 + 60 + 100
    brk = third.cache_break
    assert (brk.position, brk.token_offset, brk.block_id, brk.cause) == (
        1, 2000, "message:t000-user", "evicted")
    assert brk.tokens_lost == 2260 - 2000

    pinned = CostModel(ANTHROPIC)  # a second breakpoint on the system prompt
    pinned.call(prompts[0], breakpoints=[0, 1])
    pinned.call(prompts[1], at=10, breakpoints=[0, 3])
    third = pinned.call(evicted, at=20, breakpoints=[0, len(evicted) - 1])
    assert (third.cache_read_tokens, third.cache_write_tokens) == (2000, 320)
    assert third.cache_break.cause == "removed"  # the caller said nothing about why


def test_anthropic_ttl_expires_between_turns_unless_the_hour_option_is_taken():
    first, second = conversation(2)
    five = CostModel(ANTHROPIC)
    five.call(first)
    late = five.call(second, at=301)
    assert late.cache_read_tokens == 0 and late.expired_tokens == 2100
    assert late.cache_write_tokens == 2260 and late.cache_break is None

    hour = CostModel(ANTHROPIC, ttl="1h")
    hour.call(first)
    late = hour.call(second, at=301)
    assert late.cache_read_tokens == 2100 and late.expired_tokens == 0
    assert late.usd == pytest.approx(2100 * 0.3 / M + 160 * 6.0 / M)  # 1-hour writes at 2x


def test_anthropic_a_hit_refreshes_the_entry():
    prompt = conversation(1)[0]
    refreshed = CostModel(ANTHROPIC)
    fixed = CostModel(replace(ANTHROPIC, cache=replace(ANTHROPIC.cache, refresh_on_hit=False)))
    for model in (refreshed, fixed):
        model.call(prompt, at=0)
        assert model.call(prompt, at=200).cache_read_tokens == 2100
    assert refreshed.call(prompt, at=400).cache_read_tokens == 2100  # 200 s after its hit
    again = fixed.call(prompt, at=400)  # 400 s after it was written
    assert again.cache_read_tokens == 0 and again.cache_write_tokens == 2100


def test_anthropic_a_prefix_below_the_minimum_is_never_cached():
    small = conversation(2, first=Block("system:prompt", 500))
    model = CostModel(ANTHROPIC)
    one = model.call(small[0])
    two = model.call(small[1], at=5)
    assert one.cache_write_tokens == two.cache_write_tokens == two.cache_read_tokens == 0
    assert two.uncached_tokens == 760
    assert two.usd == pytest.approx(760 * 3 / M)


def test_anthropic_breakpoints_are_at_most_four_and_look_back_twenty_blocks():
    model = CostModel(ANTHROPIC)
    prompt = [SYSTEM, *[Block(f"b{i}", 10) for i in range(40)]]
    with pytest.raises(ConfigError) as err:
        model.call(prompt, breakpoints=[0, 1, 2, 3, 4])
    assert err.value.field == "breakpoints"
    with pytest.raises(ConfigError, match="past the prompt"):
        model.call(prompt, breakpoints=[41])

    model.call(prompt[:11])  # an entry at block 10
    within = model.call(prompt[:31], at=1)  # last block 30: block 10 is 20 boundaries back
    assert within.cache_read_tokens == 2100
    model = CostModel(ANTHROPIC)
    model.call(prompt[:11])
    beyond = model.call(prompt[:32], at=1)  # 21 back: out of reach
    assert beyond.cache_read_tokens == 0 and beyond.cache_write_tokens == 2310
    model = CostModel(ANTHROPIC)
    model.call(prompt[:11])
    helped = model.call(prompt[:32], at=1, breakpoints=[20, 31])  # a second breakpoint reaches it
    assert helped.cache_read_tokens == 2100 and helped.cache_write_tokens == 210


# --- OpenAI: automatic prefix caching in 128-token steps ----------------------------------------

def test_openai_a_prefix_that_stays_is_read_in_128_token_steps():
    model = CostModel(OPENAI)
    first = [Block("system:prompt", 1500), Block("u1", 100)]
    one = model.call(first, output_tokens=50)
    # 1,600 tokens: cached up to 1,024 + 4 x 128 = 1,536; no write premium
    assert (one.cache_read_tokens, one.cache_write_tokens, one.uncached_tokens) == (0, 1536, 64)
    assert one.usd == pytest.approx(1600 * 2 / M + 50 * 8 / M)
    two = model.call([*first, Block("a1", 50), Block("u2", 100)], at=30)
    assert (two.cache_read_tokens, two.cache_write_tokens, two.uncached_tokens) == (1536, 128, 86)
    assert two.usd == pytest.approx(1536 * 0.5 / M + 214 * 2 / M)


def test_openai_a_break_at_position_p_reads_up_to_p_rounded_down():
    model = CostModel(OPENAI)
    system, u1, a1, u2 = (Block("system:prompt", 1500), Block("u1", 100), Block("a1", 50),
                          Block("u2", 100))
    model.call([system, u1])
    model.call([system, u1, a1, u2], at=30)
    third = model.call([system, a1, u2, Block("a2", 50), Block("u3", 10)], at=60,
                       removed={"u1": "evicted"})
    assert third.cache_read_tokens == 1408  # 1,500 rounded down to 1,024 + 3 x 128
    assert third.cache_break.cause == "evicted" and third.cache_break.position == 1
    assert third.cache_break.tokens_lost == 1664 - 1500


def test_openai_the_ttl_boundary_expires_exactly_at_the_ttl():
    prompt = [Block("system:prompt", 2000)]
    just = CostModel(OPENAI)
    just.call(prompt, at=0)
    assert just.call(prompt, at=299.9).cache_read_tokens == 1920
    late = CostModel(OPENAI)
    late.call(prompt, at=0)
    expired = late.call(prompt, at=300)
    assert expired.cache_read_tokens == 0 and expired.expired_tokens == 1920


@pytest.mark.parametrize(("tokens", "cached"), [(1000, 0), (1023, 0), (1024, 1024), (1151, 1024),
                                                 (1152, 1152), (5000, 4992)])
def test_openai_minimum_and_granularity(tokens, cached):
    call = CostModel(OPENAI).call([Block("p", tokens)])
    assert call.cache_write_tokens == cached
    assert call.uncached_tokens == tokens - cached


# --- Gemini: implicit caching, explicit caches with storage, long prompts ----------------------

def test_gemini_implicit_reads_the_exact_prefix_above_its_minimum():
    model = CostModel(GEMINI)
    model.call([Block("doc", 3000), Block("q1", 37)])
    two = model.call([Block("doc", 3000), Block("q1", 37), Block("q2", 41)], at=10)
    assert two.cache_read_tokens == 3037 and two.uncached_tokens == 0
    small = CostModel(GEMINI)
    small.call([Block("doc", 2000)])
    assert small.call([Block("doc", 2000), Block("q", 10)], at=1).cache_read_tokens == 0


def test_gemini_explicit_cache_bills_creation_storage_and_reads():
    model = CostModel(GEMINI, use_explicit_cache=True)
    doc = Block("document:manual", 3000)
    one = model.call([doc, Block("q1", 40)], breakpoints=[0], output_tokens=100)
    # made at the input price, read by the same call at the cached price, stored for its hour
    assert (one.cache_write_tokens, one.cache_read_tokens, one.uncached_tokens) == (3000, 0, 40)
    assert one.storage_usd == pytest.approx(3000 * 1 * 4.5 / M)
    assert one.usd == pytest.approx(3000 * (1.25 + 0.125) / M + 40 * 1.25 / M + 100 * 10 / M
                                    + 3000 * 4.5 / M)
    two = model.call([doc, Block("q2", 50)], breakpoints=[0], at=600)
    assert (two.cache_read_tokens, two.cache_write_tokens, two.storage_usd) == (3000, 0, 0.0)
    assert two.cache_break.cause == "removed"  # q1 is gone (it was after the cache)
    gone = model.call([doc, Block("q3", 50)], breakpoints=[0], at=3600)  # its hour is over
    assert gone.cache_read_tokens == 0 and gone.cache_write_tokens == 3000
    assert gone.storage_usd == pytest.approx(3000 * 4.5 / M)
    nothing = model.call([doc, Block("q4", 5)], at=3700)  # no breakpoint: no explicit cache
    assert nothing.cache_read_tokens == nothing.cache_write_tokens == 0
    with pytest.raises(ConfigError, match="at most 1"):
        model.call([doc, Block("q5", 5)], breakpoints=[0, 1], at=3800)


def test_long_prompts_are_billed_at_the_long_prompt_rates():
    model = CostModel(without_cache(GEMINI))
    short = model.call([Block("p", 200_000)], output_tokens=10)
    assert short.usd == pytest.approx(200_000 * 1.25 / M + 10 * 10 / M)
    long = model.call([Block("p", 200_001)], output_tokens=10, at=1)
    assert long.usd == pytest.approx(200_001 * 2.5 / M + 10 * 15 / M)


# --- cache breaks and their causes ---------------------------------------------------------

@pytest.mark.parametrize(("after", "kwargs", "cause", "block"), [
    (["a", "B", "c"], {}, "compressed", "b"),
    (["a", "c", "b"], {}, "reordered", "b"),
    (["a", "x", "b", "c"], {}, "inserted", "x"),
    (["a", "c"], {}, "removed", "b"),
    (["a", "c"], {"removed": {"b": "summarised"}}, "summarised", "b"),
])
def test_cache_break_causes(after, kwargs, cause, block):
    blocks = {"a": Block("a", 1500), "b": Block("b", 300), "c": Block("c", 200),
              "x": Block("x", 50), "B": Block("b", 80, version="1", change="compressed")}
    model = CostModel(OPENAI)
    model.call([blocks[k] for k in ("a", "b", "c")])
    call = model.call([blocks[k] for k in after], at=1, **kwargs)
    assert call.cache_break.cause == cause and call.cache_break.block_id == block
    assert call.cache_break.position == 1 and call.cache_break.token_offset == 1500
    assert block in call.cache_break.detail


def test_a_changed_block_without_a_reason_is_changed_and_appending_is_no_break():
    model = CostModel(OPENAI)
    model.call([Block("a", 1500), Block("b", 300)])
    assert model.call([Block("a", 1500), Block("b", 300), Block("c", 1)], at=1).cache_break is None
    changed = model.call([Block("a", 1500), Block("b", 300, version="v2")], at=2)
    assert changed.cache_break.cause == "changed"


# --- no caching, validation, state, bounds -----------------------------------------------------

def test_a_profile_without_caching_bills_everything_at_the_input_price():
    model = CostModel(without_cache(ANTHROPIC))
    for call in (model.call(p, output_tokens=20, at=i) for i, p in enumerate(conversation(3))):
        assert call.cache_read_tokens == call.cache_write_tokens == 0
        assert call.usd == pytest.approx(call.usd_no_cache)
    with pytest.raises(ConfigError):
        model.call([SYSTEM], breakpoints=[0], at=10)


@pytest.mark.parametrize(("blocks", "kwargs", "field"), [
    ([{"id": "a", "tokens": -1}], {}, "blocks[0].tokens"),
    ([Block("a", -1)], {}, "blocks[0].tokens"),
    ([Block("a", True)], {}, "blocks[0].tokens"),
    ([Block("a", 5, change=3)], {}, "blocks[0].change"),
    ([{"id": "a", "tokens": 1.5}], {}, "blocks[0].tokens"),
    ([{"id": "", "tokens": 1}], {}, "blocks[0].id"),
    ([{"id": "a", "tokens": 1, "colour": "red"}], {}, "blocks[0]"),
    ([{"id": "a", "tokens": 1}, {"id": "a", "tokens": 2}], {}, "blocks[1].id"),
    (["a"], {}, "blocks[0]"),
    ([{"id": "a", "tokens": 1}], {"output_tokens": -5}, "output_tokens"),
    ([{"id": "a", "tokens": 1}], {"at": -1.0}, "at"),
    ([{"id": "a", "tokens": 1}], {"breakpoints": "0"}, "breakpoints"),
    ([{"id": "a", "tokens": 1}], {"removed": ["a"]}, "removed"),
])
def test_bad_calls_name_the_field_and_change_nothing(blocks, kwargs, field):
    model = CostModel(ANTHROPIC)
    model.call([SYSTEM], at=0)
    before = json.dumps(model.to_dict())
    with pytest.raises(ConfigError) as err:
        model.call(blocks, **kwargs)
    assert err.value.field == field
    assert json.dumps(model.to_dict()) == before


def test_unknown_ttl_or_missing_explicit_cache_are_refused():
    with pytest.raises(ConfigError) as err:
        CostModel(ANTHROPIC, ttl="2h")
    assert err.value.field == "ttl"
    with pytest.raises(ConfigError):
        CostModel(OPENAI, use_explicit_cache=True)


def test_state_round_trips_through_json_and_the_session_goes_on_identically():
    prompts = conversation(8)
    whole = CostModel(ANTHROPIC)
    halves = CostModel(ANTHROPIC)
    expected = [whole.call(p, output_tokens=30).to_dict() for p in prompts]
    got = [halves.call(p, output_tokens=30).to_dict() for p in prompts[:4]]
    restored = CostModel.from_dict(json.loads(json.dumps(halves.to_dict())), ANTHROPIC)
    got += [restored.call(p, output_tokens=30).to_dict() for p in prompts[4:]]
    assert got == expected
    assert restored.totals == whole.totals
    with pytest.raises(ConfigError):
        CostModel.from_dict(halves.to_dict(), OPENAI)


def test_cache_entries_stay_bounded():
    model = CostModel(OPENAI, max_entries=50)
    blocks = [Block("system:prompt", 1200)]
    for i in range(300):  # every call also drops a block: the prefix keeps branching
        blocks = [blocks[0], *blocks[2:], Block(f"m{i}", 20), Block(f"n{i}", 20)]
        model.call(blocks, at=i)
        assert len(model._entries) <= 50


# --- an independent oracle for automatic caching -----------------------------------------------

def oracle_reads(rules: CacheRules, calls):
    """Brute force over the whole history: a prefix is cached if some earlier call whose prompt
    reached the minimum contained it and was made less than the TTL ago (each use refreshes)."""
    ttl = rules.ttl[0].seconds
    reads = []
    for k, (at, prompt) in enumerate(calls):
        best = 0
        for at_j, prompt_j in calls[:k]:
            if at - at_j >= ttl or rules.cacheable(sum(b.tokens for b in prompt_j)) == 0:
                continue
            common = 0
            for x, y in zip(prompt, prompt_j, strict=False):
                if x.key != y.key:
                    break
                common += x.tokens
            best = max(best, rules.cacheable(common))
        reads.append(best)
    return reads


edits = st.lists(st.tuples(st.sampled_from(["append", "evict", "compress", "swap"]),
                           st.integers(0, 1000), st.integers(1, 700),
                           st.floats(0, 400, allow_nan=False)), min_size=1, max_size=25)


def session_from(steps, *, first_tokens=1100):
    """Prompts and times from random edits of a growing prompt."""
    prompt, at, out = [Block("system:prompt", first_tokens)], 0.0, []
    for serial, (kind, pick, tokens, gap) in enumerate(steps, 1):
        if kind == "append" or len(prompt) < 3:
            prompt = [*prompt, Block(f"m{serial}", tokens)]
        elif kind == "evict":
            del prompt[1 + pick % (len(prompt) - 1)]
            prompt = list(prompt)
        elif kind == "compress":
            i = 1 + pick % (len(prompt) - 1)
            prompt = [*prompt[:i], replace(prompt[i], tokens=max(1, prompt[i].tokens // 2),
                                            version=str(serial)), *prompt[i + 1:]]
        else:
            i = 1 + pick % (len(prompt) - 2)
            prompt = [*prompt[:i], prompt[i + 1], prompt[i], *prompt[i + 2:]]
        at += gap
        out.append((at, prompt))
    return out


@settings(max_examples=150, deadline=None)
@given(edits)
def test_automatic_caching_matches_the_brute_force_oracle(steps):
    calls = session_from(steps)
    for profile in (OPENAI, GEMINI):
        model = CostModel(profile)
        got = [model.call(p, at=at) for at, p in calls]
        assert [c.cache_read_tokens for c in got] == oracle_reads(profile.cache, calls)
        for c in got:
            assert c.cache_read_tokens + c.cache_write_tokens + c.uncached_tokens == \
                c.prompt_tokens


# --- the properties of issue 12 ------------------------------------------------------------------

appends = st.lists(st.lists(st.integers(1, 800), min_size=1, max_size=6), min_size=2,
                   max_size=20)


def growing(sizes, first_tokens):
    prompt, out, serial = [Block("system:prompt", first_tokens)], [], 0
    for turn in sizes:
        for tokens in turn:
            serial += 1
            prompt = [*prompt, Block(f"m{serial}", tokens)]
        out.append(prompt)
    return out


def expected_read(profile, previous):
    total = sum(b.tokens for b in previous)
    return profile.cache.cacheable(total)


@settings(max_examples=100, deadline=None)
@given(appends, st.integers(1, 5000), st.data())
@pytest.mark.parametrize("profile", [ANTHROPIC, OPENAI, GEMINI],
                         ids=["anthropic", "openai", "gemini"])
def test_no_eviction_and_turns_within_the_ttl_read_every_earlier_prefix(profile, sizes, first,
                                                                      data):
    ttl = profile.cache.ttl[0].seconds
    model, at = CostModel(profile), 0.0
    prompts = growing(sizes, first)
    for k, prompt in enumerate(prompts):
        if k:
            at += data.draw(st.floats(0, 0.999 * ttl, allow_nan=False))
        call = model.call(prompt, at=at, output_tokens=10)
        assert call.cache_break is None
        assert call.cache_read_tokens == (expected_read(profile, prompts[k - 1]) if k else 0)
    assert model.totals.cache_breaks == 0


@settings(max_examples=100, deadline=None)
@given(appends, st.integers(1, 5000), st.data())
@pytest.mark.parametrize("profile", [ANTHROPIC, OPENAI, GEMINI],
                         ids=["anthropic", "openai", "gemini"])
def test_the_same_session_with_turns_further_apart_than_the_ttl_reads_nothing(profile, sizes,
                                                                            first, data):
    ttl = profile.cache.ttl[0].seconds
    model, at = CostModel(profile), 0.0
    prompts = growing(sizes, first)
    for k, prompt in enumerate(prompts):
        if k:
            at += data.draw(st.floats(ttl, 10 * ttl, allow_nan=False))
        call = model.call(prompt, at=at)
        assert call.cache_read_tokens == 0
        assert call.expired_tokens == (expected_read(profile, prompts[k - 1]) if k else 0)
    assert model.totals.cache_read_tokens == 0


@settings(max_examples=150, deadline=None)
@given(edits, st.integers(1, 4000), st.integers(0, 500))
@pytest.mark.parametrize("profile", [ANTHROPIC, OPENAI, GEMINI],
                         ids=["anthropic", "openai", "gemini"])
def test_a_profile_without_caching_is_never_cheaper(profile, steps, first, output):
    calls = session_from(steps, first_tokens=first)
    cached, plain = CostModel(profile), CostModel(without_cache(profile))
    factor, premiums = cached.ttl.write_factor, 0.0
    for at, prompt in calls:
        with_cache = cached.call(prompt, at=at, output_tokens=output)
        without = plain.call(prompt, at=at, output_tokens=output)
        # a write premium is the one thing caching can add: a prefix written and never read
        premium = with_cache.cache_write_tokens * (factor - 1) * profile.input / M
        premiums += premium
        assert with_cache.usd <= without.usd + premium + 1e-12
    assert cached.totals.usd <= plain.totals.usd + premiums + 1e-9
    if factor <= 1:
        assert cached.totals.usd <= plain.totals.usd + 1e-9
