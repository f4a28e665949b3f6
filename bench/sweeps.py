"""A sweep's cells on 1 and on 2 worker processes (issue 11: 8 policies x 10 sizes with 2
workers in at most 0.6 times the time of 1).

    .venv/bin/python bench/sweeps.py [--accesses N] [--runs R]

The cells are what a sweep runs (``vmemsite.sweeps.cells.compute_cell`` on
:class:`~simulator.engine.mrc.Cell` dicts, exact simulation of a plain trace file in pages)
on a ``ProcessPoolExecutor`` with the spawn context, as ``vmemsite.sweeps.services`` does,
without the database around it. Wall-clock of the whole pool (start-up of the processes
included), 1 and 2 workers alternately, best of ``--runs``; the misses of every cell must be
equal in both. Figures in bench/README.md.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulator.engine.mrc import Cell
from simulator.engine.workloads import zipf
from vmemsite.sweeps.cells import compute_cell

POLICIES = ("lru", "fifo", "clock", "sieve", "lfu", "arc", "2q", "s3fifo")
PAGES = 100_000


def write_trace(path: Path, accesses: int) -> None:
    with path.open("w") as out:
        out.writelines(f"{acc[1]}\n" for acc in zipf(PAGES, 1.0, accesses, seed=1))


def cells(path: Path) -> list[dict]:
    sizes = [round(PAGES * f) for f in (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2,
                                        0.5, 1.0)]
    source = {"kind": "trace", "path": str(path), "format": "plain"}
    return [Cell(source, policy, size).to_dict() for policy in POLICIES for size in sizes]


def run_pool(specs: list[dict], workers: int) -> tuple[float, list[int]]:
    started = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        results = list(pool.map(compute_cell, specs))
    return time.perf_counter() - started, [r["misses"] for r in results]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accesses", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "zipf.txt"
        write_trace(path, args.accesses)
        specs = cells(path)
        best = {1: float("inf"), 2: float("inf")}
        misses = {}
        for _ in range(args.runs):
            for workers in (1, 2):
                seconds, misses[workers] = run_pool(specs, workers)
                best[workers] = min(best[workers], seconds)
                print(f"{workers} worker(s): {seconds:.1f} s", flush=True)
        assert misses[1] == misses[2], "the two runs disagree"
    print(f"{len(specs)} cells, {args.accesses:,} accesses: 1 worker {best[1]:.1f} s, "
          f"2 workers {best[2]:.1f} s, ratio {best[2] / best[1]:.3f} (target <= 0.6)")


if __name__ == "__main__":
    main()
