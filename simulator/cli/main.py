"""``vmem``: the engine from the command line.

    vmem simulate TRACE|--workload NAME [--param K=V ...] [--policy P --l0-tokens N |
                  --config FILE] [--json]
    vmem compare  TRACE|--workload NAME --policies lru,arc,... --l0-tokens N[,M...] [--json]
    vmem generate NAME -o FILE [--n N --pages P --alpha A --seed S --param K=V ...]
    vmem mrc      TRACE|--workload NAME --policies lru,arc,... --sizes N,M,... [--sample R]

The model's flags (``--prefetch``, ``--thrash-window``…) and the generators' parameters, with
their help and ranges, come from the engine's descriptions (``SIM_PARAMS``, ``GENERATORS``).
Errors end the program with one clear line on stderr, naming the flag, and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

import simulator.memory  # noqa: F401 - registers the importance policy for --policy
from simulator.cli.progress import ProgressBar
from simulator.engine.compare import Comparison, Variant, simulate
from simulator.engine.config import SIM_PARAMS, LatencyModel, SimConfig, TierConfig
from simulator.engine.errors import ConfigError, VMemError
from simulator.engine.events import RunResult
from simulator.engine.observers import Observer
from simulator.engine.params import Param
from simulator.engine.policies import policy_names
from simulator.engine.sources import SessionSource, Source, TraceSource, WorkloadSource
from simulator.engine.traces import CsvLayout, write_trace
from simulator.engine.workloads import GENERATORS, WORKLOADS, Workload

CLASSIC_POLICIES = ("lru", "fifo", "lfu", "clock", "arc", "2q", "sieve", "s3fifo")


# --- argument parsing ---------------------------------------------------------------------

#: the model's settings offered as flags (their help and range from SIM_PARAMS)
MODEL_FLAGS = ("page_size", "unit_pages", "anti_thrash", "prefetch", "thrash_window",
               "window_accesses", "write_policy", "seed")
METAVARS = {"anti_thrash": "K", "prefetch": "N", "thrash_window": "W", "window_accesses": "N",
            "page_size": "TOKENS"}
#: generator parameters that have a shortcut flag
SHORTCUTS = {"n_pages": "--pages", "scan_pages": "--pages", "hot_pages": "--pages",
             "alpha": "--alpha", "n": "--accesses", "tokens": "--tokens", "seed": "--seed",
             "phases": "--pages/--accesses/--alpha"}
_TYPES = {"int": int, "number": float, "fraction": float}


def flag_of(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_param_flag(parser: argparse.ArgumentParser, param: Param, **overrides: Any) -> None:
    """A flag for a described setting: its type, default, metavar and help from ``param``."""
    options: dict[str, Any] = {"help": param.describe(), "default": param.default}
    if param.kind == "bool":
        options["action"] = "store_true"
    elif param.kind == "choice":
        options["choices"] = param.options()
    else:
        options["type"] = _TYPES.get(param.kind, str)
        options["metavar"] = METAVARS.get(param.name, param.name.upper())
    options.update(overrides)
    parser.add_argument(flag_of(param.name), **options)


def generators_help() -> str:
    """Every generator with its parameters (from their descriptions), for ``--help``."""
    lines = ["generators and their parameters (give them with --param NAME=VALUE, or all at "
             "once with --workload-json):"]
    for name, generator in GENERATORS.items():
        lines.append(f"  {name}: {generator.summary}")
        for param in generator.params:
            need = "required" if param.required else f"default {param.default!r}"
            lines.append(f"      {param.name:<16} {param.describe()} ({need})")
    return "\n".join(lines)


def _int_list(text: str) -> list[int]:
    try:
        values = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one value")
    return values


def _param_pair(text: str) -> tuple[str, Any]:
    """``NAME=VALUE`` (VALUE read as JSON when it is, else as text)."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return name.strip(), json.loads(value)
    except ValueError:
        return name.strip(), value


