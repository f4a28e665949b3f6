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
from typing import TYPE_CHECKING, Any, TextIO

from simulator.engine.errors import ConfigError, VMemError
from simulator.engine.traces import write_trace
from simulator.llm.providers import ProviderError
from simulator.memory.memory_presets import preset_names

if TYPE_CHECKING:
    from simulator.llm.costing import SessionCost
    from simulator.llm.scripts import SessionScript

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
    _pricing_arguments(run)
    imp = actions.add_parser("import", help="a conversation (OpenAI messages, ShareGPT, Claude "
                                            "Code JSONL, a lab script) as a lab script")
    imp.add_argument("file", type=Path)
    imp.add_argument("-o", "--output", type=Path, required=True, help="the script to write")
    imp.add_argument("--format", default="auto",
                     choices=("auto", "openai", "sharegpt", "claude-code", "script"))
    imp.add_argument("--index", type=int, default=0,
                     help="which conversation of a ShareGPT list (from 0)")
    imp.add_argument("--force", action="store_true", help="replace the output file")
    imp.add_argument("--json", action="store_true", help="print one JSON document")
    compare = actions.add_parser(
        "compare", help="cost against recall: a session under presets x pricing x windows")
    source = compare.add_mutually_exclusive_group(required=True)
    source.add_argument("--script", type=Path, help="a lab script or any transcript")
    source.add_argument("--synthetic", type=int, metavar="TURNS",
                        help="a synthetic session of TURNS turns with probes")
    compare.add_argument("--presets", default="vmem,stable,batch,cacheaware,letta",
                         help="comma-separated presets")
    compare.add_argument("--pricing", default="claude-sonnet-4.5",
                         help="comma-separated pricing profiles")
    compare.add_argument("--pricing-dir", type=Path, action="append", default=[],
                         metavar="DIR")
    compare.add_argument("--context-windows", default="",
                         help="comma-separated windows in tokens (default: the script's)")
    compare.add_argument("--page-size", type=int, help="tokens per page")
    compare.add_argument("--json", action="store_true", help="print one JSON document")
    pricing = actions.add_parser("pricing", help="list the pricing profiles")
    pricing.add_argument("--pricing-dir", type=Path, action="append", default=[],
                         metavar="DIR", help="a folder of your own profiles (.toml/.json)")
    pricing.add_argument("--json", action="store_true", help="print one JSON list")


def _pricing_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pricing", metavar="NAME",
                        help="bill every model call with this pricing profile's prompt cache "
                             "(vmem session pricing lists them)")
    parser.add_argument("--pricing-dir", type=Path, action="append", default=[],
                        metavar="DIR", help="a folder of your own profiles (.toml/.json)")
    parser.add_argument("--ttl", help="the cache's time-to-live option (default: the "
                                      "profile's first, e.g. 5m)")
    parser.add_argument("--think-time", type=float, default=None, metavar="SECONDS",
                        help="seconds between turns when the file has no times (default 30)")


def make_pricing(args: argparse.Namespace) -> SessionCost | None:
    """The session's :class:`SessionCost` from ``--pricing``/``--ttl``/``--think-time`` (None
    without ``--pricing``)."""
    from simulator.llm.costing import SessionCost
    from simulator.memory.pricing import shipped_profile

    if not args.pricing:
        return None
    profile = shipped_profile(args.pricing, args.pricing_dir)
    think = 30.0 if args.think_time is None else args.think_time
    if think < 0:
        raise ConfigError("must be at least 0 seconds", field="think-time")
    return SessionCost(profile, ttl=args.ttl, think_time=think)


def cmd_pricing(args: argparse.Namespace, out: TextIO) -> int:
    from simulator.memory.pricing import SHIPPED_DIR, load_profiles

    profiles = load_profiles(SHIPPED_DIR, *args.pricing_dir)
    rows = [p.summary() for p in sorted(profiles.values(), key=lambda p: (p.provider, p.name))]
    if args.json:
        out.write(json.dumps(rows) + "\n")
        return 0
    out.write(f"{'name':24} {'provider':10} {'input':>7} {'cached':>7} {'output':>7}  cache\n")
    for r in rows:
        cached = "-" if r["cache_read"] is None else f"{r['cache_read']:.3f}"
        ttl = ", ".join(t["name"] for t in r["ttl"])
        shape = r["cache_mode"] if r["cache_mode"] == "none" else (
            f"{r['cache_mode']}, from {r['min_cacheable_tokens']:,} tokens, ttl {ttl}")
        out.write(f"{r['name']:24} {r['provider']:10} {r['input']:7.3f} {cached:>7} "
                  f"{r['output']:7.3f}  {shape}\n")
    out.write("USD per million tokens; sources: --json\n")
    return 0


def load_session_file(path: Path) -> SessionScript:
    """A lab script, or any transcript format (docs/cost.md §4) as a script (user turns timed
    when the file has times)."""
    from simulator.llm.scripts import load_script
    from simulator.llm.transcripts import load_transcript

    if path.suffix.lower() == ".jsonl":
        try:
            return load_script(path)
        except VMemError as first:
            try:
                transcript = load_transcript(path)
            except VMemError:
                raise first from None
    else:
        transcript = load_transcript(path)
    return transcript.to_script()


