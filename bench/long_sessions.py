"""Memory work per turn at turns 10, 100 and 1,000 of a long session (issue 12, item 6).

    .venv/bin/python bench/long_sessions.py [--turns 1000] [--preset vmem] [--restore]

A synthetic session (``simulator.llm.synthetic.long_script``) in a 128k-token window with
512-token pages, full from the first turn (a 100,000-word handbook as documents), user
messages of 80 words and answers of 40, a fact every 10 turns probed 25 turns later. The
scripted provider answers (no model); tokens are counted as words so that the model's side
costs nothing. Every turn is billed with Claude Sonnet 4.5's prompt cache.

For each mark it reports the median, over the ten turns around it, of the memory work of a
turn in milliseconds (``TurnResult.memory_seconds``: paging, packing, tools, the answer's
pages and the cost model) and its parts, the ratio to turn 10 (target: turn 1,000 at most 3x
turn 10), the pages the session holds and the prompt's size. With ``--restore`` it also times
what a chat turn did before sessions stayed live: rebuilding the session from its stored
state (``ChatSession.from_dict``, a replay of the whole journal) at each mark.

Prints a Markdown table (paste it into bench/README.md, section "Long sessions").
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulator.llm.costing import SessionCost  # noqa: E402
from simulator.llm.providers import ScriptedProvider  # noqa: E402
from simulator.llm.scripts import settings_for  # noqa: E402
from simulator.llm.session import ChatSession  # noqa: E402
from simulator.llm.synthetic import long_script  # noqa: E402
from simulator.memory.pricing import shipped_profile  # noqa: E402

MARKS = (10, 100, 1000)
TARGET = 3.0
PARTS = ("paging", "packing", "answer_pages", "cost")


def words(text: str) -> int:
    return len(text.split())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=1005)
    parser.add_argument("--preset", default="vmem")
    parser.add_argument("--restore", action="store_true",
                        help="also time a rebuild from the stored state at each mark")
    args = parser.parse_args()
    script = long_script(args.turns, context_window=131_072, page_size=512,
                         message_words=80, answer_words=40, document_words=100_000)
    provider = ScriptedProvider([t.reply or "OK." for t in script.turns], count=words,
                                context_window=131_072)
    settings, max_tokens = settings_for(script, args.preset)
    session = ChatSession(provider, settings, system_prompt=script.system,
                          max_tokens=max_tokens,
                          pricing=SessionCost(shipped_profile("claude-sonnet-4.5")))
    for doc in script.documents:
        for k, section in enumerate(doc["sections"]):
            session.memory.add_document(f"{doc['id']}-s{k}", section["text"])
    marks = [m for m in MARKS if m + 5 <= args.turns]
    pages: dict[int, int] = {}
    restore: dict[int, float] = {}
    start = time.perf_counter()
    for k, turn in enumerate(script.turns, 1):
        session.send(turn.text, labels=turn.labels, needs=turn.needs or None, fact=turn.fact)
        if k in marks:
            pages[k] = len(session.memory.pages)
            if args.restore:
                t0 = time.perf_counter()
                ChatSession.from_dict(session.to_dict(), provider)
                restore[k] = 1000 * (time.perf_counter() - t0)
    elapsed = time.perf_counter() - start
    results = session.results
    base = None
    print(f"{args.turns} turns, preset {args.preset}, {elapsed:.0f} s in all; recall "
          f"{session.totals()['recall_success']:.0%}\n")
    head = "| turn | memory ms | " + " | ".join(PARTS) + " | ratio to turn 10 | pages | prompt |"
    if args.restore:
        head += " rebuild ms |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for mark in marks:
        window = results[mark - 5:mark + 5]
        memory = 1000 * statistics.median(r.memory_seconds for r in window)
        parts = [1000 * statistics.median(r.timings.get(p, 0.0) for r in window) for p in PARTS]
        base = base or memory
        row = (f"| {mark:,} | {memory:.1f} | " + " | ".join(f"{p:.1f}" for p in parts) +
               f" | {memory / base:.2f}x | {pages[mark]:,} | "
               f"{results[mark - 1].cost['prompt_tokens']:,} |")
        if args.restore:
            row += f" {restore[mark]:,.0f} |"
        print(row)
    ratio = (1000 * statistics.median(r.memory_seconds for r in results[995:1005]) / base
             if 1000 in marks else None)
    if ratio is not None:
        verdict = "holds" if ratio <= TARGET else "does not hold"
        print(f"\nturn 1,000 / turn 10 = {ratio:.2f} (target at most {TARGET:g}x: {verdict})")


if __name__ == "__main__":
    main()