def _add_workload_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workload-json", metavar="JSON",
                        help='generator parameters as JSON, e.g. \'{"n_pages": 1000}\'')
    parser.add_argument("-P", "--param", dest="params", type=_param_pair, action="append",
                        default=[], metavar="NAME=VALUE",
                        help="a generator parameter (repeat it; see the list below)")
    parser.add_argument("--pages", type=int, default=10_000, help="generator: distinct pages")
    parser.add_argument("--alpha", type=float, default=1.0, help="generator: Zipf exponent")
    parser.add_argument("-n", "--accesses", type=int, default=100_000,
                        help="generator: number of accesses")
    parser.add_argument("--tokens", type=int, default=1, help="generator: tokens per page")


def _add_source_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("trace", nargs="?", type=Path,
                        help="trace file (one id per line, CSV, JSONL or libCacheSim's "
                             "oracleGeneral binary; .gz and .zst read transparently)")
    parser.add_argument("--format", dest="fmt", choices=("plain", "csv", "jsonl", "oracle"),
                        help="trace format when the file name does not tell")
    parser.add_argument("--columns", help="a CSV of another shape: which column holds what, "
                        "by number or header name, e.g. time=1,obj_id=2,size=3")
    parser.add_argument("--delimiter", default=",",
                        help="with --columns: one character, or comma, tab, semicolon, "
                             "space, pipe (default: comma)")
    parser.add_argument("--no-header", action="store_true",
                        help="with --columns: the first row is data, not column names")
    parser.add_argument("--workload", choices=sorted(WORKLOADS),
                        help="use a generator instead of a trace (its parameters: below)")
    _add_workload_args(parser)


def _add_model_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="a run configuration (JSON)")
    parser.add_argument("--l0-tokens", type=_int_list, default=[1000],
                        help="L0 capacity in tokens (pages in classic mode); compare takes a list")
    parser.add_argument("--hierarchy", action="store_true",
                        help="the five tiers L0-L4 with typical latencies instead of L0 alone")
    settings = {param.name: param for param in SIM_PARAMS}
    for name in MODEL_FLAGS:
        add_param_flag(parser, settings[name])
    parser.add_argument("--sessions", type=int, default=0, metavar="N",
                        help="label accesses round-robin as N sessions sharing the tiers")
    parser.add_argument("--concurrent", action="store_true",
                        help="run each session as its own SimPy process: faults queue at tiers "
                             "with a concurrency limit")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--no-progress", action="store_true", help="never draw a progress bar")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vmem", description="Simulate virtual memory for LLM context (VMem Lab engine).")
    commands = parser.add_subparsers(dest="command", required=True)
    described = {"formatter_class": argparse.RawDescriptionHelpFormatter,
                 "epilog": generators_help()}

    sim = commands.add_parser("simulate", help="run one configuration", **described)
    _add_source_args(sim)
    _add_model_args(sim)
    sim.add_argument("--policy", help=f"L0 policy (default lru, or the config's): "
                     f"{', '.join(policy_names())}")
    sim.add_argument("--regret", action="store_true", help="also run OPT and report regret")
    sim.add_argument("--save-config", type=Path, help="write the effective config as JSON")

    cmp_ = commands.add_parser("compare", help="several policies on the same accesses",
                               **described)
    _add_source_args(cmp_)
    _add_model_args(cmp_)
    cmp_.add_argument("--policies", default=",".join(CLASSIC_POLICIES),
                      help="comma-separated L0 policies (default: the classic eight)")
    cmp_.add_argument("--no-opt", action="store_true", help="leave out the OPT reference")

    gen = commands.add_parser("generate", help="write a synthetic trace to a file",
                              **described)
    gen.add_argument("workload", choices=sorted(WORKLOADS))
    gen.add_argument("-o", "--output", type=Path, required=True,
                     help="output file (.csv, .jsonl, .txt; add .gz to compress)")
    gen.add_argument("--format", dest="fmt", choices=("plain", "csv", "jsonl"))
    _add_workload_args(gen)
    gen.add_argument("--seed", type=int, default=0)

    from simulator.cli.mrc import add_mrc_arguments

    mrc = commands.add_parser("mrc", help="miss-ratio curves: policies x cache sizes")
    _add_source_args(mrc)
    add_mrc_arguments(mrc, _int_list)

    from simulator.cli.explain import add_explain_arguments

    add_explain_arguments(commands.add_parser(
        "explain", help="a paging exercise, step by step (OSTEP-style; --solve for answers)"),
        _param_pair)

    # LLM sessions live outside the engine (they do I/O): their arguments and handler are
    # imported only when the parser is built, never when the engine is imported.
    from simulator.cli.session import add_session_arguments

    add_session_arguments(commands.add_parser(
        "session", help="LLM chat sessions whose context the virtual memory manages"))
    return parser


