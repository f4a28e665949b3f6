"""Cost against recall (docs/cost.md §6): each row is the replay it stands for, the frontier
is exactly the rows no other beats on both axes, the best is the highest recall, cheapest."""

from __future__ import annotations

import pytest

from simulator.engine import ConfigError
from simulator.llm.compare import MAX_COMBINATIONS, compare_sessions
from simulator.llm.costing import SessionCost
from simulator.llm.scripts import load_script, run_script
from simulator.llm.synthetic import long_script
from simulator.memory.pricing import shipped_profile

PRESETS = ["vmem", "batch", "cacheaware", "letta"]


@pytest.fixture(scope="module")
def result():
    script = long_script(40, context_window=3072, page_size=128, probe_after=15)
    profiles = [shipped_profile("claude-sonnet-4.5"), shipped_profile("gpt-4.1")]
    return script, compare_sessions(script, PRESETS, profiles, [3072, 4096])


def test_every_row_is_its_own_replay(result):
    script, found = result
    assert found["open_loop"] is True and len(found["rows"]) == 4 * 2 * 2
    row = next(r for r in found["rows"] if r["preset"] == "batch" and r["pricing"] == "gpt-4.1"
               and r["context_window"] == 4096)
    alone = run_script(script, preset="batch", context_window=4096,
                       pricing=SessionCost(shipped_profile("gpt-4.1"))).totals()
    assert row["usd"] == pytest.approx(alone["cost"]["usd"])
    assert row["recall"] == alone["recall_success"]
    assert row["usd_per_turn"] == pytest.approx(alone["cost"]["usd"] / alone["turns"])


def test_the_frontier_is_the_rows_nothing_beats(result):
    _, found = result
    for row in found["rows"]:
        peers = [r for r in found["rows"] if r["pricing"] == row["pricing"] and r is not row]
        beaten = any(p["recall"] >= row["recall"] and p["usd_per_turn"] <= row["usd_per_turn"]
                     and (p["recall"] > row["recall"] or p["usd_per_turn"] < row["usd_per_turn"])
                     for p in peers)
        assert row["frontier"] is not beaten


def test_the_best_per_budget_recalls_most_and_costs_least_among_equals(result):
    _, found = result
    assert len(found["best"]) == 4  # two profiles x two windows
    for best in found["best"]:
        group = [r for r in found["rows"] if r["pricing"] == best["pricing"]
                 and r["context_window"] == best["context_window"]]
        top = max(r["recall"] for r in group)
        cheapest = min(r["usd_per_turn"] for r in group if r["recall"] == top)
        assert best["recall"] == top and best["usd_per_turn"] == cheapest
        assert sum(r["best"] for r in group) == 1


def test_too_many_replays_are_refused():
    script = load_script("fixtures/sessions/coding.jsonl")
    profiles = [shipped_profile("gpt-4.1")] * 9
    with pytest.raises(ConfigError) as info:
        compare_sessions(script, ["vmem"] * 8, profiles, [4096])
    assert str(MAX_COMBINATIONS) in info.value.message
