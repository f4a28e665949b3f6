"""SessionMemory: pages, demand paging, presets' thresholds, pins, summaries, state round trip,
and the chat workload generator."""

from __future__ import annotations

import json

import pytest

from simulator.engine.access import Op
from simulator.engine.config import SimConfig
from simulator.engine.errors import ConfigError
from simulator.engine.simulation import Simulation
from simulator.engine.workloads import WORKLOADS, Workload, chat
from simulator.memory.memory_presets import PRESETS, MemoryPreset, get_preset
from simulator.memory.pages import kind_of, page_id, split_text
from simulator.memory.session_memory import MemorySettings, SessionMemory


def words(text: str) -> int:
    return len(text.split())


def memory(preset: str = "vmem", **kw) -> SessionMemory:
    settings = MemorySettings(context_window=kw.pop("context_window", 300), reserve_tokens=40,
                              prompt_reserve=40, page_size=kw.pop("page_size", 30),
                              page_overhead=0, preset=get_preset(preset), **kw)
    m = SessionMemory(settings, count=words)
    m.add_system("You are a helpful assistant.")
    return m


FILLER = "Let us talk about gardening: tomatoes need sun, water and compost in spring. "


def chatter(m: SessionMemory, turns: int) -> None:
    for t in range(turns):
        m.begin_turn(f"{FILLER}Question {t} about soil and seeds.")
        m.add_answer("Use compost, water in the morning and give them sun. " * 2)


def test_page_ids_kinds_and_splitting():
    assert page_id("message", "t001-user", 2) == "message:t001-user#2"
    assert kind_of("document:manual#3") == "document" and kind_of(17) == "message"
    assert kind_of("weird:thing") == "message"
    text = "One two three. Four five six seven. Eight nine ten eleven twelve."
    pieces = split_text(text, 5, words)
    assert all(words(p) <= 5 for p in pieces)
    assert " ".join(pieces).split() == text.split()
    assert split_text("x" * 10, 3, len) == ["xxx", "xxx", "xxx", "x"]


def test_long_messages_become_several_pages_and_the_system_prompt_is_pinned():
    m = memory(page_size=10)
    plan = m.begin_turn(" ".join(f"w{k}" for k in range(35)))
    assert plan.user_pages == [f"message:t001-user#{k}" for k in range(4)]
    assert [m.pages[p].tokens for p in plan.user_pages] == [10, 10, 10, 5]
    assert m.is_pinned("system:prompt")
    chatter(m, 12)
    assert m.in_l0("system:prompt")
    assert m.l0_used <= m.capacity


def test_budget_is_the_window_minus_the_reserves_and_is_checked():
    settings = MemorySettings(context_window=1000, reserve_tokens=100, prompt_reserve=150)
    assert settings.budget == 750
    assert SessionMemory(settings, count=words).sim.tiers[0].capacity == 750
    with pytest.raises(ConfigError, match="smaller than one page"):
        MemorySettings(context_window=200, reserve_tokens=100, prompt_reserve=50,
                       page_size=128).validate()


def test_demand_paging_faults_the_relevant_old_page_back_within_the_budget():
    m = memory()
    m.begin_turn("My cat is called Miso and she adores tuna.", labels=["cat"])
    m.add_answer("Miso is a lovely name.")
    chatter(m, 8)
    cat = m.pages_for(["cat"], "Miso")
    assert cat == ["message:t001-user"] and not m.in_l0(cat[0])
    assert any(e.id == cat[0] for e in m.manifest("cat Miso"))
    plan = m.begin_turn("What is my cat Miso called again?")
    assert cat[0] in plan.faulted and m.in_l0(cat[0])
    assert m.current.demand_faults >= 1
    assert cat[0] not in [e.id for e in m.manifest()]  # in L0 now


def test_the_fault_budget_limits_faults_per_turn():
    m = memory("chuk")
    for k in range(6):
        m.begin_turn(f"Fact {k}: the zebra number {k} is striped and called zed{k}.")
        m.add_answer("Noted.")
    chatter(m, 8)
    m.begin_turn("zebra striped zed0 zed1 zed2 zed3 zed4 zed5 number")
    assert m.current.demand_faults <= 3
    ok = [m.fault(p)[0] for p in list(m.pages) if p.startswith("message:t00") and
          not m.in_l0(p)][:3]
    assert ok.count(True) <= 3 - m.current.demand_faults + 0
    ok_flag, why = m.fault("message:nope")
    assert not ok_flag and "no page" in why


@pytest.mark.parametrize("name,compact_at,compact_to", [
    ("letta", 0.9, 0.7), ("memgpt", 1.0, 0.5), ("chuk", 1.0, 0.7)])
def test_presets_mirror_their_systems(name, compact_at, compact_to):
    p = PRESETS[name]
    assert (p.compact_at, p.compact_to) == (compact_at, compact_to)
    if name == "memgpt":
        assert p.warn_at == 0.7 and p.summarize
    if name == "chuk":
        assert p.pin_last_turns == 3 and p.max_faults_per_turn == 3
        assert p.policy == "importance" and p.anti_thrash > 0
    if name == "letta":
        assert p.summarize and not p.demand_paging


def test_letta_compacts_at_90_percent_down_to_70_with_a_summary():
    m = memory("letta")
    usage = []
    for t in range(12):
        m.begin_turn(f"{FILLER}Question {t}.")
        usage.append(m.l0_used)
        m.add_answer("Use compost and water. " * 3)
        usage.append(m.l0_used)
    assert m.summaries >= 1 and m.in_l0(m.summary_id) and m.is_pinned(m.summary_id)
    compactions = sum(t.compactions for t in m.turns) + m.current.compactions
    assert compactions >= 1
    assert max(usage) <= 0.9 * m.capacity + 30  # never far above the trigger
    assert m.pages[m.summary_id].kind == "summary"
    # only one summary page exists at a time: the old one is discarded
    assert sum(1 for p in m.pages if p.startswith("summary:") and m.tier_of(p) is not None) == 1


