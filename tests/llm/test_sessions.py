"""Sessions with the deterministic scripted provider: paging, tools, errors, recall, CLI."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from simulator.cli.main import main
from simulator.engine.traces import open_trace
from simulator.llm.providers import (
    ProviderError,
    ScriptedProvider,
    parse_openai_tool_calls,
    parse_text_tool_calls,
)
from simulator.llm.scripts import ScriptError, load_script, run_script
from simulator.llm.session import ChatSession
from simulator.memory.memory_presets import get_preset
from simulator.memory.session_memory import MemorySettings

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sessions"
SCRIPTS = sorted(FIXTURES.glob("*.jsonl"))


def words(text: str) -> int:
    return len(text.split())


def settings(preset: str = "vmem", **kw) -> MemorySettings:
    return MemorySettings(context_window=kw.pop("context_window", 250), reserve_tokens=32,
                          prompt_reserve=64, page_size=40, preset=get_preset(preset), **kw)


def provider(replies=(), **kw) -> ScriptedProvider:
    return ScriptedProvider(replies, count=words, **kw)


def filler(session: ChatSession, turns: int) -> None:
    for t in range(turns):
        session.send(f"Tell me about compost and tomatoes in spring, part {t}, with sun and "
                     f"water and seeds.")


def test_fixture_scripts_load_and_probe_their_labels():
    assert {p.name for p in SCRIPTS} >= {"long_chat.jsonl", "coding.jsonl",
                                          "document_qa.jsonl"}
    for path in SCRIPTS:
        script = load_script(path)
        assert script.probes >= 3
        assert path.stat().st_size < 12_000


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.stem)
def test_recall_success_is_computed_and_demand_paging_beats_summaries(path):
    script = load_script(path)
    vmem = run_script(script, preset="vmem").totals()
    letta = run_script(script, preset="letta").totals()
    assert vmem["probes"] == script.probes
    assert 0.0 <= letta["recall_success"] <= vmem["recall_success"] <= 1.0
    assert vmem["recall_success"] >= 0.6
    assert vmem["evictions"] > 0  # the scripts do put the context under pressure
    assert vmem["errors"] == 0


def test_recall_is_judged_when_the_model_is_called():
    session = ChatSession(provider(), settings())
    session.send("My cat is called Miso and she loves tuna.", labels=["cat"])
    filler(session, 8)
    assert not session.memory.in_l0("message:t001-user")
    result = session.send("What is my cat Miso called?", needs=["cat"], fact="Miso",
                          expect="Miso")
    assert result.recall is True and result.demand_faults >= 1
    assert "message:t001-user" in result.l0_pages
    assert result.answer_hit is False  # the scripted "OK." does not say Miso
    assert session.totals()["recall_success"] == 1.0


def test_prompt_is_packed_from_l0_with_a_manifest():
    session = ChatSession(provider(), settings())
    session.send("My cat is called Miso.", labels=["cat"])
    filler(session, 8)
    messages = session.build_messages("my cat Miso")
    assert messages[0]["role"] == "system"
    assert "Memory pages outside your context" in messages[0]["content"]
    assert "message:t001-user [L1" in messages[0]["content"]
    roles = [m["role"] for m in messages[1:]]
    assert set(roles) <= {"user", "assistant"} and roles[-1] == "assistant"
    prompt = sum(words(m["content"]) for m in messages)
    assert prompt <= session.memory.settings.context_window - session.max_tokens


def test_native_tool_calls_fault_pages_within_the_budget():
    replies = ["OK."] * 9 + [
        {"text": "", "tool_calls": [{"name": "search_pages", "arguments": {"query": "cat"}}]},
        {"text": "", "tool_calls": [{"name": "page_fault",
                                     "arguments": {"page_id": "message:t001-user"}}]},
        "Your cat is Miso."]
    session = ChatSession(provider(replies), settings(demand_paging=None) if False else
                          settings("letta"))
    session.send("My cat is called Miso.", labels=["cat"])
    filler(session, 8)
    assert not session.memory.in_l0("message:t001-user")
    result = session.send("Remind me what my pet is named?", needs=["cat"])
    assert result.tool_calls == 2 and result.tool_faults == 1 and result.model_calls == 3
    assert result.recall is True and result.answer == "Your cat is Miso."
    assert session.memory.in_l0("message:t001-user")


def test_text_tool_calls_and_malformed_calls_never_break_a_turn():
    assert parse_text_tool_calls('I need page_fault("message:t001-user") now') [0].arguments \
        == {"page_id": "message:t001-user"}
    assert parse_text_tool_calls("search_pages(cat name)")[0].arguments == {"query": "cat name"}
    bad = parse_openai_tool_calls([{"function": {"name": "page_fault", "arguments": "{oops"}},
                                   {"nothing": 1}])
    assert bad[0].error and bad[1].error
    assert parse_openai_tool_calls("junk")[0].error
    text_model = provider(["OK."] * 9 + ["page_fault(message:t001-user)", "It is Miso."],
                          supports_tools=False)
    session = ChatSession(text_model, settings("letta"))
    session.send("My cat is called Miso.", labels=["cat"])
    filler(session, 8)
    result = session.send("What is my pet named?", needs=["cat"])
    assert session.tools_mode == "text" and result.tool_faults == 1
    assert result.answer == "It is Miso."
    garbled = provider([{"text": "Sorry.", "tool_calls": [{"name": "format_disk"}]}])
    session = ChatSession(garbled, settings())
    result = session.send("hello")
    assert result.tool_errors == 1 and result.answer == "Sorry." and result.error is None


class Failing(ScriptedProvider):
    def __init__(self, kinds):
        super().__init__(count=words)
        self.kinds = list(kinds)

    def chat(self, messages, **kw):
        if self.kinds:
            kind = self.kinds.pop(0)
            raise ProviderError(kind, f"simulated {kind}")
        return super().chat(messages, **kw)


def test_provider_errors_are_recorded_and_the_session_goes_on():
    session = ChatSession(Failing(["timeout", "auth"]), settings())
    first = session.send("My cat is called Miso.", labels=["cat"])
    assert first.error == {"kind": "timeout", "message": "simulated timeout"}
    assert first.answer == "" and session.memory.in_l0("message:t001-user")  # nothing lost
    assert session.send("still there?").error["kind"] == "auth"
    third = session.send("and now?")
    assert third.error is None and third.answer == "OK."
    assert session.totals()["errors"] == 2


def test_a_context_overflow_is_compacted_and_retried_once():
    session = ChatSession(Failing(["context"]), settings())
    filler(session, 1)
    assert session.results[0].error is None
    assert "compacted" in session.results[0].notes[0]
    session = ChatSession(Failing(["context", "context"]), settings())
    assert session.send("hi").error["kind"] == "context"


def test_session_state_round_trips():
    session = ChatSession(provider(), settings("chuk"))
    session.send("My cat is called Miso.", labels=["cat"])
    filler(session, 5)
    data = json.loads(json.dumps(session.to_dict()))
    back = ChatSession.from_dict(data, provider())
    assert back.memory.trace == session.memory.trace
    assert [r.answer for r in back.results] == [r.answer for r in session.results]
    assert back.send("and my cat?").turn == session.send("and my cat?").turn


def test_script_errors_name_the_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"role": "user", "text": "hi", "probe": {"needs": ["x"]}}\n')
    with pytest.raises(ScriptError, match=r"line 1.*unknown label"):
        load_script(bad)
    bad.write_text('{"role": "assistant", "text": "hi"}\n')
    with pytest.raises(ScriptError, match="must follow a user line"):
        load_script(bad)
    bad.write_text("not json\n")
    with pytest.raises(ScriptError, match="not JSON"):
        load_script(bad)


def run_cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def test_cli_session_run_json_and_trace(tmp_path):
    trace = tmp_path / "session.csv"
    code, out = run_cli("session", "run", "--script", str(FIXTURES / "coding.jsonl"),
                        "--preset", "chuk", "--json", "--save-trace", str(trace))
    assert code == 0
    doc = json.loads(out)
    for key in ("turns", "faults", "evictions", "recall_success", "thrash_index",
                "prompt_tokens", "completion_tokens", "model_seconds", "memory_seconds"):
        assert key in doc
    assert doc["turns"] == 14 and doc["preset"] == "chuk" and doc["provider"] == "scripted"
    assert doc["trace"]["accesses"] == len(list(open_trace(trace)))
    code, out = run_cli("simulate", str(trace), "--l0-tokens", str(doc["budget"]), "--policy",
                        "importance", "--json")
    assert code == 0 and json.loads(out)["requests"] > 0
    code, out = run_cli("session", "run", "--script", str(FIXTURES / "long_chat.jsonl"))
    assert code == 0 and "recall" in out and "thrash index" in out


def test_cli_errors_are_one_line(tmp_path, capsys, monkeypatch):
    code, _ = run_cli("session", "run", "--script", str(tmp_path / "missing.jsonl"))
    assert code == 2 and "cannot read" in capsys.readouterr().err
    monkeypatch.delenv("VMEM_LLM_BASE_URL", raising=False)
    code, _ = run_cli("session", "run", "--script", str(FIXTURES / "coding.jsonl"),
                      "--provider", "http")
    assert code == 2 and "VMEM_LLM_BASE_URL" in capsys.readouterr().err
    code, _ = run_cli("session", "run", "--script", str(FIXTURES / "coding.jsonl"),
                      "--preset", "nope")
    assert code == 2 and "unknown preset" in capsys.readouterr().err
