"""Fixtures for the policy tests: the shared real trace, found beside the repository."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def cloudphysics(cloudphysics_path: Path) -> tuple[list[int], dict[int, int]]:
    """The cloudPhysics block trace (found by tests/engine/conftest.py, which skips when it
    is absent): object ids in request order and each object's size in bytes. Sizes never
    change for an object in this trace."""
    path = cloudphysics_path
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
