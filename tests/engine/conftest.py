"""Fixtures shared by the engine tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def shared_trace_candidates(name: str) -> list[Path]:
    """``$VMEM_SHARED_DIR/traces/<name>``, then ``<repo>/../shared/traces/<name>`` (CI clones
    the repository and puts ``shared/`` beside it)."""
    out: list[Path] = []
    env = os.environ.get("VMEM_SHARED_DIR")
    if env:
        out += [Path(env) / "traces" / name, Path(env) / name]
    out.append(REPO_ROOT / ".." / "shared" / "traces" / name)
    return out


@pytest.fixture(scope="session")
def cloudphysics_path() -> Path:
    """The real block-I/O trace from shared/traces (skips with the paths tried if absent)."""
    name = "cloudPhysicsIO.plain.csv"
    path = next((p for p in shared_trace_candidates(name) if p.is_file()), None)
    if path is None:
        tried = ", ".join(str(p) for p in shared_trace_candidates(name))
        pytest.skip(f"shared trace {name} not found; looked at {tried}")
    return path.resolve()
