"""BM25 for demand paging: our incremental index against the maintained packages.

    .venv/bin/python bench/bm25.py [--repeat 3]

Pages are cut from the shipped conversations (``fixtures/sessions/``), ~60 words each. Two
patterns, timed as the best of ``--repeat`` runs:

* **a session**: pages arrive a turn at a time (4 per turn) and every turn asks 3 queries over
  the pages so far (demand paging, the manifest, a search) — what a chat does;
* **a static collection** of a few thousand pages: the time of one query.

The baseline of the ratios is our own index (``simulator/memory/bm25.py``). ``bm25s`` and
``rank-bm25`` are compared when installed (``pip install bm25s rank-bm25``; neither is a
dependency of the lab). Neither adds or removes a document: the index is rebuilt when the
pages changed, before the next query. bm25s's ``lucene`` method is the same BM25 as ours up to
the constant factor k1 + 1 (the script checks the scores agree); rank-bm25's idf differs.

Prints a Markdown table (paste it into bench/README.md, section "BM25").
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulator.memory.bm25 import BM25Index, terms  # noqa: E402

K1 = 1.5


def fixture_pages(n: int, seed: int = 0) -> list[str]:
    texts = []
    for path in sorted((ROOT / "fixtures" / "sessions").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            item = json.loads(line)
            texts += [item[k] for k in ("text",) if isinstance(item.get(k), str)]
            texts += [s.get("text", "") for s in item.get("sections", []) or []]
    words = " ".join(texts).split()
    rnd = random.Random(seed)
    pages = []
    for k in range(n):
        start = rnd.randrange(len(words) - 60)
        pages.append(" ".join(words[start:start + 60]) + f" item{k}")
    return pages


class Ours:
    def __init__(self) -> None:
        self.index = BM25Index(k1=K1)

    def add(self, doc_id: int, text: str) -> None:
        self.index.add(doc_id, text)

    def scores(self, query: str, candidates: list[int]) -> dict[int, float]:
        return self.index.scores(query, candidates)


class _Rebuilt:
    """A package without incremental updates: rebuilt when the pages changed."""

    def __init__(self) -> None:
        self.docs: dict[int, list[str]] = {}
        self.dirty = True

    def add(self, doc_id: int, text: str) -> None:
        self.docs[doc_id] = terms(text) or [""]
        self.dirty = True

    def scores(self, query: str, candidates: list[int]) -> dict[int, float]:
        if self.dirty:
            self.ids = list(self.docs)
            self.position = {d: k for k, d in enumerate(self.ids)}
            self.build([self.docs[d] for d in self.ids])
            self.dirty = False
        all_scores = self.score_all(terms(query))
        if all_scores is None:
            return {}
        return {d: float(all_scores[self.position[d]]) for d in candidates
                if d in self.position and all_scores[self.position[d]] > 0}


class BM25S(_Rebuilt):
    def build(self, corpus: list[list[str]]) -> None:
        import bm25s

        self.model = bm25s.BM25(k1=K1, b=0.75, method="lucene")
        self.model.index(corpus, show_progress=False)

    def score_all(self, query: list[str]):
        known = [t for t in query if t in self.model.vocab_dict]
        return self.model.get_scores(known) * (K1 + 1) if known else None


class RankBM25(_Rebuilt):
    def build(self, corpus: list[list[str]]) -> None:
        from rank_bm25 import BM25Okapi

        self.model = BM25Okapi(corpus, k1=K1, b=0.75)

    def score_all(self, query: list[str]):
        return self.model.get_scores(query)


def session(make: Callable[[], object], pages: list[str], rnd: random.Random) -> float:
    index = make()
    start = time.perf_counter()
    for n, text in enumerate(pages, 1):
        index.add(n, text)
        if n % 4 == 0:
            for _ in range(3):
                index.scores(rnd.choice(pages)[:120], list(range(1, n + 1)))
    return time.perf_counter() - start


def static_query(make: Callable[[], object], pages: list[str], rnd: random.Random,
                 queries: int = 100) -> float:
    index = make()
    for n, text in enumerate(pages, 1):
        index.add(n, text)
    ids = list(range(1, len(pages) + 1))
    index.scores("warm up", ids)
    start = time.perf_counter()
    for _ in range(queries):
        index.scores(rnd.choice(pages)[:120], ids)
    return (time.perf_counter() - start) / queries


def available() -> dict[str, Callable[[], object]]:
    found: dict[str, Callable[[], object]] = {"ours (simulator/memory/bm25.py)": Ours}
    for name, module, cls in (("bm25s", "bm25s", BM25S), ("rank-bm25", "rank_bm25", RankBM25)):
        try:
            __import__(module)
        except ImportError:
            print(f"{name} is not installed: not compared", file=sys.stderr)
        else:
            found[name] = cls
    return found


def check_agreement(impls: dict[str, Callable[[], object]]) -> None:
    if "bm25s" not in impls:
        return
    pages = fixture_pages(300, seed=1)
    ours, theirs = Ours(), BM25S()
    for n, text in enumerate(pages, 1):
        ours.add(n, text)
        theirs.add(n, text)
    ids = list(range(1, 301))
    a, b = ours.scores(pages[5][:120], ids), theirs.scores(pages[5][:120], ids)
    worst = max(abs(a[d] - b.get(d, 0.0)) / a[d] for d in a)
    assert worst < 1e-5, f"bm25s disagrees with our BM25 by {worst:.2e}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    impls = available()
    check_agreement(impls)
    rows = [("a session of 100 pages", lambda make, rnd: session(make, fixture_pages(100), rnd)),
            ("a session of 300 pages", lambda make, rnd: session(make, fixture_pages(300), rnd)),
            ("one query, 3,000 pages",
             lambda make, rnd: static_query(make, fixture_pages(3000), rnd))]
    names = list(impls)
    print("| pattern | " + " | ".join(f"{n} ms (x ours)" for n in names) + " |")
    print("|---|" + "---:|" * len(names))
    for label, run in rows:
        times = {n: min(run(impls[n], random.Random(k)) for k in range(args.repeat))
                 for n in names}
        base = times[names[0]]
        cells = [f"{1000 * times[n]:.2f} ({times[n] / base:.2f})" for n in names]
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
