"""Instructions the engine executes for 100,000 accesses, for comparing two trees of the code
under load (instruction counts do not depend on what else the machine runs; wall-clock does).

    PYTHONHASHSEED=0 valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \\
        .venv/bin/python bench/instructions.py TREE POLICY N

TREE is a checkout whose ``simulator`` package is measured (this one: ``.``); POLICY a classic
policy, ``ws`` or ``hier`` (the five-tier hierarchy); N the accesses (run once with 0 and once
with 100000 and subtract: the set-up, imports and the Zipf trace, is the same in both).
Figures in bench/README.md.
"""

from __future__ import annotations

import sys

sys.path.insert(0, sys.argv[1])

from simulator.engine.config import SimConfig, TierConfig
from simulator.engine.simulation import Simulation
from simulator.engine.workloads import zipf

PAGES, CAPACITY, TRACE = 100_000, 10_000, 100_000


def config_for(policy: str) -> SimConfig:
    if policy == "hier":
        return SimConfig.hierarchy(l0_tokens=CAPACITY)
    if policy == "ws":
        return SimConfig(tiers=[TierConfig("L0", CAPACITY, "ws", policy_params={"tau": 20_000})],
                         unit_pages=True)
    return SimConfig.classic(policy, CAPACITY)


def main() -> None:
    policy, n = sys.argv[2], int(sys.argv[3])
    accesses = list(zipf(PAGES, 1.0, TRACE, seed=1))[: max(n, 1)]
    print(Simulation(config_for(policy), iter(accesses)).run().faults)


if __name__ == "__main__":
    main()
