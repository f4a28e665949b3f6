"""``vmem session run``: play a scripted conversation through a model with managed memory.

    vmem session run --script fixtures/sessions/long_chat.jsonl [--provider embedded|http|scripted]
                     [--preset vmem|letta|memgpt|chuk] [--json] [--save-trace FILE]

Registered by :mod:`simulator.cli.main` lazily, so the engine never imports this package.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from simulator.engine.errors import VMemError
from simulator.engine.traces import write_trace
from simulator.llm.providers import ProviderError
from simulator.memory.memory_presets import preset_names

__all__ = ["add_session_arguments", "cmd_session"]

SUMMARY_FIELDS = ("turns", "faults", "evictions", "recall_success", "thrash_index",
                  "prompt_tokens", "completion_tokens", "model_seconds", "memory_seconds")


def add_session_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="session_command", required=True)
    run = actions.add_parser("run", help="play a scripted conversation (JSONL) with probes")
    run.add_argument("--script", type=Path, required=True, help="conversation file (JSONL)")
    run.add_argument("--provider", choices=("scripted", "embedded", "http"),
                     default="scripted",
                     help="scripted (the file's own replies, no model), embedded (SmolLM2 "
                          "in-process) or http (VMEM_LLM_BASE_URL, VMEM_LLM_MODEL, "
                          "VMEM_LLM_API_KEY)")
    run.add_argument("--preset", default="vmem", help=f"memory preset: "
                                                      f"{', '.join(preset_names())}")
    run.add_argument("--context-window", type=int, help="tokens (default: the script's)")
    run.add_argument("--page-size", type=int, help="tokens per page (default: the script's)")
    run.add_argument("--max-tokens", type=int, help="answer budget (default: the script's)")
    run.add_argument("--compressor", choices=("extractive", "llm"), default="extractive")
    run.add_argument("--timeout", type=float, default=120.0, help="seconds per model call")
    run.add_argument("--save-trace", type=Path, metavar="FILE",
                     help="write the recorded accesses (csv/jsonl, .gz) for vmem simulate")
    run.add_argument("--turns", action="store_true", help="with --json: include every turn")
    run.add_argument("--json", action="store_true", help="print one JSON document")


def cmd_session(args: argparse.Namespace, out: TextIO) -> int:
    from simulator.llm.factory import make_provider
    from simulator.llm.scripts import load_script, run_script, scripted_provider_for

    script = load_script(args.script)
    try:
        if args.provider == "scripted":
            provider = scripted_provider_for(script)
        else:
            provider = make_provider(args.provider)
    except ProviderError as exc:
        raise VMemError(f"{args.provider} provider: {exc.message}") from None
    session = run_script(script, provider, preset=args.preset, compressor=args.compressor,
                         timeout=args.timeout, context_window=args.context_window,
                         page_size=args.page_size, max_tokens=args.max_tokens)
    totals = session.totals()
    if args.save_trace:
        count = write_trace(args.save_trace, session.memory.trace)
        totals["trace"] = {"path": str(args.save_trace), "accesses": count}
    errors = [r.error for r in session.results if r.error]
    if args.json:
        doc: dict[str, Any] = {"script": str(args.script), **totals,
                               "error_messages": [e["message"] for e in errors][:5]}
        if args.turns:
            doc["turn_results"] = [r.to_dict() for r in session.results]
        out.write(json.dumps(doc) + "\n")
    else:
        out.write(format_totals(script.title, totals, errors) + "\n")
    return 0


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def format_totals(title: str, t: dict[str, Any], errors: list[dict[str, str]]) -> str:
    lines = [
        f"session       {title}",
        f"model         {t['provider']} {t['model']}  (tokens: {t['tokenizer']}; tools: "
        f"{t['tools']})",
        f"memory        preset {t['preset']} ({t['policy']}), L0 budget {t['budget']} of "
        f"{t['context_window']} tokens, pages of {t['page_size']}",
        f"turns         {t['turns']}  (model calls {t['model_calls']}, errors {t['errors']})",
        f"faults        {t['faults']}  (demand {t['demand_faults']}, tools {t['tool_faults']})"
        f"  evictions {t['evictions']}  thrash index {t['thrash_index']:.3f}",
        f"recall        {_share(t['recall_success'])}  ({t['probes_recalled']}/{t['probes']} "
        f"probe turns had the pages they need in the context when the model was called)",
        f"answers       {_share(t['answer_hit_rate'])}  ({t['answer_hits']}/"
        f"{t['answers_checked']} answers contained the expected text)",
        f"cut off       {t['truncated']}  (answers that stopped at the {t['max_tokens']}-token "
        f"limit)",
        f"tokens        prompt {t['prompt_tokens']:,}  completion {t['completion_tokens']:,}",
        f"time          model {t['model_seconds']:.2f} s  memory {t['memory_seconds']:.3f} s",
        f"summaries     {t['summaries']}  compactions {t['compactions']}  "
        f"compressions {t['compressions']}",
    ]
    if "trace" in t:
        lines.append(f"trace         {t['trace']['accesses']} accesses -> {t['trace']['path']}"
                     f" (replay: vmem compare {t['trace']['path']} --l0-tokens {t['budget']}; "
                     f"open-loop)")
    for error in errors[:3]:
        lines.append(f"error         {error['kind']}: {error['message']}")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: vmem session run --script FILE")
