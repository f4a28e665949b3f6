"""Memory work per turn beside the model's time, for the scripted sessions.

    .venv/bin/python bench/sessions.py [--no-model] [--max-tokens 16] [--repeat 5]

For every conversation in ``fixtures/sessions/`` and the presets vmem and chuk:

* with the **scripted** provider (no model: a pure memory figure, best of ``--repeat`` runs):
  milliseconds per turn spent on paging (writing pages, demand paging, tool faults), packing
  (building the prompt and manifest from L0), compression, and in total;
* with the **embedded** SmolLM2 (``--max-tokens`` per answer): the same memory figure beside
  the model's seconds per turn.

Prints a Markdown table (paste it into bench/README.md, section "Sessions").
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulator.llm.scripts import load_script, run_script  # noqa: E402

PRESETS = ("vmem", "chuk")


def measure(script, provider, preset: str, max_tokens: int | None) -> dict[str, float]:
    session = run_script(script, provider, preset=preset, max_tokens=max_tokens)
    results = session.results
    turns = len(results)
    per = {key: 1000 * sum(r.timings.get(key, 0.0) for r in results) / turns
           for key in ("paging", "packing", "compression")}
    per["memory"] = 1000 * sum(r.memory_seconds for r in results) / turns
    per["model"] = sum(r.model_seconds for r in results) / turns
    totals = session.totals()
    per["recall"] = totals["recall_success"]
    per["faults"] = totals["faults"]
    per["turns"] = turns
    per["errors"] = totals["errors"]
    return per


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-model", action="store_true", help="skip the embedded model")
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    scripts = sorted((ROOT / "fixtures" / "sessions").glob("*.jsonl"))
    embedded = None
    if not args.no_model:
        from simulator.llm.embedded import EmbeddedProvider

        embedded = EmbeddedProvider(context_window=2048)
        print(f"embedded model: {embedded.model}, {embedded.threads} thread(s), tokens by "
              f"{embedded.tokenizer}\n")
    print("| script | preset | provider | turns | faults | recall | paging ms/turn | "
          "packing ms/turn | compression ms/turn | memory ms/turn | model s/turn |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for path in scripts:
        script = load_script(path)
        for preset in PRESETS:
            runs = [measure(script, None, preset, None) for _ in range(args.repeat)]
            best = min(runs, key=lambda r: r["memory"])
            rows = [("scripted", best)]
            if embedded is not None:
                rows.append(("embedded", measure(script, embedded, preset, args.max_tokens)))
            for provider, r in rows:
                recall = "-" if r["recall"] is None else f"{r['recall']:.0%}"
                model = "-" if provider == "scripted" else f"{r['model']:.2f}"
                print(f"| {path.stem} | {preset} | {provider} | {r['turns']} | {r['faults']} "
                      f"| {recall} | {r['paging']:.2f} | {r['packing']:.2f} | "
                      f"{r['compression']:.2f} | {r['memory']:.2f} | {model} |")


if __name__ == "__main__":
    main()
