"""``vmem explain``: paging exercises like OSTEP's ``paging-policy.py``, generated.

    vmem explain --refs 1,2,3,4,1,2,5 --policy fifo --frames 3 [--solve] [--json]
    vmem explain --random 10 --pages 5 --seed 7 --policy lru --frames 3 --solve

Without ``--solve`` it prints the questions only (each reference: hit or miss? what is in
memory after it?); with it, every reference's hit or miss, the victim, the frames after it,
the policy's state and one sentence why, then the totals. ``--json`` prints one document:
``{"policy", "frames", "refs", "hits", "misses", "steps": [{"ref", "hit", "victim",
"frames", ...}]}`` (with ``--solve``; without it, the exercise without answers). The numbers are
the engine's classic mode (:mod:`simulator.engine.explain`); docs/teaching.md says what each
column means. Registered by :mod:`simulator.cli.main`.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any, TextIO
from urllib.parse import urlencode

from simulator.engine.errors import ConfigError
from simulator.engine.explain import (
    MAX_FRAMES,
    MAX_PAGES,
    MAX_REFS,
    Explanation,
    Ref,
    explain,
    format_refs,
    parse_refs,
    random_refs,
)

__all__ = ["add_explain_arguments", "format_exercise", "format_solution", "run_explain"]

_FLAGS = {"refs": "--refs", "random": "--random", "pages": "--pages", "seed": "--seed",
          "frames": "--frames", "policy": "--policy"}


def add_explain_arguments(parser: argparse.ArgumentParser,
                          param_pair: Callable[[str], tuple[str, Any]]) -> None:
    """The arguments of ``vmem explain``; ``param_pair`` parses ``NAME=VALUE`` as the other
    commands do."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--refs", metavar="1,2,3*,...",
                        help=f"the reference string (commas or spaces; * after a page marks a "
                             f"write; at most {MAX_REFS} references)")
    source.add_argument("--random", type=int, metavar="N",
                        help=f"draw N references (at most {MAX_REFS}) instead")
    parser.add_argument("--pages", type=int, default=10, metavar="P",
                        help=f"with --random: pages 0..P-1 (at most {MAX_PAGES}; 10)")
    parser.add_argument("--seed", type=int, default=0,
                        help="with --random: the draw; the random policy's seed (0)")
    parser.add_argument("--policy", default="fifo",
                        help="fifo (default), lru, opt, mru, lfu, clock, random, worst, eclock, "
                             "nru, aging, ws or any other policy")
    parser.add_argument("--frames", type=int, default=3,
                        help=f"page frames (1 to {MAX_FRAMES}; 3)")
    parser.add_argument("--param", action="append", type=param_pair, default=[],
                        metavar="NAME=VALUE", help="a parameter of the policy (tau=4 for ws)")
    parser.add_argument("--solve", action="store_true", help="print the answers")
    parser.add_argument("--json", action="store_true", help="print one JSON document")


def _refs(args: argparse.Namespace) -> list[Ref]:
    if args.random is not None:
        return random_refs(args.random, args.pages, args.seed)
    return parse_refs(args.refs)


def run_explain(args: argparse.Namespace, out: TextIO) -> int:
    try:
        refs = _refs(args)
        shown = explain(refs, args.policy, args.frames, seed=args.seed,
                        params=dict(args.param))
    except ConfigError as exc:
        flag = _FLAGS.get(exc.field or "", exc.field)
        raise ConfigError(exc.message, field=flag) from None
    if args.json:
        data = shown.to_dict()
        if not args.solve:
            data = {k: data[k] for k in ("policy", "frames", "params", "refs")}
        out.write(json.dumps(data) + "\n")
    else:
        text = format_solution(shown) if args.solve else format_exercise(shown)
        out.write(text + "\n")
    return 0


def lab_link(shown: Explanation) -> str:
    """The path of the same exercise on the teaching page."""
    query: dict[str, Any] = {"refs": format_refs(shown.refs), "policies": shown.policy,
                             "frames": shown.frames}
    if "tau" in shown.params:
        query["tau"] = shown.params["tau"]
    if shown.policy == "random":
        query["seed"] = shown.seed
    return "/teach/?" + urlencode(query)


def _heading(shown: Explanation) -> list[str]:
    params = "".join(f", {k}={v}" for k, v in shown.params.items())
    return [f"policy {shown.policy}{params}, {shown.frames} frames, "
            f"{len(shown.refs)} references: {format_refs(shown.refs)}",
            f"in the web lab: {lab_link(shown)}", ""]


def format_exercise(shown: Explanation) -> str:
    """The questions: for each reference, hit or miss, and what is in memory after it."""
    lines = _heading(shown)
    lines.append("For each reference, say whether it hits or misses, which page it evicts and "
                 "what the frames hold after it (* marks a write). --solve prints the answers.")
    lines += [f"{n:>4}  {ref!s:<9} hit/miss?  evicts?  frames?"
              for n, ref in enumerate(shown.refs, 1)]
    return "\n".join(lines)


def format_solution(shown: Explanation) -> str:
    """One row per reference (hit or miss, victim, frames, the policy's state), the sentence
    that explains it, and the totals."""
    lines = _heading(shown)
    width = max(9, 3 * shown.frames + 2)
    label = shown.steps[-1].state.order_label or "resident"
    header = f"{'#':>4}  {'ref':<9} {'':<4}  {'evicts':<8} {'frames':<{width}} state ({label})"
    lines += [header, "-" * len(header)]
    for n, step in enumerate(shown.steps, 1):
        frames = "[" + " ".join(p if p is not None else "." for p in step.frames) + "]"
        marks = step.state.marks
        order = " ".join(str(k) + (f"({marks[k]})" if k in marks else "")
                         for k in step.state.order)
        lines.append(f"{n:>4}  {step.ref!s:<9} {'hit' if step.hit else 'MISS':<4}  "
                     f"{step.victim or '-':<8} {frames:<{width}} {order}")
        lines.append(f"{'':>6}{step.why}")
    total = len(shown.steps)
    lines += ["", f"hits {shown.hits}  misses {shown.misses}  "
                  f"hit ratio {shown.hits / total:.2f}"]
    return "\n".join(lines)
