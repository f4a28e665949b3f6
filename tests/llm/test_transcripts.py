"""Transcripts in: the four formats read into one session, malformed files refused with the line
or JSON path, real conversations (the Chit-Chat corpus shipped in the ``chitchat-dataset``
wheel) written in each format and read back, and their real timing through the cost model."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from simulator.llm import transcripts
from simulator.llm.scripts import run_script
from simulator.llm.transcripts import TranscriptError, load_transcript, parse_transcript
from simulator.memory.cost import Block, CostModel
from simulator.memory.pricing import parse_profile

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures" / "transcripts"
SESSIONS = ROOT / "fixtures" / "sessions"


def roles(transcript):
    return [t.role for t in transcript.turns]


# --- the shipped fixtures ------------------------------------------------------------------

def test_openai_message_list_with_tool_calls_and_times():
    t = load_transcript(FIXTURES / "openai_chat.json")
    assert (t.format, t.title) == ("openai", "Slow orders query")
    assert roles(t) == ["system", "user", "assistant", "tool", "assistant", "user",
                        "assistant", "user", "assistant"]
    assert t.turns[2].text.startswith("[tool_call run_sql] {")
    assert t.turns[3].name == "run_sql" and "Seq Scan on orders" in t.turns[3].text
    assert t.turns[5].text.startswith("You were right")  # content given as a list of parts
    assert t.turns[1].at == dt.datetime(2026, 3, 2, 9, 14, 5, tzinfo=dt.UTC).timestamp()
    assert t.user_times() == [0.0, 343.0, 1625.0]
    assert t.turns[3].where == "$.messages[3]"


def test_sharegpt_picks_a_conversation_and_has_no_times():
    first = load_transcript(FIXTURES / "sharegpt.json")
    assert (first.format, first.title) == ("sharegpt", "trip-planning-0412")
    assert roles(first) == ["system", "user", "assistant"] * 1 + ["user", "assistant"] * 2
    assert first.system == "You are a helpful travel assistant."
    assert not first.timed and first.user_times(think_time=12) == [0.0, 12.0, 24.0]
    second = load_transcript(FIXTURES / "sharegpt.json", index=1)
    assert second.title == "regex-help-0077" and roles(second) == ["user", "assistant"]
    with pytest.raises(TranscriptError, match="no conversation 2"):
        load_transcript(FIXTURES / "sharegpt.json", index=2)


def test_claude_code_session_lines():
    t = load_transcript(FIXTURES / "claude_code_session.jsonl")
    assert (t.format, t.title) == ("claude-code", "Fix flaky pagination test in inventory API")
    assert roles(t) == ["user", "assistant", "tool", "assistant", "tool", "assistant", "user",
                        "assistant", "tool", "assistant"]
    streamed = t.turns[1]  # one message over three lines: thinking (left out), text, tool call
    assert streamed.text.splitlines()[0] == "Let me look at the test and the endpoint it calls."
    assert "[tool_use Read]" in streamed.text and "Flaky only on CI" not in streamed.text
    assert streamed.where == "line 5"
    assert [t.turns[i].name for i in (2, 4, 8)] == ["Read", "Grep", "Edit"]
    assert t.turns[4].text.startswith("31:    query")  # a result given as a list of blocks
    assert all("sub-agent" not in turn.text for turn in t.turns)  # the side chain is left out
    assert t.user_times() == [0.0, 441.522]  # the 7-minute pause


def test_the_labs_own_scripts_keep_their_labels_and_probes():
    t = load_transcript(SESSIONS / "long_chat.jsonl")
    assert t.format == "script" and t.count("user") == 21
    assert t.to_script().probes == 5  # the script itself, labels and probes included
    docs = load_transcript(SESSIONS / "document_qa.jsonl")
    assert docs.documents and docs.documents[0]["sections"]


def test_an_imported_transcript_replays_as_a_scripted_session():
    t = load_transcript(FIXTURES / "claude_code_session.jsonl")
    script = t.to_script()
    assert [turn.text for turn in script.turns] == [x.text for x in t.turns if x.role == "user"]
    assert script.turns[0].reply.startswith("Let me look")
    assert "[tool Read]" in script.turns[0].reply and script.turns[0].reply.endswith(
        "Want me to make the change?")
    session = run_script(script, context_window=4096, page_size=128, max_tokens=64)
    assert [r.answer for r in session.results] == [turn.reply for turn in script.turns]


def test_empty_messages_are_left_out():
    t = parse_transcript(json.dumps({"conversations": [
        {"from": "human", "value": "Hello"}, {"from": "gpt", "value": "  "},
        {"from": "human", "value": ""}, {"from": "gpt", "value": "Hi"}]}), "sharegpt")
    assert [(x.role, x.text) for x in t.turns] == [("user", "Hello"), ("assistant", "Hi")]
    assert t.turns[1].where == "$.conversations[3]"


def test_turns_before_the_first_user_turn_join_the_system_prompt():
    t = parse_transcript(json.dumps([{"role": "assistant", "content": "Hi! How can I help?"},
                                     {"role": "user", "content": "Hello"}]), "openai")
    script = t.to_script()
    assert script.system == "Hi! How can I help?" and len(script.turns) == 1


@pytest.mark.parametrize("name", ["openai_chat.json", "sharegpt.json",
                                  "claude_code_session.jsonl"])
def test_the_format_is_told_from_the_content(tmp_path, name):
    renamed = tmp_path / ("conversation" + Path(name).suffix)
    renamed.write_bytes((FIXTURES / name).read_bytes())
    assert load_transcript(renamed).format == load_transcript(FIXTURES / name).format


# --- malformed files -------------------------------------------------------------------------

CLAUDE_USER = {"type": "user", "message": {"role": "user", "content": "hi"},
               "timestamp": "2026-01-01T10:00:00Z"}


def lines(*objects):
    return "\n".join(o if isinstance(o, str) else json.dumps(o) for o in objects) + "\n"


@pytest.mark.parametrize(("name", "text", "fmt", "where"), [
    ("s.jsonl", lines(CLAUDE_USER, CLAUDE_USER, "{oops"), "auto", "line 3"),
    ("s.jsonl", lines(CLAUDE_USER, {"type": "user", "message": "hi"}), "auto", "line 2"),
    ("s.jsonl", lines(CLAUDE_USER, {**CLAUDE_USER, "timestamp": "yesterday"}), "auto",
     "line 2"),
    ("s.jsonl", lines(CLAUDE_USER, {**CLAUDE_USER, "message": {"content": 5}}), "auto",
     "line 2"),
    ("s.jsonl", lines(CLAUDE_USER, {"type": "robot", "message": {}}), "auto", "line 2"),
    ("s.jsonl", lines(CLAUDE_USER, [1, 2]), "claude-code", "line 2"),
    ("c.json", '[{"role": "user",\n  "content": "hi"}\n  {"role": "assistant"}]', "auto",
     "line 3"),
    ("c.json", json.dumps([{"role": "user", "content": "a"}, {"role": "robot"}]), "auto",
     "$[1].role"),
    ("c.json", json.dumps({"messages": [{"role": "user", "content": 5}]}), "auto",
     "$.messages[0].content"),
    ("c.json", json.dumps([{"role": "user", "content": [{"type": "text"}]}]), "auto",
     "$[0].content[0].text"),
    ("c.json", json.dumps([{"role": "user", "content": "a", "timestamp": True}]), "auto",
     "$[0].timestamp"),
    ("c.json", json.dumps([{"role": "user", "content": "a"},
                           {"role": "assistant", "tool_calls": [{"id": "x"}]}]), "auto",
     "$[1].tool_calls[0]"),
    ("c.json", json.dumps([{"role": "user", "content": None}]), "openai", "$[0].content"),
    ("c.json", json.dumps({"messages": "hi"}), "openai", "$.messages"),
    ("g.json", json.dumps([{"conversations": [{"from": "human", "value": "a"},
                                              {"from": "robot", "value": "b"}]}]), "auto",
     "$[0].conversations[1].from"),
    ("g.json", json.dumps({"conversations": [{"from": "human"}]}), "auto",
     "$.conversations[0].value"),
    ("g.json", json.dumps({"conversations": "a"}), "sharegpt", "$.conversations"),
])
def test_malformed_files_name_the_line_or_the_json_path(tmp_path, name, text, fmt, where):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(TranscriptError) as err:
        load_transcript(path, fmt)
    assert where in str(err.value) and str(err.value).startswith(name)
    if where.startswith("line"):
        assert err.value.line == int(where.split()[1])
    else:
        assert err.value.path == where


def test_malformed_scripts_keep_their_line(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text(lines({"type": "session", "title": "x"}, {"role": "user", "text": "hi"},
                          {"role": "assistant", "text": "a"}, {"role": "assistant", "text": "b"}))
    with pytest.raises(TranscriptError, match="line 4: an assistant line must follow"):
        load_transcript(path)


@pytest.mark.parametrize(("content", "message"), [
    (b"\xff\xfe\x00garbage", "not UTF-8"),
    (b"just some words", "neither JSON nor JSON Lines"),
    (b'{"hello": "world"}', "cannot tell the format"),
    (b'{"id": 1}\n{"id": 2}\n', "cannot tell the format"),
    (json.dumps([{"role": "assistant", "content": "only me"}]).encode(), "no user turn"),
])
def test_files_that_are_not_conversations(tmp_path, content, message):
    path = tmp_path / "x.json"
    path.write_bytes(content)
    with pytest.raises(TranscriptError, match=message):
        load_transcript(path)


def test_unknown_format_missing_or_oversized_files(tmp_path, monkeypatch):
    path = tmp_path / "c.json"
    path.write_text(json.dumps([{"role": "user", "content": "hi"}]))
    with pytest.raises(TranscriptError, match="unknown format 'yaml'"):
        load_transcript(path, "yaml")
    with pytest.raises(TranscriptError, match="cannot read"):
        load_transcript(tmp_path / "missing.json")
    monkeypatch.setattr(transcripts, "MAX_BYTES", 10)
    with pytest.raises(TranscriptError, match="larger than"):
        load_transcript(path)
    monkeypatch.setattr(transcripts, "MAX_BYTES", 2**20)
    monkeypatch.setattr(transcripts, "MAX_TURNS", 3)
    path.write_text(json.dumps([{"role": "user", "content": str(i)} for i in range(4)]))
    with pytest.raises(TranscriptError, match="more than 3 turns"):
        load_transcript(path)


def test_times_as_epoch_seconds_or_milliseconds_and_a_clock_that_goes_back():
    t = parse_transcript(json.dumps([
        {"role": "user", "content": "a", "created": 1_700_000_000},
        {"role": "user", "content": "b", "created": 1_700_000_060_000},
        {"role": "user", "content": "c", "timestamp": "2023-11-14T22:12:00"},  # naive: UTC
    ]), "openai")
    assert [turn.at for turn in t.turns] == [1_700_000_000, 1_700_000_060, 1_699_999_920]
    assert t.user_times() == [0.0, 60.0, 60.0]  # held, never backwards


# --- a real corpus: the BYU Chit-Chat Challenge conversations --------------------------------

@pytest.fixture(scope="module")
def chitchat():
    """A sample of real conversations (two people, timed to the second), as (role, text, time)
    turns: the first speaker is the user, the other the assistant."""
    chitchat_dataset = pytest.importorskip("chitchat_dataset")
    data = chitchat_dataset.Dataset()
    keys = sorted(data)[:: len(data) // 24][:24]
    sample = []
    for key in keys:
        first = data[key]["messages"][0][0]["sender"]
        turns = [("user" if group[0]["sender"] == first else "assistant",
                  "\n".join(u["text"] for u in group), group[0]["timestamp"])
                 for group in data[key]["messages"]]
        sample.append((key, turns))
    del data
    return sample


def epoch(stamp: str) -> float:
    moment = dt.datetime.fromisoformat(stamp)
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).timestamp()


def as_openai(turns):
    return json.dumps([{"role": r, "content": x, "timestamp": s} for r, x, s in turns])


def as_sharegpt(turns):
    return json.dumps([{"id": "c", "conversations": [
        {"from": "human" if r == "user" else "gpt", "value": x, "timestamp": s}
        for r, x, s in turns]}])


def as_claude_code(turns):
    out = []
    for i, (r, x, s) in enumerate(turns):
        content = x if r == "user" else [{"type": "text", "text": x}]
        message = {"role": r, "content": content}
        if r == "assistant":
            message["id"] = f"msg_{i}"
        out.append({"type": r, "message": message, "timestamp": s, "uuid": str(i),
                    "isSidechain": False, "sessionId": "s"})
    return lines(*out)


@pytest.mark.parametrize(("writer", "suffix"), [(as_openai, ".json"), (as_sharegpt, ".json"),
                                                 (as_claude_code, ".jsonl")])
def test_real_conversations_read_back_in_every_format(tmp_path, chitchat, writer, suffix):
    for key, turns in chitchat:
        path = tmp_path / f"{key}{suffix}"
        path.write_text(writer(turns))
        t = load_transcript(path)
        assert [(x.role, x.text) for x in t.turns] == [(r, x) for r, x, _ in turns]
        assert [x.at for x in t.turns] == [epoch(s) for _, _, s in turns]


def test_real_timing_expires_the_cache_exactly_when_a_pause_is_longer_than_the_ttl(chitchat):
    profile = parse_profile({"name": "minute", "provider": "t", "model": "t",
                             "prices": {"input": 1, "output": 1, "cache_read": 0.1},
                             "cache": {"mode": "automatic",
                                       "ttl": [{"name": "1m", "seconds": 60}]}})
    hits = misses = 0
    for key, turns in chitchat:
        t = parse_transcript(as_openai(turns), "openai", source=key)
        times = t.user_times()
        model, prompt, previous = CostModel(profile), [], None
        for i, turn in enumerate(t.turns):
            prompt = [*prompt, Block(f"{turn.role}:{i}", len(turn.text.split()) + 4)]
            if turn.role != "user":
                continue
            k = model.totals.calls
            call = model.call(prompt, at=times[k])
            if previous is not None:  # append-only: the last call's whole prompt, unless expired
                cached = times[k] - times[k - 1] < 60
                assert call.cache_read_tokens == (previous if cached else 0), (key, k)
                assert call.expired_tokens == (0 if cached else previous)
                hits += cached
                misses += not cached
            previous = call.prompt_tokens
    assert hits and misses  # real pauses fall on both sides of a minute