class UsageError(VMemError):
    pass


def fail_with_flags(exc: ConfigError, flags: Mapping[str, str],
                    default: str | None = None) -> NoReturn:
    """``exc`` (every problem in it) as one line naming the flags the user typed:
    ``--prefetch: must be at most 256, got 1000``, ``--l0-tokens (tiers[0].capacity_tokens):
    must be at least 1, got 0``."""
    parts = []
    for error in exc.errors:
        field = error.field or ""
        flag = flags.get(field) or flags.get(field.split("[", 1)[0].split(".", 1)[0]) or default
        named = flag and field and field not in flag and flag != flag_of(field)
        label = f"{flag} ({field})" if named else flag or field
        parts.append(f"{label}: {error.message}" if label else error.message)
    raise UsageError("; ".join(parts)) from None


def _workload(args: argparse.Namespace) -> Workload:
    """The generator and its parameters: ``--workload-json``, or the shortcut flags, and
    ``--param`` on top of either."""
    name = args.workload
    if args.workload_json:
        try:
            params = json.loads(args.workload_json)
        except json.JSONDecodeError as exc:
            raise UsageError(f"--workload-json is not valid JSON: {exc.msg}") from None
        if not isinstance(params, dict):
            raise UsageError("--workload-json must be a JSON object")
        flags = {key: f"--workload-json {key}" for key in params}
    else:
        params, flags = _shortcut_params(args), dict(SHORTCUTS)
    for key, value in args.params:
        params[key] = value
        flags[key] = f"--param {key}"
    workload = Workload(name, params)
    try:
        workload.validate()
    except ConfigError as exc:
        fail_with_flags(exc, {"name": "--workload", **flags}, "--workload")
    return workload