def cmd_import(args: argparse.Namespace, out: TextIO) -> int:
    """Read a conversation in any format and write it as a lab script, whole or not at all."""
    from simulator.llm.transcripts import load_transcript

    transcript = load_transcript(args.file, args.format, index=args.index)
    script = transcript.to_script()
    target = args.output
    if target.exists() and not args.force:
        raise ConfigError(f"{target} exists; add --force to replace it", field="output")
    partial = target.with_name(f".{target.name}.part")
    try:
        partial.write_text(script.to_jsonl(), encoding="utf-8")
        partial.replace(target)  # atomic: the file is the old one or the whole new one
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise VMemError(f"cannot write {target}: {exc.strerror or exc}") from None
    summary = {"file": str(args.file), "format": transcript.format, "output": str(target),
               "title": script.title, "user_turns": len(script.turns),
               "turns": len(transcript.turns), "timed": script.times() is not None,
               "documents": len(script.documents)}
    if args.json:
        out.write(json.dumps(summary) + "\n")
    else:
        out.write(f"{summary['file']}: {summary['format']}, {summary['turns']} turns "
                  f"({summary['user_turns']} from the user), "
                  f"{'timed' if summary['timed'] else 'no times'} -> {target}\n"
                  f"replay: vmem session run --script {target} --pricing NAME\n")
    return 0


def _names(text: str, flag: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise ConfigError("give at least one", field=flag)
    return names


def _windows(text: str) -> list[int | None]:
    if not text.strip():
        return [None]
    try:
        windows = [int(w) for w in _names(text, "context-windows")]
    except ValueError:
        raise ConfigError(f"expected whole numbers, got {text!r}",
                          field="context-windows") from None
    if any(w < 256 or w > 1_048_576 for w in windows):
        raise ConfigError("each between 256 and 1,048,576 tokens", field="context-windows")
    return windows


def cmd_compare(args: argparse.Namespace, out: TextIO) -> int:
    from simulator.llm.compare import compare_sessions
    from simulator.llm.synthetic import long_script
    from simulator.memory.pricing import shipped_profile

    if args.synthetic is not None:
        if not 1 <= args.synthetic <= 2000:
            raise ConfigError("between 1 and 2,000 turns", field="synthetic")
        script = long_script(args.synthetic, context_window=4096, page_size=128)
    else:
        script = load_session_file(args.script)
    profiles = [shipped_profile(n, args.pricing_dir) for n in _names(args.pricing, "pricing")]
    result = compare_sessions(script, _names(args.presets, "presets"), profiles,
                              _windows(args.context_windows), page_size=args.page_size)
    if args.json:
        out.write(json.dumps(result) + "\n")
        return 0
    out.write(f"{result['script']}: {result['turns']} turns, {result['probes']} probes "
              f"({result['note']})\n\n")
    out.write(f"{'pricing':20} {'window':>7} {'preset':11} {'recall':>7} {'$/turn':>10} "
              f"{'hit rate':>8} {'breaks':>6}\n")
    for r in result["rows"]:
        marks = ("*" if r["frontier"] else " ") + ("best" if r["best"] else "")
        recall = "-" if r["recall"] is None else f"{r['recall']:.0%}"
        out.write(f"{r['pricing']:20} {r['context_window']:>7} {r['preset']:11} {recall:>7} "
                  f"{r['usd_per_turn']:10.6f} {r['hit_rate']:8.0%} {r['cache_breaks']:>6}  "
                  f"{marks}\n")
    out.write("\n* on the frontier (no other is both cheaper and recalls more); best: the "
              "highest recall for the profile and window, the cheapest among equals\n")
    return 0


def cmd_session(args: argparse.Namespace, out: TextIO) -> int:
    if args.session_command == "pricing":
        return cmd_pricing(args, out)
    if args.session_command == "import":
        return cmd_import(args, out)
    if args.session_command == "compare":
        return cmd_compare(args, out)
    return cmd_run(args, out)


def cmd_run(args: argparse.Namespace, out: TextIO) -> int:
    from simulator.llm.factory import make_provider
    from simulator.llm.scripts import run_script, scripted_provider_for

    script = load_session_file(args.script)
    pricing = make_pricing(args)
    try:
        if args.provider == "scripted":
            # no model: any window the session asks for (a long session's 128k included)
            window = max(8192, args.context_window or 0,
                         script.settings.get("context_window", 0))
            provider = scripted_provider_for(script, context_window=window)
        else:
            provider = make_provider(args.provider)
        session = run_script(script, provider, preset=args.preset, compressor=args.compressor,
                             timeout=args.timeout, pricing=pricing,
                             context_window=args.context_window, page_size=args.page_size,
                             max_tokens=args.max_tokens)
    except ProviderError as exc:
        raise VMemError(f"{args.provider} provider: {exc.message}") from None
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
    cost = t.get("cost")
    if cost:
        lines.append(
            f"cost          ${cost['usd']:.4f} with {cost['pricing']} ({cost['cache_mode']} "
            f"cache, ttl {cost['ttl']}), ${cost['usd_no_cache']:.4f} without caching")
        lines.append(
            f"cache         read {cost['cache_read_tokens']:,}  written "
            f"{cost['cache_write_tokens']:,}  uncached {cost['uncached_tokens']:,}  output "
            f"{cost['output_tokens']:,}  hit rate {cost['hit_rate']:.0%}  breaks "
            f"{cost['cache_breaks']}")
    if "trace" in t:
        lines.append(f"trace         {t['trace']['accesses']} accesses -> {t['trace']['path']}"
                     f" (replay: vmem compare {t['trace']['path']} --l0-tokens {t['budget']}; "
                     f"open-loop)")
    for error in errors[:3]:
        lines.append(f"error         {error['kind']}: {error['message']}")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: vmem session run --script FILE")
