"""Fixtures for the policy tests: the shared real trace, found beside the repository."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

TRACE_NAME = "cloudPhysicsIO.plain.csv"
REPO_ROOT = Path(__file__).resolve().parents[3]


def _trace_candidates() -> list[Path]:
    """``$VMEM_SHARED_DIR/traces/<name>`` (or ``$VMEM_SHARED_DIR/<name>``), then the rule
    ``<repo>/../shared/traces/<name>``: CI clones the repository and puts ``shared/`` beside it."""
    out: list[Path] = []
    env = os.environ.get("VMEM_SHARED_DIR")
    if env:
        out += [Path(env) / "traces" / TRACE_NAME, Path(env) / TRACE_NAME]
    out.append(REPO_ROOT / ".." / "shared" / "traces" / TRACE_NAME)
    return out


@pytest.fixture(scope="session")
def cloudphysics() -> tuple[list[int], dict[int, int]]:
    """The cloudPhysics block trace: object ids in request order and each object's size (bytes).

    Skips when the file is absent. Sizes never change for an object in this trace.
    """
    path = next((p for p in _trace_candidates() if p.is_file()), None)
    if path is None:
        pytest.skip(
            f"shared trace {TRACE_NAME} not found; looked at "
            + ", ".join(str(p) for p in _trace_candidates())
            + " (set VMEM_SHARED_DIR to the directory that holds traces/)"
        )
    ids: list[int] = []
    sizes: dict[int, int] = {}
    with path.open(newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        assert header[:3] == ["time", "obj_id", "size"], header
        for row in reader:
            obj = int(row[1])
            ids.append(obj)
            sizes.setdefault(obj, int(row[2]))
    assert len(ids) == 113_872
    return ids, sizes


@pytest.fixture(scope="session")
def cloudphysics_misses(cloudphysics):
    """``misses(policy, capacity, sized=False)``: our miss count on the real trace, memoised so
    that the golden-number tests and the libCacheSim tests simulate each configuration once."""
    from simulator.engine.policies import make_policy

    from .driver import simulate_misses

    ids, sizes = cloudphysics
    memo: dict[tuple[str, int, bool], int] = {}

    def misses(policy: str, capacity: int, sized: bool = False) -> int:
        key = (policy, capacity, sized)
        if key not in memo:
            memo[key] = simulate_misses(
                make_policy(policy, capacity), ids, sizes if sized else None
            )
        return memo[key]

    return misses
