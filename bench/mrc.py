"""Miss-ratio curves and trace analysis, as ratios measured in one run (docs/mrc.md).

    .venv/bin/python bench/mrc.py [--lru-accesses 1000000] [--accesses 10000000]
                                  [--policies lru,fifo,arc,s3fifo,sieve] [--analysis 10000000]
                                  [--workers 2] [--exact-cache FILE]

1. **Exact LRU in one pass vs one run.** The same Zipf(1.0) trace of 100,000 pages held in
   memory, as bench/engine.py: the exact LRU curve at 20 sizes (log-spaced, 0.1 % to 100 % of
   the footprint) against one engine run of LRU at one size (target: at most 2x). Best of
   three; the curve's misses at that size must equal the run's.
2. **Sampled vs exact.** A Zipf(1.0) trace of ``--accesses`` over ``--pages`` pages written to a
   file (plain ids, unit pages), 20 sizes log-spaced from 0.1 % to 100 % of the footprint: the
   exact curves of ``--policies`` (one simulation per size; LRU also in one pass) against the
   sampled ones at rate 0.01: alone, with a floor of ``--min-pages`` per miniature cache, and
   with the floor and the adaptive rate (targets: 20x faster, max |error| <= 0.01). Times are
   CPU seconds: the exact cells run on ``--workers`` processes, each timing its own cell, so
   the machine's cores shorten the wait, not the figure. ``--exact-cache`` keeps the exact
   curves of a trace (by its parameters and sizes) for the next run, which then times the
   sampled rows only and reports the exact seconds it stored.
3. **Analysis memory.** ``analyse`` streaming an ``--analysis``-access trace file in a
   subprocess: wall time and peak resident memory (target: under 300 MB).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import best_of  # noqa: E402 - bench/engine.py, beside this script

from simulator.engine.access import Access  # noqa: E402
from simulator.engine.config import SimConfig  # noqa: E402
from simulator.engine.mrc import (  # noqa: E402
    _SAMPLES,
    DEFAULT_MAX_ERROR,
    DEFAULT_MIN_PAGES,
    Cell,
    footprint,
    log_sizes,
    lru_curve,
    miss_ratio_curves,
    run_cell,
    source_spec,
)
from simulator.engine.simulation import Simulation  # noqa: E402
from simulator.engine.sources import TraceSource  # noqa: E402
from simulator.engine.traces import write_trace  # noqa: E402
from simulator.engine.workloads import zipf  # noqa: E402


class ListSource:
    """Accesses held in memory, as bench/engine.py feeds the engine."""

    label = "list"
    finite = True
    length = None

    def __init__(self, accesses: list[Access]) -> None:
        self.accesses = accesses

    def open(self):
        return iter(self.accesses)


def one_pass_vs_one_run(n: int) -> None:
    accesses = list(zipf(100_000, 1.0, n, seed=1))
    source = ListSource(accesses)
    sizes = log_sizes(footprint(source).pages, 20, 0.001)
    capacity = sizes[13]
    config = SimConfig.classic("lru", capacity)
    run_s, run = best_of(3, lambda: Simulation(config, iter(accesses)).run())
    curve_s, curve = best_of(3, lambda: lru_curve(source, sizes))
    point = next(p for p in curve.points if p.size == capacity)
    assert point.misses == run.misses, "the one-pass curve disagrees with the engine"
    print(f"\n## 1. exact LRU, {n:,} accesses, Zipf(1.0) over 100,000 pages, in memory")
    print("| what | seconds | x one run |\n|---|---:|---:|")
    print(f"| engine, classic LRU at {capacity:,} pages (baseline) | {run_s:.2f} | 1.00 |")
    print(f"| exact LRU curve, {len(sizes)} sizes in one pass | {curve_s:.2f} | "
          f"**{curve_s / run_s:.2f}** |")


def _exact_cell(spec: dict, policy: str, size: int) -> tuple[float, float]:
    """A worker's task: one exact cell's miss ratio and the CPU seconds it took."""
    started = time.process_time()
    ratio = run_cell(Cell(spec, policy, size)).miss_ratio
    return ratio, time.process_time() - started


def _exact_curves(spec: dict, policies: list[str], sizes: list[int], workers: int
                  ) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Every policy's exact curve, one simulation per size, on ``workers`` processes (the
    largest sizes first, which take longest); CPU seconds summed per policy."""
    tasks = sorted(((p, s) for p in policies for s in sizes), key=lambda t: -t[1])
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {task: pool.submit(_exact_cell, spec, *task) for task in tasks}
        done = {task: future.result() for task, future in futures.items()}
    exact = {p: [done[p, s][0] for s in sizes] for p in policies}
    seconds = {p: sum(done[p, s][1] for s in sizes) for p in policies}
    return exact, seconds


