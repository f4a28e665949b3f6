"""The cost model's work per call at calls 10, 100 and 1,000 of a long session.

    .venv/bin/python bench/cost.py [--calls 1100] [--repeat 3]

A session with a 128k-token context of 512-token pages (about 250 blocks a prompt) that is
full from the first call — a system prompt, documents and earlier turns — so calls 10, 100 and
1,000 send prompts of the same size and differ only in how long the session has run. Every
call evicts the oldest message pages and appends the new user and assistant pages (the worst
case for a prefix cache: the prompt breaks right after the documents each time); calls are 30 s
apart. For the shipped profiles of each cache shape it times ``CostModel.call`` alone and
reports the median microseconds per call in ten calls around each mark (best of
``--repeat`` runs), the ratio to call 10 (target: call 1,000 at most 3x call 10, the bar of
issue 12) and the cache entries held.

Prints a Markdown table (paste it into bench/README.md, section "Cost model").
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulator.memory.cost import Block, CostModel  # noqa: E402
from simulator.memory.pricing import shipped_profiles  # noqa: E402

WINDOW_TOKENS = 128_000
PAGE = 512
MARKS = (10, 100, 1000)
TARGET = 3.0


def session(calls: int):
    """(blocks, removed) for each call: the context stays full, the oldest messages go."""
    fixed = [Block("system:prompt", 1200)] + [Block(f"document:handbook#{i}", PAGE)
                                              for i in range(40)]
    room = (WINDOW_TOKENS - sum(b.tokens for b in fixed)) // PAGE
    messages = [Block(f"message:h{i:04d}", PAGE) for i in range(room)]
    for call in range(calls):
        new = [Block(f"message:t{call:05d}-assistant", PAGE // 2),
               Block(f"message:t{call:05d}-user", PAGE // 4)]
        gone = messages[:len(new)]
        messages = [*messages[len(new):], *new]
        yield [*fixed, *messages], {b.id: "evicted" for b in gone}


def run(profile, calls: int, **options) -> tuple[list[float], dict[int, int]]:
    model = CostModel(profile, **options)
    times, entries = [], {}
    fixed_len = 41
    for i, (blocks, removed) in enumerate(session(calls), 1):
        marks = [fixed_len - 1] if model.rules.mode == "explicit" else None
        start = time.perf_counter_ns()
        model.call(blocks, at=30.0 * i, output_tokens=200, removed=removed, breakpoints=marks)
        times.append((time.perf_counter_ns() - start) / 1000)
        if i in MARKS:
            entries[i] = len(model._entries)
    return times, entries


def around(times: list[float], mark: int) -> float:
    return statistics.median(times[max(0, mark - 6):mark + 4])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    profiles = shipped_profiles()
    cases = [("claude-sonnet-4.5", "breakpoints (last block)", {}),
             ("gpt-5", "automatic, 128-token steps", {}),
             ("gemini-2.5-pro", "automatic (implicit)", {}),
             ("gemini-2.5-pro", "explicit cache (documents)", {"use_explicit_cache": True})]
    blocks = len(next(iter(session(1)))[0])
    print(f"{blocks} blocks ({WINDOW_TOKENS:,} tokens) per prompt, {args.calls} calls, "
          f"best of {args.repeat}\n")
    print("| profile | cache | µs/call at 10 | at 100 | at 1,000 | 1,000 / 10 | target "
          "| entries at 1,000 |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    worst = 0.0
    for name, label, options in cases:
        best = {m: float("inf") for m in MARKS}
        for _ in range(args.repeat):
            times, entries = run(profiles[name], args.calls, **options)
            for m in MARKS:
                best[m] = min(best[m], around(times, m))
        ratio = best[1000] / best[10]
        worst = max(worst, ratio)
        print(f"| {name} | {label} | {best[10]:.0f} | {best[100]:.0f} | {best[1000]:.0f} | "
              f"**{ratio:.2f}** | ≤ {TARGET:g} | {entries[1000]:,} |")
    if worst > TARGET:
        sys.exit(f"call 1,000 costs {worst:.2f}x call 10 (target {TARGET:g}x)")


if __name__ == "__main__":
    main()
