"""``vmem session pricing`` and ``vmem session run --pricing``: the cost object, the times of a
transcript, errors naming the flag."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from simulator.cli.main import main

SCRIPT = "fixtures/sessions/coding.jsonl"
COST_KEYS = {"usd", "cache_read_tokens", "cache_write_tokens", "uncached_tokens",
             "output_tokens", "cache_breaks"}


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    import contextlib

    with contextlib.redirect_stderr(err):
        code = main(list(argv), out=out)
    return code, out.getvalue(), err.getvalue()


def test_pricing_lists_every_shipped_profile_as_json():
    code, out, _ = run("session", "pricing", "--json")
    rows = json.loads(out)
    assert code == 0
    names = {r["name"] for r in rows}
    assert {"claude-sonnet-4.5", "gpt-4.1", "gemini-2.5-pro"} <= names
    for row in rows:
        assert {"name", "provider", "model", "input", "output", "cache_mode", "ttl"} <= set(row)


def test_run_with_pricing_gives_a_cost_object():
    code, out, _ = run("session", "run", "--script", SCRIPT, "--pricing", "gpt-4.1", "--json",
                       "--turns")
    doc = json.loads(out)
    assert code == 0 and set(doc["cost"]) >= COST_KEYS
    cost = doc["cost"]
    assert cost["pricing"] == "gpt-4.1"
    assert cost["prompt_tokens"] == (cost["cache_read_tokens"] + cost["cache_write_tokens"]
                                     + cost["uncached_tokens"])
    turns = [t["cost"] for t in doc["turn_results"] if t["cost"]]
    assert sum(t["usd"] for t in turns) == pytest.approx(cost["usd"])
    assert sum(t["cache_breaks"] for t in turns) == cost["cache_breaks"]


def test_run_without_pricing_has_no_cost():
    code, out, _ = run("session", "run", "--script", SCRIPT, "--json")
    assert code == 0 and json.loads(out)["cost"] is None


def test_an_unknown_profile_names_the_flag():
    code, _, err = run("session", "run", "--script", SCRIPT, "--pricing", "nope")
    assert code == 2 and "pricing" in err and "claude-sonnet-4.5" in err


def _timed_chat(tmp_path: Path, gap: float) -> Path:
    system = " ".join(f"rule{k}" for k in range(1500))
    messages = [{"role": "system", "content": system}]
    for k in range(4):
        messages.append({"role": "user", "content": f"question number {k} about topic{k}",
                         "timestamp": 1_700_000_000 + k * gap})
        messages.append({"role": "assistant", "content": f"answer {k}"})
    path = tmp_path / f"chat-{gap:g}.json"
    path.write_text(json.dumps({"messages": messages}))
    return path


def test_a_transcripts_timestamps_decide_what_the_cache_keeps(tmp_path):
    common = ("--pricing", "claude-sonnet-4.5", "--context-window", "16000", "--page-size",
              "4000", "--json")
    _, close, _ = run("session", "run", "--script", str(_timed_chat(tmp_path, 20)), *common)
    _, apart, _ = run("session", "run", "--script", str(_timed_chat(tmp_path, 600)), *common)
    close, apart = json.loads(close)["cost"], json.loads(apart)["cost"]
    # no eviction, turns 20 s apart: no break, every call after the first reads the previous
    # prompt from the cache; 10 minutes apart (TTL 5 min): nothing is read
    assert close["cache_breaks"] == 0 and close["cache_read_tokens"] > 0
    assert close["uncached_tokens"] == 0
    assert apart["cache_read_tokens"] == 0 and apart["expired_tokens"] > 0
    assert apart["usd"] > close["usd"]


@pytest.mark.parametrize("name", ["openai_chat.json", "sharegpt.json",
                                  "claude_code_session.jsonl"])
def test_import_writes_a_script_that_replays(tmp_path, name):
    from simulator.llm.scripts import load_script
    from simulator.llm.transcripts import load_transcript

    out_path = tmp_path / "session.jsonl"
    code, out, _ = run("session", "import", f"fixtures/transcripts/{name}", "-o",
                       str(out_path), "--json")
    summary = json.loads(out)
    transcript = load_transcript(f"fixtures/transcripts/{name}")
    script = load_script(out_path)
    assert code == 0 and summary["user_turns"] == transcript.count("user") == len(script.turns)
    assert [t.text for t in script.turns] == [t.text for t in transcript.turns
                                              if t.role == "user"]
    assert script.times() == (transcript.user_times() if transcript.timed else None)
    code, out, _ = run("session", "run", "--script", str(out_path), "--pricing", "gpt-5",
                       "--json")
    assert code == 0 and json.loads(out)["cost"]["calls"] == len(script.turns)


def test_a_malformed_file_names_its_line_and_saves_nothing(tmp_path):
    bad = tmp_path / "bad.jsonl"
    good = Path("fixtures/transcripts/claude_code_session.jsonl").read_text().splitlines()
    good.insert(2, "{not json")
    bad.write_text("\n".join(good) + "\n")
    target = tmp_path / "out.jsonl"
    code, _, err = run("session", "import", str(bad), "-o", str(target),
                       "--format", "claude-code")
    assert code == 2 and "line 3" in err
    assert not target.exists() and not list(tmp_path.glob(".*part"))


def test_import_keeps_an_existing_file_unless_forced(tmp_path):
    target = tmp_path / "out.jsonl"
    target.write_text("mine\n")
    code, _, err = run("session", "import", "fixtures/transcripts/sharegpt.json", "-o",
                       str(target))
    assert code == 2 and "--force" in err and target.read_text() == "mine\n"


def test_a_scripts_times_must_go_forward(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text('{"role": "user", "text": "a", "at": 10}\n'
                    '{"role": "user", "text": "b", "at": 5}\n')
    code, _, err = run("session", "run", "--script", str(path))
    assert code == 2 and "line 2" in err and "before" in err


def test_compare_gives_rows_frontier_and_best_as_json():
    code, out, _ = run("session", "compare", "--script", SCRIPT, "--presets", "vmem,batch",
                       "--pricing", "gpt-4.1,claude-sonnet-4.5", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["open_loop"] and len(doc["rows"]) == 4 and len(doc["best"]) == 2
    assert {"preset", "pricing", "recall", "usd_per_turn", "frontier", "best"} <= set(
        doc["rows"][0])


def test_compare_names_a_bad_window():
    code, _, err = run("session", "compare", "--synthetic", "5", "--context-windows", "12,x")
    assert code == 2 and "context-windows" in err
