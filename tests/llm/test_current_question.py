"""The session runner asks the model the whole question, every turn, under every preset; a
message too long for the context is refused with the sizes, the model is not called, and the
session goes on (docs/sessions.md, "The message being answered")."""

from __future__ import annotations

import json

import pytest

from simulator.llm.providers import ScriptedProvider
from simulator.llm.session import ChatSession
from simulator.memory.memory_presets import PRESETS, get_preset
from simulator.memory.session_memory import MemorySettings


def words(text: str) -> int:
    return len(text.split())


def squeeze(text: str) -> str:
    return "".join(text.split())


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_the_model_is_always_asked_the_whole_question(preset):
    """Through the session runner: the last user message of every prompt is the message sent,
    word for word, also when long turns fill a small window."""
    chosen = get_preset(preset)
    model = ScriptedProvider(default=lambda messages: "Noted, here is a short answer.",
                             count=words)
    session = ChatSession(model, MemorySettings(context_window=260, reserve_tokens=20,
                                                prompt_reserve=60, page_size=16,
                                                preset=chosen), max_tokens=20)
    texts = ["My cat is called Miso."] + [
        " ".join(f"{topic} fact {k} about {topic} and more {topic} detail" for k in range(12))
        for topic in ("astronomy", "pasta", "railways", "cello", "tides", "cat")]
    for text in texts:
        result = session.send(text)
        assert result.error is None
        prompt = model.calls[-1]
        assert prompt[-1]["role"] == "user" and squeeze(prompt[-1]["content"]) == squeeze(text)


def test_a_message_too_large_for_the_context_is_refused_with_the_sizes_and_the_session_goes_on():
    model = ScriptedProvider(default=lambda messages: "OK.", count=words)
    session = ChatSession(model, MemorySettings(context_window=200, reserve_tokens=20,
                                                prompt_reserve=60, page_size=16), max_tokens=20)
    session.send("My cat is called Miso.")
    state = json.dumps(session.memory.to_dict(), sort_keys=True)
    calls = len(model.calls)
    result = session.send(" ".join(["word"] * 400))
    assert result.error["kind"] == "too_long"
    # 400 words in 25 pages of 16, plus 4 tokens of template each; a budget of 200 - 20 - 60
    assert "500 tokens" in result.error["message"] and "120" in result.error["message"]
    assert len(model.calls) == calls  # the model was not asked
    assert json.dumps(session.memory.to_dict(), sort_keys=True) == state
    after = session.send("What is my cat called?")
    assert after.error is None and after.answer == "OK."
    assert squeeze(model.calls[-1][-1]["content"]) == squeeze("What is my cat called?")
