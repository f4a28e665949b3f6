"""The message being answered is always whole in the context (docs/sessions.md, "The message
being answered"), under every preset and L0 policy and with every page size; a message that
cannot fit even alone is refused with the sizes, and nothing changes."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.engine.policies import POLICIES as POLICY_CLASSES
from simulator.engine.policies import policy_names
from simulator.memory.memory_presets import PRESETS, get_preset
from simulator.memory.pages import split_text
from simulator.memory.session_memory import MemorySettings, MessageTooLarge, SessionMemory

#: every policy a live session can use (OPT needs the future)
# policies that need the future (OPT, the worst policy) cannot manage a live chat
POLICIES = [p for p in policy_names() if not POLICY_CLASSES[p].needs_future]
#: few words, so that BM25 finds old pages relevant and demand paging faults them in
VOCABULARY = ("cat", "miso", "tuna", "harbour", "lighthouse", "island", "teal", "lisbon",
              "tide", "cello", "orchestra", "winter", "compost", "seeds")


def words(text: str) -> int:
    return len(text.split())


def squeeze(text: str) -> str:
    return "".join(text.split())


def memory_for(preset: str, policy: str, page_size: int, budget: int) -> SessionMemory:
    chosen = get_preset(preset)
    if policy != chosen.policy:
        chosen.policy, chosen.policy_params = policy, {}
    settings_ = MemorySettings(context_window=budget + 20, reserve_tokens=10, prompt_reserve=10,
                               page_size=page_size, page_overhead=1, preset=chosen.validate())
    memory = SessionMemory(settings_, count=words)
    memory.add_system("You are a helpful assistant who answers briefly.")
    return memory


def held_whole(memory: SessionMemory, pages: list[str], text: str) -> bool:
    in_context = [p.id for p in memory.context()]
    return (all(memory.in_l0(p) and p in in_context for p in pages)
            and squeeze(" ".join(memory.text_of(p) for p in pages)) == squeeze(text))


messages = st.lists(
    st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=90).map(" ".join),
    min_size=2, max_size=7)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(preset=st.sampled_from(sorted(PRESETS)), policy=st.sampled_from(POLICIES),
       page_size=st.integers(3, 40), budget=st.integers(45, 140), texts=messages,
       answer_words=st.integers(1, 30))
def test_the_message_being_answered_is_whole_in_l0_until_its_answer(
        preset, policy, page_size, budget, texts, answer_words):
    memory = memory_for(preset, policy, page_size, max(budget, page_size + 1))
    system = sum(memory.stored_tokens(p) for p in memory.pages if p.startswith("system:"))
    for text in texts:
        need = sum(words(p) + 1 for p in _pieces(memory, text))
        before = json.dumps(memory.to_dict(), sort_keys=True)
        try:
            plan = memory.begin_turn(text)
        except MessageTooLarge as exc:
            # refused only when it could not fit even with everything but the system evicted
            assert need > memory.capacity - system
            assert f"{need:,} tokens" in exc.message and f"{memory.capacity:,}" in exc.message
            assert json.dumps(memory.to_dict(), sort_keys=True) == before  # nothing changed
            continue
        assert need <= memory.capacity - system
        assert held_whole(memory, plan.user_pages, text)
        # tool calls fault pages in, a "prompt too long" retry compacts: still whole
        for entry in memory.manifest(query=text, limit=3):
            memory.fault(entry.id)
        memory.compact(int(0.6 * memory.capacity))
        assert held_whole(memory, plan.user_pages, text)
        memory.add_answer(" ".join(["noted"] * answer_words))
        assert memory.l0_used <= memory.capacity


def _pieces(memory: SessionMemory, text: str) -> list[str]:
    return split_text(text, memory.settings.page_size, words)