def _shortcut_params(args: argparse.Namespace) -> dict[str, Any]:
    """Parameters from --pages, --alpha, -n, --tokens and --seed, for the generators that
    take them."""
    name = args.workload
    takes = {param.name for param in GENERATORS[name].params}
    params: dict[str, Any] = {"seed": args.seed}
    if "tokens" in takes:
        params["tokens"] = args.tokens
    if "n_pages" in takes:
        params["n_pages"] = args.pages
    if "n" in takes:
        params["n"] = args.accesses
    if "alpha" in takes:
        params["alpha"] = args.alpha
    if name == "phased":
        third = max(args.accesses // 3, 1)
        params["phases"] = [[args.pages, third, args.alpha]] * 3
    if name == "scan_hotset":
        params.update(hot_pages=max(args.pages // 10, 1), scan_pages=args.pages)
    return params


def _source(args: argparse.Namespace) -> Source:
    source = _plain_source(args)
    if args.sessions:
        if args.sessions < 1:
            raise UsageError("--sessions must be at least 1")
        return SessionSource(source, args.sessions)
    return source


def _plain_source(args: argparse.Namespace) -> Source:
    if args.trace and args.workload:
        raise UsageError("give either a trace file or --workload, not both")
    if args.params and not args.workload:
        raise UsageError("--param sets a generator's parameter: give --workload too")
    if args.trace:
        if not args.trace.exists():
            raise UsageError(f"no such trace file: {args.trace}")
        return TraceSource(args.trace, args.fmt, unit_pages=args.unit_pages,
                           csv_layout=_csv_layout(args))
    if args.workload:
        return WorkloadSource(_workload(args))
    raise UsageError("give a trace file or --workload NAME")


def _csv_layout(args: argparse.Namespace) -> CsvLayout | None:
    if args.columns is None:
        if args.no_header or args.delimiter != ",":
            raise UsageError("--delimiter and --no-header describe a CSV of another shape: "
                             "give --columns too")
        return None
    try:
        return CsvLayout.build(args.columns, args.delimiter, header=not args.no_header)
    except ConfigError as exc:
        raise UsageError(f"--{exc.field}: {exc.message}") from None


def _config(args: argparse.Namespace, policy: str | None, l0_tokens: int,
            policy_flag: str = "--policy") -> SimConfig:
    """The run's configuration: ``--config`` (its L0 policy overridden by ``policy`` when
    given) or one built from the flags. Errors name the flag (or the file)."""
    if args.config:
        config = SimConfig.load(args.config)
        if policy:
            config.tiers[0].policy = policy
        try:
            return config.validate()
        except ConfigError as exc:
            fail_with_flags(exc, {"tiers[0].policy": policy_flag} if policy else {},
                            f"--config {args.config}")
    flags = {"tiers[0].capacity_tokens": "--l0-tokens", "tiers[0].policy": policy_flag,
             "tiers[0].policy_params": policy_flag,
             **{name: flag_of(name) for name in MODEL_FLAGS}}
    common: dict[str, Any] = {name: getattr(args, name) for name in MODEL_FLAGS}
    try:
        if args.hierarchy:
            return SimConfig.hierarchy(l0_tokens=l0_tokens, policy=policy or "lru", **common)
        tier = TierConfig("L0", l0_tokens, policy or "lru", LatencyModel())
        return SimConfig(tiers=[tier], **common).validate()
    except ConfigError as exc:
        fail_with_flags(exc, flags, "--hierarchy" if args.hierarchy else None)


def _progress(args: argparse.Namespace, source: Source, label: str) -> list[Observer]:
    if args.no_progress or not sys.stderr.isatty():
        return []
    total = source.length
    if total is None and isinstance(source, TraceSource):
        total = source.count()
    return [ProgressBar(total, label=label)]


# --- commands -----------------------------------------------------------------------------

def _all_of(*steps: Any) -> list[Any]:
    """Run every step; if any fails, fail with all their problems on one line."""
    results, problems = [], []
    for step in steps:
        try:
            results.append(step())
        except UsageError as exc:
            problems.append(str(exc))
    if problems:
        raise UsageError("; ".join(problems))
    return results


def cmd_simulate(args: argparse.Namespace, out: TextIO) -> int:
    if len(args.l0_tokens) != 1:
        raise UsageError("simulate takes one --l0-tokens value (compare takes a list)")
    source, config = _all_of(lambda: _source(args),
                             lambda: _config(args, args.policy, args.l0_tokens[0]))
    if args.save_config:
        config.save(args.save_config)
    result = simulate(config, source, observers=_progress(args, source, config.tiers[0].policy),
                      regret=args.regret, concurrent=args.concurrent)
    if args.json:
        out.write(json.dumps(result.to_dict(), default=str) + "\n")
    else:
        out.write(format_result(result, source.label) + "\n")
    return 0


def cmd_compare(args: argparse.Namespace, out: TextIO) -> int:
    source = _source(args)
    policies = [p.strip().lower() for p in args.policies.split(",") if p.strip()]
    if not policies:
        raise UsageError("--policies needs at least one policy")
    variants = []
    for capacity in args.l0_tokens:
        for policy in policies:
            label = policy if len(args.l0_tokens) == 1 else f"{policy} @ {capacity}"
            variants.append(Variant(label, _config(args, policy, capacity, "--policies")))
    comparison = Comparison(variants, source, with_opt=not args.no_opt,
                            concurrent=args.concurrent)
    bar = _progress(args, source, "compare")
    step = 50_000
    target = 0
    while not comparison.finished:
        target += step
        comparison.run_until(target)
        for observer in bar:
            if isinstance(observer, ProgressBar):
                observer.draw(min(target, observer.total or target), time.monotonic())
    for observer in bar:
        if isinstance(observer, ProgressBar):
            observer.close()
    rows = comparison.rows()
    if args.json:
        out.write(json.dumps({"source": source.label, "rows": rows}) + "\n")
    else:
        out.write(format_rows(rows, source.label) + "\n")
    return 0


def cmd_generate(args: argparse.Namespace, out: TextIO) -> int:
    workload = _workload(args)
    if workload.length is None:
        raise UsageError("generate needs a finite workload: give -n")
    fmt = args.fmt
    count = write_trace(args.output, workload.build(), fmt=fmt) if fmt else write_trace(
        args.output, workload.build())
    out.write(f"wrote {count:,} accesses to {args.output}\n")
    return 0


def cmd_mrc(args: argparse.Namespace, out: TextIO) -> int:
    from simulator.cli.mrc import run_mrc

    return run_mrc(args, out, _source(args))


def cmd_explain(args: argparse.Namespace, out: TextIO) -> int:
    from simulator.cli.explain import run_explain

    return run_explain(args, out)


def cmd_session(args: argparse.Namespace, out: TextIO) -> int:
    from simulator.cli.session import cmd_session as run_session

    return run_session(args, out)


# --- output -------------------------------------------------------------------------------

def format_result(result: RunResult, label: str) -> str:
    lat = result.latency_ms
    lines = [
        f"source        {label}",
        f"policy        {result.policy}",
        f"requests      {result.requests:,}  (reads {result.reads:,}, writes {result.writes:,})",
        f"hits          {result.hits:,}",
        f"faults        {result.faults:,}  miss ratio {result.miss_ratio:.4f}",
        f"refaults      {result.refaults:,}  thrash index {result.thrash_index:.3f}",
        f"latency ms    mean {lat.mean:.3f}  p50 {lat.p50:.3f}  p95 {lat.p95:.3f}  "
        f"p99 {lat.p99:.3f}",
        f"sim time      {result.sim_time_ms:,.1f} ms",
    ]
    if result.regret is not None:
        lines.append(f"regret vs OPT {result.regret:,}  (OPT faults {result.opt_faults:,})")
    lines.append("")
    header = f"{'tier':<5} {'capacity':>14} {'policy':<8} {'hits':>12} {'misses':>12} " \
             f"{'hit ratio':>9} {'evictions':>11} {'used':>14}"
    lines += [header, "-" * len(header)]
    for t in result.tiers:
        cap = "unlimited" if t.capacity_tokens is None else f"{t.capacity_tokens:,}"
        lines.append(f"{t.name:<5} {cap:>14} {t.policy:<8} {t.hits:>12,} {t.misses:>12,} "
                     f"{t.hit_ratio:>9.4f} {t.evictions:>11,} {t.used_tokens:>14,}")
    return "\n".join(lines)


def format_rows(rows: list[dict[str, Any]], label: str) -> str:
    header = f"{'policy':<16} {'capacity':>10} {'requests':>10} {'faults':>10} " \
             f"{'miss ratio':>10} {'regret':>8} {'p95 ms':>8} {'thrash':>7}"
    lines = [f"source: {label}", header, "-" * len(header)]
    for row in rows:
        regret = "-" if row["regret"] is None else f"{row['regret']:,}"
        lines.append(
            f"{row['label']:<16} {row['capacity_tokens']:>10,} {row['requests']:>10,} "
            f"{row['faults']:>10,} {row['miss_ratio']:>10.4f} {regret:>8} "
            f"{row['latency_p95_ms']:>8.2f} {row['thrash_index']:>7.3f}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = {"simulate": cmd_simulate, "compare": cmd_compare, "generate": cmd_generate,
                "session": cmd_session, "mrc": cmd_mrc, "explain": cmd_explain}
    try:
        return handlers[args.command](args, out)
    except VMemError as exc:
        sys.stderr.write(f"vmem: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("vmem: interrupted\n")
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
