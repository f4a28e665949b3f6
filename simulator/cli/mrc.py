"""``vmem mrc``: miss-ratio curves of several policies on a trace or a generator.

    vmem mrc TRACE --policies lru,arc,s3fifo --sizes 100,1000,10000 [--unit-pages]
                   [--sample 0.01 [--min-pages 100] [--max-error 0.0025] [--salt 0]]
                   [--jobs N] [--json] [--no-progress]
    vmem mrc TRACE --log-sizes 20 [--low 0.1] ...

``--json`` prints ``{"requests": N, "curves": {"lru": [{"size": 100, "misses": M,
"miss_ratio": r, "exact": true, ...}, ...], ...}, ...}``; without it, a table with one column
per policy. Sampled points are marked ``~`` with their estimated standard error. What every
number means is in docs/mrc.md. Registered by :mod:`simulator.cli.main`, which gives this
command the source arguments (trace or ``--workload``) of the other commands.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from simulator.cli.progress import ProgressBar
from simulator.engine.errors import ConfigError
from simulator.engine.mrc import (
    DEFAULT_MAX_ERROR,
    DEFAULT_MIN_PAGES,
    CellResult,
    MrcResult,
    footprint,
    log_sizes,
    miss_ratio_curves,
)
from simulator.engine.sources import Source

__all__ = ["add_mrc_arguments", "format_curves", "run_mrc"]


def add_mrc_arguments(parser: argparse.ArgumentParser,
                      int_list: Callable[[str], list[int]]) -> None:
    """The arguments of ``vmem mrc`` beside the source ones (trace or ``--workload``);
    ``int_list`` parses a comma-separated list of integers as the other commands do."""
    parser.set_defaults(sessions=0)  # a reference string has no sessions
    parser.add_argument("--policies", default="lru",
                        help="comma-separated policies (default lru); opt gives the lower bound")
    sizes = parser.add_mutually_exclusive_group(required=True)
    sizes.add_argument("--sizes", type=int_list, metavar="N,N,...",
                       help="cache sizes, in pages with --unit-pages, else in tokens")
    sizes.add_argument("--log-sizes", type=int, metavar="COUNT",
                       help="COUNT sizes log-spaced from --low %% of the footprint to all of it")
    parser.add_argument("--low", type=float, default=0.1, metavar="PERCENT",
                        help="smallest size of --log-sizes, in %% of the footprint (0.1)")
    parser.add_argument("--unit-pages", action="store_true",
                        help="classic mode: every page is one token, sizes in pages")
    parser.add_argument("--sample", type=float, metavar="RATE",
                        help="spatial sampling at RATE (e.g. 0.01): SHARDS for LRU, miniature "
                             "simulations for the others; points say exact false")
    parser.add_argument("--min-pages", type=int, default=DEFAULT_MIN_PAGES, metavar="M",
                        help=f"with --sample: a miniature cache holds at least M pages, the "
                             f"rate of small sizes is raised to reach it ({DEFAULT_MIN_PAGES})")
    parser.add_argument("--max-error", type=float, default=DEFAULT_MAX_ERROR, metavar="SE",
                        help=f"with --sample: a point whose estimated standard error is above "
                             f"SE is computed again at a higher rate; 0: never "
                             f"({DEFAULT_MAX_ERROR})")
    parser.add_argument("--jobs", type=int, default=0, metavar="N",
                        help="exact curves: processes computing points at once (default 0: "
                             "one per core; 1: in this process)")
    parser.add_argument("--salt", type=int, default=0,
                        help="with --sample: another salt samples other pages")
    parser.add_argument("--seed", type=int, default=0, help="generator: random seed")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--no-progress", action="store_true", help="never draw a progress bar")


def run_mrc(args: argparse.Namespace, out: TextIO, source: Source) -> int:
    policies = [p.strip() for p in args.policies.split(",") if p.strip()]
    if not policies:
        raise ConfigError("needs at least one policy", field="--policies")
    if args.log_sizes is not None:
        if not 0 < args.low <= 100:
            raise ConfigError(f"expected a percentage in (0, 100], got {args.low:g}",
                              field="--low")
        total = footprint(source, args.unit_pages).of(args.unit_pages)
        if total < 1:
            raise ConfigError("the trace has no read or write", field="trace")
        try:
            sizes = log_sizes(total, args.log_sizes, args.low / 100)
        except ConfigError as exc:
            raise ConfigError(exc.message, field="--log-sizes") from None
    else:
        sizes = args.sizes
    if args.sample is not None and not 0 < args.sample <= 1:
        raise ConfigError(f"a sampling rate is a fraction in (0, 1], got {args.sample:g}",
                          field="--sample")
    if args.min_pages < 0:
        raise ConfigError(f"expected an integer >= 0, got {args.min_pages}", field="--min-pages")
    if not args.max_error >= 0:
        raise ConfigError(f"expected a number >= 0, got {args.max_error:g}", field="--max-error")
    if args.jobs < 0:
        raise ConfigError(f"expected a number of processes >= 0, got {args.jobs}",
                          field="--jobs")
    bar = None
    if not args.no_progress and sys.stderr.isatty():
        bar = ProgressBar(len(policies) * len(sizes), label="mrc", unit="points")
    try:
        result = miss_ratio_curves(source, policies, sizes, unit_pages=args.unit_pages,
                                   rate=args.sample, min_pages=args.min_pages,
                                   max_error=args.max_error or None, salt=args.salt,
                                   processes=args.jobs or os.cpu_count() or 1,
                                   on_point=_counting(bar) if bar else None)
    finally:
        if bar is not None:
            bar.close()
    if args.json:
        out.write(json.dumps(result.to_dict()) + "\n")
    else:
        out.write(format_curves(result, source.label) + "\n")
    return 0


def _counting(bar: ProgressBar) -> Callable[[CellResult], None]:
    """An ``on_point`` that draws the points computed so far (a sampled point computed again
    at a higher rate counts once)."""
    done: set[tuple[str, int]] = set()

    def on_point(point: CellResult) -> None:
        done.add((point.policy, point.size))
        bar.draw(len(done), time.monotonic())

    return on_point


def _cell(point: Any) -> str:
    if point.exact:
        return f"{point.miss_ratio:.4f}"
    error = "?" if point.error is None else f"{point.error:.4f}"
    return f"~{point.miss_ratio:.4f}±{error}"


def format_curves(result: MrcResult, label: str) -> str:
    """A table: one row per size, one column per policy (miss ratios)."""
    unit = "pages" if result.unit_pages else "tokens"
    how = "exact" if result.rate is None else (
        f"sampled at rate {result.rate:g} (at least {result.min_pages} pages per miniature "
        f"cache); ~ marks an estimate ± its standard error")
    names = list(result.curves)
    width = max(9, *(len(n) for n in names)) if result.rate is None else max(
        17, *(len(n) for n in names))
    lines = [f"source: {label}", f"requests: {result.requests:,}   sizes in {unit}   {how}"]
    size_width = max(12, *(len(f"{size:,}") for size in result.sizes))
    header = f"{'size':>{size_width}} " + " ".join(f"{n:>{width}}" for n in names)
    lines += [header, "-" * len(header)]
    for row, size in enumerate(result.sizes):
        cells = " ".join(f"{_cell(result.curves[n].points[row]):>{width}}" for n in names)
        lines.append(f"{size:>{size_width},} {cells}")
    return "\n".join(lines)