def _cached_exact(cache: Path | None, key: str, compute):
    stored = json.loads(cache.read_text()) if cache and cache.exists() else {}
    if key not in stored:
        stored[key] = compute()
        if cache:
            cache.write_text(json.dumps(stored))
    return stored[key]


def sampled_vs_exact(n: int, pages: int, policies: list[str], tmp: Path, workers: int,
                     cache: Path | None, floor: int) -> None:
    path = tmp / "zipf.txt"
    write_trace(path, zipf(pages, 1.0, n, seed=2, shuffle=True), fmt="plain")
    source = TraceSource(path, unit_pages=True)
    sizes = log_sizes(footprint(source).pages, 20, 0.001)
    spec = source_spec(source)
    key = json.dumps({"accesses": n, "pages": pages, "seed": 2, "sizes": sizes,
                      "policies": policies})
    exact, exact_s = _cached_exact(cache, key,
                                   lambda: _exact_curves(spec, policies, sizes, workers))
    one_pass_s, lru = best_of(1, lambda: lru_curve(source, sizes))
    if "lru" in exact:
        assert [p.miss_ratio for p in lru.points] == exact["lru"]
    total_exact = sum(exact_s.values())
    print(f"\n## 2. sampled vs exact, {n:,} accesses, Zipf(1.0) over {pages:,} pages, "
          f"sizes {sizes[0]:,}..{sizes[-1]:,} pages")
    print(f"exact, one simulation per size: {total_exact:.1f} CPU s "
          f"({', '.join(f'{p} {s:.1f}' for p, s in exact_s.items())}); "
          f"LRU in one pass: {one_pass_s:.1f} s")
    print("| sampling | seconds | x faster | " + " | ".join(
        f"{p} max err (est.)" for p in policies) + " |")
    print("|---|---:|---:|" + "---:|" * len(policies))
    for label, min_pages, max_error in (
            ("rate 0.01 alone (no floor, no adaptation)", 0, None),
            (f"rate 0.01, floor {floor} pages", floor, None),
            (f"rate 0.01, floor {floor}, adaptive to SE {DEFAULT_MAX_ERROR}", floor,
             DEFAULT_MAX_ERROR)):
        _SAMPLES.clear()  # each row takes its own sample, as a new request would
        started = time.process_time()
        result = miss_ratio_curves(source, policies, sizes, rate=0.01, min_pages=min_pages,
                                   max_error=max_error)
        seconds = time.process_time() - started
        cells = []
        for policy in policies:
            points = result.curves[policy].points
            error = max(abs(p.miss_ratio - e) for p, e in zip(points, exact[policy],
                                                              strict=True))
            estimate = max(p.error or 0.0 for p in points)
            cells.append(f"{error:.4f} ({estimate:.4f})")
        print(f"| {label} | {seconds:.1f} | **{total_exact / seconds:.1f}** | "
              + " | ".join(cells) + " |")


def analysis_memory(n: int, tmp: Path) -> None:
    path = tmp / "analysis.txt"
    write_trace(path, zipf(100_000, 1.0, n, seed=3), fmt="plain")
    code = ("import sys; from simulator.engine.analysis import analyse; "
            "from simulator.engine.traces import open_trace; "
            f"r = analyse(open_trace({str(path)!r})); print(r.references, r.pages)")
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True, cwd=ROOT).stdout.split()
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"\n## 3. analysis of {int(out[0]):,} accesses ({int(out[1]):,} pages) streamed "
          f"from a file: {seconds:.1f} s, peak RSS {peak_mb:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lru-accesses", type=int, default=1_000_000)
    parser.add_argument("--accesses", type=int, default=10_000_000)
    parser.add_argument("--pages", type=int, default=100_000)
    parser.add_argument("--policies", default="lru,fifo,arc,s3fifo,sieve")
    parser.add_argument("--analysis", type=int, default=10_000_000,
                        help="accesses of the analysis run (0 to skip)")
    parser.add_argument("--min-pages", type=int, default=DEFAULT_MIN_PAGES,
                        help="the floor of a miniature cache in the sampled rows")
    parser.add_argument("--workers", type=int, default=2,
                        help="processes for the exact cells (each times its own CPU)")
    parser.add_argument("--exact-cache", type=Path, default=None,
                        help="a JSON file keeping the exact curves between runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.analysis:  # first: the subprocess's peak is not mixed with anything else
            analysis_memory(args.analysis, Path(tmp))
        if args.lru_accesses:
            one_pass_vs_one_run(args.lru_accesses)
        if args.accesses:
            sampled_vs_exact(args.accesses, args.pages, args.policies.split(","), Path(tmp),
                             args.workers, args.exact_cache, args.min_pages)


if __name__ == "__main__":
    main()
