"""Cost against recall: one session replayed under presets x pricing profiles x context
windows (docs/cost.md §6).

Every combination replays the same scripted session (its own replies: the scripted provider)
and reports its recall success, its cost per turn with that profile's prompt cache, its hit
rate and cache breaks. For each pricing profile the **frontier** is the set of combinations no
other beats on both cost per turn and recall; for each profile and window the **best** is the
one with the highest recall, the cheapest among equals.

The replays are **open-loop**: the answers are the script's, so every preset is asked the same
questions and given the same answers whatever its memory held — a real model would have
answered differently with a different context.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from simulator.engine import ConfigError
from simulator.memory.memory_presets import get_preset
from simulator.memory.pricing import PricingProfile

from .costing import SessionCost
from .scripts import SessionScript, run_script, scripted_provider_for

__all__ = ["MAX_COMBINATIONS", "compare_sessions"]

#: the most replays one comparison may ask for
MAX_COMBINATIONS = 64


def _row(script: SessionScript, preset: str, profile: PricingProfile, window: int | None,
         page_size: int | None) -> dict[str, Any]:
    provider = scripted_provider_for(script, context_window=max(
        8192, window or 0, script.settings.get("context_window", 0)))
    session = run_script(script, provider, preset=preset, pricing=SessionCost(profile),
                         context_window=window, page_size=page_size)
    totals = session.totals()
    cost = totals["cost"]
    turns = max(1, totals["turns"])
    return {"preset": preset, "pricing": profile.name, "context_window": totals["context_window"],
            "budget": totals["budget"], "turns": totals["turns"],
            "recall": totals["recall_success"], "probes": totals["probes"],
            "usd": cost["usd"], "usd_per_turn": cost["usd"] / turns,
            "usd_no_cache": cost["usd_no_cache"], "hit_rate": cost["hit_rate"],
            "cache_breaks": cost["cache_breaks"], "evictions": totals["evictions"],
            "faults": totals["faults"], "compactions": totals["compactions"]}


def _dominated(row: dict[str, Any], others: list[dict[str, Any]]) -> bool:
    recall = row["recall"] or 0.0
    return any((o["recall"] or 0.0) >= recall and o["usd_per_turn"] <= row["usd_per_turn"]
               and ((o["recall"] or 0.0) > recall or o["usd_per_turn"] < row["usd_per_turn"])
               for o in others)


def compare_sessions(script: SessionScript, presets: Sequence[str],
                     profiles: Sequence[PricingProfile], windows: Sequence[int | None] = (None,),
                     *, page_size: int | None = None) -> dict[str, Any]:
    """Replay ``script`` under every preset x profile x window; rows, frontier and best."""
    presets = [get_preset(p).name for p in presets]
    if not presets or not profiles or not windows:
        raise ConfigError("give at least one preset, one pricing profile and one window",
                          field="presets" if not presets else "pricing")
    count = len(presets) * len(profiles) * len(windows)
    if count > MAX_COMBINATIONS:
        raise ConfigError(f"{count} replays asked; at most {MAX_COMBINATIONS} (fewer presets, "
                          f"profiles or windows)", field="presets")
    rows = [_row(script, preset, profile, window, page_size)
            for profile in profiles for window in windows for preset in presets]
    for row in rows:
        peers = [r for r in rows if r["pricing"] == row["pricing"] and r is not row]
        row["frontier"] = not _dominated(row, peers)
    best = []
    for profile in profiles:
        for window in sorted({r["context_window"] for r in rows}):
            group = [r for r in rows if r["pricing"] == profile.name
                     and r["context_window"] == window]
            if group:
                winner = min(group, key=lambda r: (-(r["recall"] or 0.0), r["usd_per_turn"]))
                winner["best"] = True
                best.append({"pricing": profile.name, "context_window": window,
                             "preset": winner["preset"], "recall": winner["recall"],
                             "usd_per_turn": winner["usd_per_turn"]})
    for row in rows:
        row.setdefault("best", False)
    return {"script": script.title, "turns": len(script.turns), "probes": script.probes,
            "open_loop": True,
            "note": "open-loop replay: every preset gets the script's own answers",
            "rows": rows, "best": best}
