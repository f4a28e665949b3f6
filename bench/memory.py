"""A run's memory stays flat however long its window (issue 8.1).

    .venv/bin/python bench/memory.py [--accesses 10000000]

One simulation, two tiers (L0 LRU of 1,000 pages, L1 at a lognormal 5 ms: a continuous latency,
so nearly every fault costs a different figure), an endless Zipf(0.8) workload over 20,000
pages, the thrash window at its largest (1,000,000 accesses), and a window longer than the whole
run: every access falls in one open window. The peak resident memory (VmHWM) is read after a
tenth of the accesses and at the end; the target is growth under 10 % between the two (before
issue 8.1 each fault kept its latency twice and each refault its position, ~50 bytes per access).

With ``--scan POLICY`` the run is instead a scan of distinct pages (every page read once, so
every page but the last 1,000 is evicted and never comes back) through L0 alone under POLICY:
the same target, for the tables a run keeps per page (eviction stamps, sizes).

Prints a Markdown row (paste it into bench/README.md, section "Memory of a long run").
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulator.engine.access import PageReads  # noqa: E402
from simulator.engine.config import LatencyModel, SimConfig, TierConfig  # noqa: E402
from simulator.engine.simulation import Simulation  # noqa: E402
from simulator.engine.workloads import zipf  # noqa: E402

TARGET = 1.10


def peak_rss_mb() -> float:
    """VmHWM of this process (the kernel's high-water mark of resident memory), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accesses", type=int, default=10_000_000)
    parser.add_argument("--scan", metavar="POLICY",
                        help="a scan of distinct pages through L0 alone under POLICY")
    args = parser.parse_args()
    if args.scan:
        config = SimConfig.classic(args.scan, 1000)
        sim = Simulation(config, PageReads(range(args.accesses)))
    else:
        config = SimConfig(tiers=[
            TierConfig("L0", 1000, "lru"),
            TierConfig("L1", None, "lru", LatencyModel("lognormal", ms=5, sigma=0.5)),
        ], unit_pages=True, thrash_window=1_000_000, window_accesses=1_000_000).validate()
        sim = Simulation(config, zipf(20_000, 0.8, n=None, seed=1))
    sim.config.window_accesses = args.accesses * 10  # past the bound: one window for the run
    started = time.perf_counter()
    sim.run_until(accesses=args.accesses // 10)
    early = peak_rss_mb()
    sim.run_until(accesses=args.accesses)
    late = peak_rss_mb()
    seconds = time.perf_counter() - started
    ratio = late / early
    print("| accesses in one window | faults | VmHWM at 1/10 | VmHWM at the end | ratio | target |"
          " seconds |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {sim.index:,} | {sim.faults:,} | {early:.1f} MB | {late:.1f} MB | "
          f"**{ratio:.3f}** | ≤ {TARGET:.2f} | {seconds:.0f} |")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
