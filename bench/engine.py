"""Engine throughput as ratios against a bare ``OrderedDict`` LRU loop, in one process.

    .venv/bin/python bench/engine.py [--accesses 1000000] [--stream 10000000]

1. The same 1,000,000-access Zipf(1.0) trace of 100,000 pages, capacity 10,000, through
   (a) a bare OrderedDict LRU loop over the page ids, (b) the engine in classic mode with LRU
   (over the accesses, and over the same ids as ``PageReads``) and with each other classic
   policy, Denning's working set included, and (c) the full five-tier hierarchy with
   latencies. LRU also runs as a miss-ratio cell does: over bare ids, counting misses only
   (no refault test, no event log). Each figure is the best of three runs in CPU time of
   this process (steadier than wall-clock time on a shared machine); the ratios are what the
   targets are about (issue 11: LRU >= 0.33x, hierarchy >= 0.10x).
2. ``vmem simulate`` streaming a 10,000,000-access trace file from disk in a subprocess, against
   a bare Python script that reads the same file and runs the bare LRU loop over it, also in a
   subprocess; CPU time of each whole process (start-up included), alternately, best of
   ``--stream-runs`` (target: vmem >= 0.40x the script), and vmem's peak resident memory
   (target: under 300 MB).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections import OrderedDict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulator.engine.access import PageReads  # noqa: E402
from simulator.engine.config import SimConfig, TierConfig  # noqa: E402
from simulator.engine.simulation import Simulation  # noqa: E402
from simulator.engine.traces import write_trace  # noqa: E402
from simulator.engine.workloads import zipf  # noqa: E402

PAGES, CAPACITY = 100_000, 10_000
TAU = 20_000  # the working set's window, in accesses


def bare_lru(ids: list[int], capacity: int) -> int:
    cache: OrderedDict[int, None] = OrderedDict()
    misses = 0
    for key in ids:
        if key in cache:
            cache.move_to_end(key)
        else:
            misses += 1
            cache[key] = None
            if len(cache) > capacity:
                cache.popitem(last=False)
    return misses


def best_of(runs: int, fn) -> tuple[float, object]:
    best, value = float("inf"), None
    for _ in range(runs):
        start = time.process_time()
        value = fn()
        best = min(best, time.process_time() - start)
    return best, value


def in_process(n: int) -> list[tuple[str, float, float, int]]:
    accesses = list(zipf(PAGES, 1.0, n, seed=1))
    ids = [a.page_id for a in accesses]
    base, base_misses = best_of(3, lambda: bare_lru(ids, CAPACITY))
    rows = [("bare OrderedDict LRU", n / base, 1.0, base_misses)]
    for policy in ("lru", "fifo", "clock", "sieve", "lfu", "arc", "2q", "s3fifo", "nru", "aging"):
        config = SimConfig.classic(policy, CAPACITY)
        seconds, result = best_of(3, lambda c=config: Simulation(c, iter(accesses)).run())
        rows.append((f"engine classic {policy}", n / seconds, base / seconds, result.faults))
        if policy == "lru":
            assert result.faults == base_misses, "engine LRU disagrees with the bare loop"
            # the same ids the bare loop reads, as PageReads: no Access per read
            seconds, result = best_of(3, lambda c=config: Simulation(c, PageReads(ids)).run())
            assert result.faults == base_misses, "engine LRU on bare ids disagrees"
            rows.append(("engine classic lru, bare ids", n / seconds, base / seconds,
                         result.faults))
            # what a miss-ratio cell runs (sweeps, `vmem mrc`): misses counted, no refault
            # test and no event log (the thrash index and the recent events are the lab's)
            seconds, result = best_of(3, lambda c=config: Simulation(
                c, PageReads(ids), track_refaults=False, max_events=0).run())
            assert result.faults == base_misses, "engine LRU, misses only, disagrees"
            rows.append(("engine classic lru, misses only", n / seconds, base / seconds,
                         result.faults))
    config = SimConfig(tiers=[TierConfig("L0", CAPACITY, "ws", policy_params={"tau": TAU})],
                       unit_pages=True)
    seconds, result = best_of(3, lambda: Simulation(config, iter(accesses)).run())
    rows.append((f"engine classic ws, tau {TAU:,}", n / seconds, base / seconds, result.faults))
    config = SimConfig.hierarchy(l0_tokens=CAPACITY)
    seconds, result = best_of(3, lambda: Simulation(config, iter(accesses)).run())
    rows.append(("engine 5-tier hierarchy, LRU", n / seconds, base / seconds, result.faults))
    return rows


#: the baseline of the streamed run: a bare script reading the trace file (one id a line)
BARE_SCRIPT = """
import sys
from collections import OrderedDict
cache, capacity, misses = OrderedDict(), int(sys.argv[2]), 0
with open(sys.argv[1]) as lines:
    for line in lines:
        key = int(line)
        if key in cache:
            cache.move_to_end(key)
        else:
            misses += 1
            cache[key] = None
            if len(cache) > capacity:
                cache.popitem(last=False)
print(misses)
"""


def child_cpu(cmd: list[str]) -> tuple[float, str]:
    """CPU seconds (user + system) of one child process, and its output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), out


def streamed(n: int, runs: int) -> tuple[float, float, float]:
    """Best CPU seconds of the bare script and of ``vmem simulate`` on the same file, and
    vmem's peak resident memory in MB."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "zipf.txt"
        write_trace(path, zipf(PAGES, 1.0, n, seed=2), fmt="plain")
        bare_cmd = [sys.executable, "-c", BARE_SCRIPT, str(path), str(CAPACITY)]
        vmem = ROOT / ".venv" / "bin" / "vmem"
        vmem_cmd = [str(vmem), "simulate", str(path), "--unit-pages", "--l0-tokens",
                    str(CAPACITY), "--json", "--no-progress"]
        bare_best = vmem_best = float("inf")
        for _ in range(runs):
            seconds, out = child_cpu(bare_cmd)
            bare_best, misses = min(bare_best, seconds), int(out)
            seconds, out = child_cpu(vmem_cmd)
            vmem_best = min(vmem_best, seconds)
            assert json.loads(out)["faults"] == misses, "vmem disagrees with the bare script"
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return bare_best, vmem_best, peak_mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accesses", type=int, default=1_000_000)
    parser.add_argument("--stream", type=int, default=10_000_000,
                        help="accesses for the streamed vmem run (0 to skip)")
    parser.add_argument("--stream-runs", type=int, default=2,
                        help="alternate runs of the bare script and vmem (best of)")
    parser.add_argument("--skip-in-process", action="store_true",
                        help="only the streamed comparison")
    args = parser.parse_args()
    print(f"Zipf(1.0), {PAGES:,} pages, capacity {CAPACITY:,}, {args.accesses:,} accesses")
    if not args.skip_in_process:
        print(f"{'what':<32} {'accesses/s':>12} {'x bare':>8} {'misses':>10}")
        for name, rate, ratio, misses in in_process(args.accesses):
            print(f"{name:<32} {rate:>12,.0f} {ratio:>8.3f} {misses:>10,}")
    if args.stream:
        bare, seconds, peak = streamed(args.stream, args.stream_runs)
        print(f"{args.stream:,} accesses streamed from a file, CPU seconds of the whole process:")
        print(f"  bare script (read + OrderedDict LRU): {bare:.1f} s "
              f"({args.stream / bare:,.0f}/s)")
        print(f"  vmem simulate: {seconds:.1f} s ({args.stream / seconds:,.0f}/s), "
              f"{bare / seconds:.3f}x the script, peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