def test_memgpt_warns_at_70_percent_and_flushes_to_half():
    m = memory("memgpt")
    warned = []
    for t in range(14):
        plan = m.begin_turn(f"{FILLER}Question {t}.")
        warned.append(plan.warning is not None)
        m.add_answer("Use compost and water. " * 3)
    assert any(warned)
    assert m.summaries >= 1
    # right after a flush, L0 holds about half the window (plus the new page and summary)
    m2 = memory("memgpt")
    before = None
    for t in range(30):
        before = m2.summaries
        m2.begin_turn(f"{FILLER}Question {t}.")
        if m2.summaries > before:
            break
    assert m2.l0_used <= 0.5 * m2.capacity + 0.1 * m2.capacity + 40


def test_chuk_pins_the_last_three_turns():
    m = memory("chuk", context_window=500)
    chatter(m, 6)
    pinned_turns = {m.pages[p].turn for p in m.pages
                    if m.is_pinned(p) and m.pages[p].kind == "message"}
    assert pinned_turns == {4, 5, 6}


def test_chuk_compresses_on_demotion_and_shows_what_was_dropped():
    m = memory("chuk")
    m.begin_turn("My cat is called Miso. She was adopted in May. She likes tuna a lot. "
                 "Her favourite place is the warm radiator in the hall.", labels=["cat"])
    m.add_answer("Lovely.")
    chatter(m, 8)
    cat = m.pages_for(["cat"])[0]
    assert m.level(cat) >= 1 and m.sim.sizes[cat] < m.pages[cat].tokens
    m.begin_turn("Remind me of my cat Miso and the radiator")
    assert m.in_l0(cat)
    text = m.text_of(cat)
    assert words(text) <= m.sim.sizes[cat]
    assert m.pages[cat].dropped[m.level(cat)]
    shown = {page["id"]: page for page in m.snapshot()["l0"]}
    assert shown[cat]["dropped"] == m.pages[cat].dropped[m.level(cat)]
    assert all(page["dropped"] == [] for page in shown.values() if page["level"] == 0)


def test_state_round_trips_through_json():
    m = memory("chuk")
    m.begin_turn("My cat is called Miso.", labels=["cat"])
    m.add_answer("Nice.")
    chatter(m, 6)
    data = json.loads(json.dumps(m.to_dict()))
    back = SessionMemory.from_dict(data, count=words)
    assert [p.id for p in back.context()] == [p.id for p in m.context()]
    assert back.sim.result().faults == m.sim.result().faults
    assert back.trace == m.trace
    assert back.labels == m.labels and back.turn == m.turn
    back.begin_turn("And what is my cat called?")
    m.begin_turn("And what is my cat called?")
    assert [p.id for p in back.context()] == [p.id for p in m.context()]


def test_state_survives_repeated_round_trips():
    """Save and restore after every turn (what the chat pages do): the journal must carry
    over, or the second restore loses every turn before the first."""
    m = memory("chuk")
    back = SessionMemory.from_dict(json.loads(json.dumps(m.to_dict())), count=words)
    for k in range(8):
        for mem in (m, back):
            mem.begin_turn(f"turn {k}: my cat Miso and the radiator number {k}",
                           labels=["cat"] if k == 0 else [])
            mem.add_answer(f"answer {k} about the cat and the radiator")
        back = SessionMemory.from_dict(json.loads(json.dumps(back.to_dict())), count=words)
    assert back.journal == m.journal
    assert [p.id for p in back.context()] == [p.id for p in m.context()]
    assert back.sim.result().faults == m.sim.result().faults
    assert back.trace == m.trace


def test_the_trace_replays_in_the_simulator():
    m = memory()
    chatter(m, 10)
    config = SimConfig.hierarchy(l0_tokens=m.capacity)
    result = Simulation(config, iter(m.trace)).run()
    assert result.requests == sum(1 for a in m.trace if a.op in (Op.READ, Op.WRITE))


def test_preset_validation():
    with pytest.raises(ConfigError, match="unknown preset"):
        get_preset("nope")
    assert get_preset("chuk-ai-session-manager").name == "chuk"
    with pytest.raises(ConfigError):
        MemoryPreset("x", compact_at=0.5, compact_to=0.8).validate()
    with pytest.raises(ConfigError):
        MemoryPreset.from_dict({"name": "x", "colour": "red"})


def test_chat_workload_shape():
    accesses = list(chat(n=400, seed=3))
    assert len(accesses) == 400
    assert accesses[0].page_id == "system:prompt" and accesses[1].op == Op.PIN
    assert {a.op for a in accesses} == {Op.WRITE, Op.READ, Op.PIN}
    writes = [a for a in accesses if a.op == Op.WRITE and a.page_id.endswith("-user")]
    assert all(15 <= a.tokens <= 250 for a in writes)
    turns = [a.turn for a in accesses]
    assert turns == sorted(turns)
    # topics recur: some reads go back further than the recent history
    recent = 6
    old_reads = [a for a in accesses if a.op == Op.READ and a.turn - int(
        a.page_id.split(":t")[1][:5]) > recent // 2]
    assert old_reads
    assert list(chat(n=300, seed=3)) == accesses[:300]
    assert "chat" in WORKLOADS
    Workload("chat", {"n": 10, "topics": 3}).validate()
    with pytest.raises(ConfigError):
        Workload("chat", {"user_tokens": [5, 1]}).validate()
    with pytest.raises(ConfigError):
        Workload("chat", {"revisit": 2}).validate()
