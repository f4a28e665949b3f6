"""What an upload's validation costs, as ratios against bare loops measured in the same run.

    .venv/bin/python bench/uploads.py [--accesses 1000000] [--pages 1000000]

1. Time: the validation pass (the engine's reader and ``trace_stats``, as
   ``vmemsite.traces.services`` runs them) over a plain 1,000,000-access Zipf(1.0) trace of
   100,000 pages, against a bare loop that only parses the ids and counts them in a dict. Best
   of three (target: at least 0.03x of the bare loop; the reuse-distance histogram's Fenwick
   tree is most of the difference). The bounds of docs/traces.md (5 million accesses, 120 s)
   are chosen from it.
2. Memory: peak resident memory of ``trace_stats`` over 1,000,000 distinct pages (the default
   bound), in a subprocess, against a bare ``dict`` of page -> count in another (target: under
   2x the bare dict, under 200 MB).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulator.engine.traces import read_accesses, trace_stats  # noqa: E402
from simulator.engine.workloads import zipf  # noqa: E402

PAGES = 100_000


def bare_count(lines: list[bytes]) -> int:
    counts: dict[int, int] = {}
    for line in lines:
        page = int(line)
        counts[page] = counts.get(page, 0) + 1
    return len(counts)


def validate(lines: list[bytes]) -> int:
    return trace_stats(read_accesses(lines, "plain")).distinct_pages


def best_of(runs: int, fn, *args) -> tuple[float, object]:
    best, value = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        value = fn(*args)
        best = min(best, time.perf_counter() - start)
    return best, value


# VmHWM (the peak resident memory of this process's own address space) rather than ru_maxrss,
# which a child inherits from its parent on Linux.
_MEMORY = """
import re, sys
sys.path.insert(0, {root!r})
from simulator.engine.access import Access
from simulator.engine.traces import trace_stats
def peak():
    with open("/proc/self/status") as status:
        return int(re.search(r"VmHWM:\\s+(\\d+)", status.read()).group(1))
n = {pages}
before = peak()
if {bare}:
    counts = {{}}
    for i in range(n):
        page = (i * 7919) % n
        counts[page] = counts.get(page, 0) + 1
else:
    trace_stats(Access(float(i), (i * 7919) % n, 1) for i in range(n))
print(peak() - before)
"""


def peak_kib(pages: int, bare: bool) -> int:
    code = _MEMORY.format(root=str(ROOT), pages=pages, bare=bare)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    return int(out.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accesses", type=int, default=1_000_000)
    parser.add_argument("--pages", type=int, default=1_000_000)
    args = parser.parse_args()

    lines = [b"%d\n" % a.page_id for a in zipf(PAGES, 1.0, args.accesses, seed=1)]
    bare_s, bare_pages = best_of(3, bare_count, lines)
    pass_s, pass_pages = best_of(3, validate, lines)
    assert bare_pages == pass_pages
    n = args.accesses
    print(f"| bare parse-and-count loop (baseline) | {n / bare_s:,.0f} | 1.000 |")
    print(f"| validation pass (reader + trace_stats) | {n / pass_s:,.0f} | "
          f"**{bare_s / pass_s:.3f}** |")

    bare_kib, stats_kib = peak_kib(args.pages, True), peak_kib(args.pages, False)
    print(f"memory over {args.pages:,} distinct pages: bare dict {bare_kib / 1024:,.0f} MiB, "
          f"trace_stats {stats_kib / 1024:,.0f} MiB (**{stats_kib / bare_kib:.2f}x**, "
          f"{stats_kib * 1024 / args.pages:,.0f} bytes per page)")



if __name__ == "__main__":
    main()
